"""Shared options and helpers of the compute commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import typer

from novacron.core.cli_support import ApiClient, CLIContext, render, wait_operation

NO_WAIT = typer.Option(False, "--no-wait", help="Print the operation and return at once")
LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")


def one_of(allowed: Sequence[str], what: str) -> Callable[[str | None], str | None]:
    """An option callback refusing values not in ``allowed`` before any request, e.g.
    ``invalid value for '--state': 'bogus' is not a VM state (one of: …)``."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not {what} (one of: {', '.join(allowed)})")
        return value

    return check


def _finish(
    cli: CLIContext,
    api: ApiClient,
    operation: dict[str, Any],
    no_wait: bool,
    then_get: str | None,
) -> dict[str, Any] | None:
    """Print the operation (``--no-wait``), or wait for it and print ``GET then_get``.

    Returns the final operation, or None with ``--no-wait``."""
    if no_wait:
        render(cli, operation)
        return None
    final = wait_operation(api, operation["id"], show_progress=not cli.json)
    if then_get is not None:
        render(cli, api.get(then_get))
    return final
