"""CLI: ``novacron corporate valuations export TARGET VERSION --file out.xlsx``.

The command joins the M&A slice's ``valuations`` group (added at registration, so that
slice's files stay its own). ``--file`` and not ``--output``: the root CLI owns that name.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import typer

from novacron.core.cli_support import get_context, handle_errors, message, seg
from novacron.core.errors import Invalid

DISPOSITION = re.compile(r"filename\*=UTF-8''([^;]+)|filename=\"([^\"]+)\"")


def filename_of(disposition: str | None, fallback: str) -> str:
    """The server's file name (RFC 6266, UTF-8 form preferred), without any directory."""
    match = DISPOSITION.search(disposition or "")
    name = (unquote(match.group(1)) if match.group(1) else match.group(2)) if match else fallback
    return Path(name).name or fallback


def valuations_export(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Target name or id"),
    version: int = typer.Argument(..., help="Valuation version"),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Where to write the .xlsx (default: the server's name, here)"
    ),
) -> None:
    """Export a DCF valuation version as an Excel workbook with live formulas."""
    cli = get_context(ctx)
    path = f"/corporate/targets/{seg(target)}/valuations/{version}/export.xlsx"
    with cli.client() as api, api.stream("GET", path) as response:
        data = response.read()
        name = filename_of(response.headers.get("content-disposition"), f"v{version}.xlsx")
    out = file if file is not None else Path(name)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise Invalid(
            f"cannot write {out}: {exc.strerror}", errors=[{"loc": ["file"], "msg": "not writable"}]
        ) from None
    message(cli, f"wrote {out} ({len(data):,} bytes)", {"file": str(out), "bytes": len(data)})


def register(corporate: typer.Typer) -> None:
    from novacron.corporate.ma.cli_valuations import valuations_app

    valuations_app.command("export")(handle_errors(valuations_export))
