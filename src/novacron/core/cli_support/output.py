"""Output: what the API returned, as raw JSON (``--output json``) or as a table.

JSON mode prints exactly the server's answer so scripts can rely on it; table mode
renders a page or list of items with columns, or one object as key/value rows."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from novacron.core.cli_support.context import CLIContext
from novacron.core.cli_support.formatting import _step_name, fmt_time

Column = tuple[str, str | Callable[[dict[str, Any]], Any]]
"""A table column: header, and the item's key or a function of the item."""


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not stream.isatty() and not os.environ.get("COLUMNS"):
        width = 200  # piped output: don't squeeze ids into an 80-column box
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(str(v) for v in value) or "-"
        return json.dumps(value)
    return str(value)


def _get(item: dict[str, Any], getter: str | Callable[[dict[str, Any]], Any]) -> str:
    value = getter(item) if callable(getter) else item.get(getter)
    return _cell(value)


def render(
    ctx: CLIContext,
    data: Any,
    columns: Sequence[Column] | None = None,
    *,
    empty: str = "nothing to show",
) -> None:
    """JSON mode: exactly what the API returned. Table mode: a table of a page or list of
    items with ``columns``, or a key/value table of one object (all its fields)."""
    if ctx.json:
        print_json(data)
        return
    console = _console()
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items: list[Any] = data["items"]
        _render_table(console, items, columns, empty)
        total, offset = data.get("total"), int(data.get("offset") or 0)
        if isinstance(total, int) and total > len(items):
            first = offset + 1 if items else offset
            console.print(
                f"showing {first}-{offset + len(items)} of {total} (use --limit/--offset)"
            )
    elif isinstance(data, list):
        _render_table(console, data, columns, empty)
    elif isinstance(data, dict):
        render_object(console, data)
    elif data is not None:
        console.print(str(data), markup=False)


def _render_table(
    console: Console, items: list[Any], columns: Sequence[Column] | None, empty: str
) -> None:
    if not items:
        console.print(empty, markup=False)
        return
    if columns is None:
        columns = [(key, key) for key in items[0]] if isinstance(items[0], dict) else []
    table = Table(box=None, header_style="bold", pad_edge=False)
    for header, _ in columns:
        table.add_column(header.upper(), overflow="fold")
    for item in items:
        table.add_row(*(_get(item, getter) for _, getter in columns))
    console.print(table)


def render_object(console: Console, data: dict[str, Any]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        if key == "steps" and isinstance(value, list):
            shown = ", ".join(
                f"{_step_name(s)} ({s.get('state', '?')})" for s in value if isinstance(s, dict)
            )
            table.add_row(key, shown or "-")
        elif key.endswith("_at") and isinstance(value, str):
            table.add_row(key, fmt_time(value))
        else:
            table.add_row(key, _cell(value))
    console.print(table)


def message(ctx: CLIContext, text: str, data: Any) -> None:
    """A human confirmation line in table mode; ``data`` as JSON in JSON mode, so that
    ``--output json`` always prints exactly one JSON document on stdout."""
    if ctx.json:
        print_json(data)
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
