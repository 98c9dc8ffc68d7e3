"""CLI: the M&A pipeline."""

from __future__ import annotations

import typer


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
