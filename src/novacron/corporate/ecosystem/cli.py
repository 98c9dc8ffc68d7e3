"""CLI: ``novacron corporate ecosystem …``: joint ventures, licensing, co-innovation labs,
academic and government partnerships, and the summary."""

from __future__ import annotations

import typer

from novacron.core.cli_support import get_context, handle_errors, render
from novacron.corporate.ecosystem.cli_common import BASE
from novacron.corporate.ecosystem.cli_jv import jv_app
from novacron.corporate.ecosystem.cli_licenses import licenses_app
from novacron.corporate.ecosystem.cli_programmes import academic_app, government_app, labs_app

ecosystem_app = typer.Typer(
    help="Ecosystem: joint ventures, licensing, labs, academic and government partnerships.",
    no_args_is_help=True,
)
ecosystem_app.add_typer(jv_app, name="jv")
ecosystem_app.add_typer(licenses_app, name="licenses")
ecosystem_app.add_typer(labs_app, name="labs")
ecosystem_app.add_typer(academic_app, name="academic")
ecosystem_app.add_typer(government_app, name="government")


@ecosystem_app.command("summary")
@handle_errors
def summary(
    ctx: typer.Context,
    today: str | None = typer.Option(None, "--today", help="As of this date (YYYY-MM-DD)"),
) -> None:
    """Counts, JV money, royalties recognised this year, certifications expiring."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{BASE}/summary", params={"today": today}))


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
    corporate.add_typer(ecosystem_app, name="ecosystem")
