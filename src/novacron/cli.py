"""Root CLI: ``novacron up | server | agent`` plus each slice's sub-commands."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import typer

from novacron import __version__
from novacron.core.cli_support import CLIContext, run_app

app = typer.Typer(
    name="novacron",
    help="NovaCron: run virtual machines across a fleet of Linux hosts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"novacron {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    url: str = typer.Option(
        "http://127.0.0.1:8080", "--url", envvar="NOVACRON_URL", help="Server URL"
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="NOVACRON_TOKEN",
        help="API token (default: the one novacron login stored, else <data-dir>/admin-token)",
    ),
    project: str | None = typer.Option(
        None,
        "--project",
        envvar="NOVACRON_PROJECT",
        help="Project (name or id) to act in (default: your default project)",
    ),
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="table or json"),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit",
    ),
) -> None:
    ctx.obj = CLIContext(url=url, token=token, output=output.value, project=project or None)


def _mount() -> None:
    from novacron.compute.cli import register as register_compute
    from novacron.corporate.cli import register as register_corporate
    from novacron.security.cli import register as register_security
    from novacron.server_cli import register as register_server

    register_server(app)
    register_security(app)
    register_compute(app)
    register_corporate(app)


_mount()


def main(argv: Sequence[str] | None = None) -> None:
    """The ``novacron`` console script: every failure is one ``error:`` line on stderr
    (usage errors exit 2, Ctrl-C 130, anything else 1), never a traceback."""
    run_app(app, argv)
