"""``novacron corporate …``: a client of the corporate REST API.

Each sub-slice adds its own nouns (``targets``, ``diligence``, ``programmes``,
``partners`` …) through its ``register``, so commands read
``novacron corporate targets list``.
"""

from __future__ import annotations

import typer

from novacron.corporate.calc import cli as calc_cli
from novacron.corporate.ecosystem import cli as ecosystem_cli
from novacron.corporate.export import cli as export_cli
from novacron.corporate.imports import cli as imports_cli
from novacron.corporate.integration import cli as integration_cli
from novacron.corporate.ma import cli as ma_cli
from novacron.corporate.partners import cli as partners_cli
from novacron.corporate.strategy import cli as strategy_cli

corporate_app = typer.Typer(
    help="Corporate development: M&A, valuation, integration, partnerships, dashboard.",
    no_args_is_help=True,
)

for _sub in (
    ma_cli,
    integration_cli,
    partners_cli,
    ecosystem_cli,
    strategy_cli,
    calc_cli,
    export_cli,
    imports_cli,
):
    _sub.register(corporate_app)


def register(app: typer.Typer) -> None:
    app.add_typer(corporate_app, name="corporate")
