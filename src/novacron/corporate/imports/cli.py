"""CLI: ``novacron corporate import targets|partners FILE.csv [--dry-run] [--partial]``.

Prints a summary line and the row errors as a table (ROW FIELD VALUE MESSAGE); when the
server rejects the file (rows failed, no ``--partial``) the table still prints on stdout and
the command ends with one ``error:`` line and exit 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import (
    CLIContext,
    Column,
    fail,
    format_error,
    get_context,
    handle_errors,
    print_json,
    render,
)
from novacron.core.errors import Invalid
from novacron.corporate.imports import csv_import as ci

import_app = typer.Typer(
    help="Import targets or partners from CSV, with a row-level error report.",
    no_args_is_help=True,
)

ERROR_COLUMNS: list[Column] = [
    ("row", "row"),
    ("field", lambda e: e.get("field") or "(row)"),
    ("value", "value"),
    ("message", "msg"),
]
FILE = typer.Argument(..., help="The CSV file (header row first; UTF-8 unless --encoding)")
DRY_RUN = typer.Option(False, "--dry-run", help="Validate and report; write nothing")
PARTIAL = typer.Option(False, "--partial", help="Import the valid rows even when others fail")
ENCODING = typer.Option(None, "--encoding", help="Text encoding when not UTF-8, e.g. cp1252")


def read_file(path: Path) -> bytes:
    """The file's bytes; ``Invalid`` naming ``file`` when unreadable or over the limit."""
    try:
        size = path.stat().st_size
        ci.check_size(size)
        return path.read_bytes()
    except OSError as exc:
        raise Invalid(
            f"cannot read {path}: {exc.strerror}",
            errors=[{"loc": ["file"], "msg": f"cannot read {path}"}],
        ) from None


def _summary(report: dict[str, Any], noun: str) -> str:
    rows, valid = report.get("rows", 0), report.get("valid", 0)
    if report.get("dry_run"):
        return f"dry run: {valid} of {rows} row(s) valid, nothing written"
    return f"created {report.get('created', 0)} {noun}(s) from {rows} row(s)"


def run(ctx: typer.Context, kind: str, noun: str, file: Path, dry_run: bool, partial: bool,
        encoding: str | None) -> None:  # fmt: skip
    cli = get_context(ctx)
    data = read_file(file)
    params = {"dry_run": dry_run, "partial": partial, "encoding": encoding}
    try:
        with cli.client() as api:
            report = api.request(
                "POST", f"/corporate/{kind}/import", params=params, content=data,
                headers={"Content-Type": "text/csv"},
            )  # fmt: skip
    except Invalid as exc:
        _show_rejection(cli, exc)
        raise
    if cli.json:
        print_json(report)
        return
    sys.stdout.write(_summary(report, noun) + "\n")
    if report.get("errors"):
        render(cli, report["errors"], ERROR_COLUMNS)


def _show_rejection(cli: CLIContext, exc: Invalid) -> None:
    """The row errors of a rejected file on stdout (the one error line follows on stderr)."""
    rows = [e for e in exc.errors if isinstance(e, dict) and "row" in e]
    if not rows:
        return
    if cli.json:
        print_json({"errors": rows})
    else:
        render(cli, rows, ERROR_COLUMNS)
    fail(_one_line(exc))


def _one_line(exc: Invalid) -> str:
    """The server's summary, not every row again (the table has them)."""
    return exc.detail or format_error(exc)


@import_app.command("targets")
@handle_errors
def import_targets(
    ctx: typer.Context,
    file: Path = FILE,
    dry_run: bool = DRY_RUN,
    partial: bool = PARTIAL,
    encoding: str | None = ENCODING,
) -> None:
    """Import acquisition targets (columns: the fields of `targets create`)."""
    run(ctx, "targets", "target", file, dry_run, partial, encoding)


@import_app.command("partners")
@handle_errors
def import_partners(
    ctx: typer.Context,
    file: Path = FILE,
    dry_run: bool = DRY_RUN,
    partial: bool = PARTIAL,
    encoding: str | None = ENCODING,
) -> None:
    """Import partners (columns: the fields of `partners create`, plus contact_name,
    contact_email, contact_role, contact_phone for one contact)."""
    run(ctx, "partners", "partner", file, dry_run, partial, encoding)


def register(corporate: typer.Typer) -> None:
    corporate.add_typer(import_app, name="import")
