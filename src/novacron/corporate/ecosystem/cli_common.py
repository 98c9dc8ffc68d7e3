"""What the ecosystem commands share: the API path, option parsing, detail rendering."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console

from novacron.core.cli_support import CLIContext, Column, render
from novacron.core.cli_support.output import render_object
from novacron.core.errors import Invalid

BASE = "/corporate/ecosystem"
LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")


def pair(text: str, option: str, sep: str = "=") -> tuple[str, str]:
    """``NAME=VALUE`` of a repeatable option, or one ``error:`` line naming the option."""
    name, found, value = text.rpartition(sep)
    if not found or not name.strip() or not value.strip():
        raise Invalid(
            f"{option}: {text!r} is not NAME{sep}VALUE",
            errors=[{"loc": [option.lstrip("-")], "msg": f"expected NAME{sep}VALUE, got {text!r}"}],
        )
    return name.strip(), value.strip()


def some(**fields: Any) -> dict[str, Any]:
    """The fields that were given (None means: let the server use its default)."""
    return {key: value for key, value in fields.items() if value is not None}


def show(
    cli: CLIContext,
    data: dict[str, Any],
    sections: Sequence[tuple[str, str, Sequence[Column]]] = (),
) -> None:
    """JSON mode: the server's answer. Table mode: the object's plain fields, then one
    table per list field in ``sections`` (title, key, columns)."""
    if cli.json:
        render(cli, data)
        return
    listed = {key for _, key, _ in sections}
    console = Console(highlight=False, soft_wrap=False, width=200)
    render_object(console, {k: v for k, v in data.items() if k not in listed})
    for title, key, columns in sections:
        console.print(f"\n{title}", style="bold", markup=False)
        render(cli, data.get(key) or [], columns, empty="  none")
