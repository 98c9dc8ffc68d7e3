"""What the integration commands share: options, the programme path, table helpers."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import seg

LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")
PROGRAMME = typer.Argument(..., help="Programme id (or its M&A target's id)")
AS_OF = typer.Option(None, "--as-of", help="Compute RAG and roll-ups as of this date (YYYY-MM-DD)")


def base(programme: str) -> str:
    return f"/corporate/programmes/{seg(programme)}"


def pct(value: Any) -> str:
    return "-" if value is None else f"{value:g}%"


def given(**fields: Any) -> dict[str, Any]:
    """A request body of the options the user actually gave."""
    return {k: v for k, v in fields.items() if v is not None}
