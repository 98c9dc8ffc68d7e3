"""CLI: Stateless calculations of the finance engine over HTTP and the CLI."""

from __future__ import annotations

import typer


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
