"""Root CLI: ``novacron up | server | agent`` plus each slice's sub-commands."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from novacron.core.cli_support import CLIContext, fail

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


@app.callback()
def root(
    ctx: typer.Context,
    url: str = typer.Option(
        "http://127.0.0.1:8080", "--url", envvar="NOVACRON_URL", help="Server URL"
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="NOVACRON_TOKEN", help="API token (default: <data-dir>/admin-token)"
    ),
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="table or json"),
) -> None:
    ctx.obj = CLIContext(url=url, token=token, output=output.value)


def _mount() -> None:
    from novacron.compute.cli import register as register_compute
    from novacron.server_cli import register as register_server

    register_server(app)
    register_compute(app)


_mount()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # last resort: one line, never a traceback
        fail(str(exc) or exc.__class__.__name__)
