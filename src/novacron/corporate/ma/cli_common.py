"""What the M&A commands share: options, body building, JSON input, money cells."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from novacron.core.errors import Invalid

LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")
TARGET = typer.Argument(..., help="Target name or id")


def body_of(**fields: Any) -> dict[str, Any]:
    """The options that were given (None = not given), for a request body."""
    return {k: v for k, v in fields.items() if v is not None}


def clearing(body: dict[str, Any], clear: list[str] | None) -> dict[str, Any]:
    """``--clear FIELD`` sends ``null`` for it (an optional field back to unset)."""
    for name in clear or []:
        body[name.replace("-", "_")] = None
    return body


def read_json(value: str, field: str) -> Any:
    """Inline JSON (``{…}`` or ``[…]``), ``-`` for stdin, or a file path; ``Invalid``
    naming ``field`` when it isn't JSON or the file can't be read."""
    text = value
    if value == "-":
        text = sys.stdin.read()
    elif not value.lstrip().startswith(("{", "[")):
        try:
            text = Path(value).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise Invalid(
                f"cannot read {field} from {value}: {exc.strerror}",
                errors=[{"loc": [field], "msg": f"cannot read {value}"}],
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(
            f"{field} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            errors=[{"loc": [field], "msg": "not valid JSON"}],
        ) from None


def money(item: dict[str, Any], key: str, currency_key: str = "currency") -> str:
    """``12,500,000 USD`` from a decimal string field, ``-`` when unset."""
    value = item.get(key)
    if value in (None, ""):
        return "-"
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    shown = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{shown} {item.get(currency_key) or ''}".strip()


def tick(met: Any) -> str:
    return "yes" if met else "NO"
