"""``novacron audit list | verify | export``: the hash-chained audit log.

``verify`` asks the server to recompute the chain, or, with ``--database-url``, reads the
database itself: for forensics when the server is down or is not to be trusted.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import (
    CLIContext,
    Column,
    fail,
    get_context,
    handle_errors,
    message,
    print_json,
    render,
)
from novacron.core.errors import NovaCronError
from novacron.security.cli_common import fmt_when, time_option

audit_app = typer.Typer(help="The tamper-evident audit log (platform admins).")

AUDIT_COLUMNS: list[Column] = [
    ("seq", "seq"),
    ("time", lambda r: fmt_when(r.get("ts"))),
    ("actor", "actor"),
    ("action", "action"),
    ("target", "target"),
    ("outcome", "outcome"),
    ("status", "status_code"),
    ("source", "source_ip"),
]

SINCE = typer.Option(None, "--since", help="From this time: ISO 8601, or an age like 24h, 7d")
UNTIL = typer.Option(None, "--until", help="Before this time: ISO 8601, or an age like 1h")


@audit_app.command("list")
@handle_errors
def audit_list(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor", help="Who acted (user name)"),
    action: str | None = typer.Option(None, "--action", help="Action prefix, e.g. auth."),
    outcome: str | None = typer.Option(None, "--outcome", help="success, failure or denied"),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    after_seq: int | None = typer.Option(None, "--after-seq", help="Records after this seq"),
    limit: int = typer.Option(100, "--limit", help="Records per page (1-1000)"),
) -> None:
    """Audit records, oldest first."""
    cli = get_context(ctx)
    params = {
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "since": time_option(since, "--since"),
        "until": time_option(until, "--until"),
        "after_seq": after_seq,
        "limit": limit,
    }
    with cli.client() as api:
        page = api.get("/audit", params=params)
    if cli.json:
        print_json(page)
        return
    render(cli, page["items"], AUDIT_COLUMNS, empty="no audit records")
    if page.get("next_after_seq") is not None:
        sys.stdout.write(f"more: --after-seq {page['next_after_seq']}\n")


def _masked(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing to hide
        return url


def verify_database(url: str) -> dict[str, Any]:
    """Verify the chain straight from a database; the fields of the API's answer."""
    from sqlalchemy.exc import SQLAlchemyError

    from novacron.core.database import Database
    from novacron.security.audit import log as audit_log

    if "://" not in url:  # a path: the SQLite file of a server's data dir
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():  # connecting would create an empty database
            raise NovaCronError(f"no database file at {path}")
    try:
        db = Database(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise NovaCronError(f"cannot open {_masked(url)}: {exc}") from exc
    try:
        with db.read() as s:
            result = audit_log.verify(s)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise NovaCronError(f"cannot read the audit log from {_masked(url)}: {reason}") from exc
    finally:
        db.dispose()
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_seq": result.first_seq,
        "last_seq": result.last_seq,
        "broken_at": result.broken_at,
        "reason": result.reason,
        "summary": result.summary(),
    }


def report_verification(cli: CLIContext, result: dict[str, Any]) -> None:
    """Intact: the summary, exit 0. Broken: exit 1 naming the first broken seq."""
    if result.get("ok"):
        message(cli, str(result.get("summary")), result)
        return
    if cli.json:
        print_json(result)
    summary = result.get("summary") or (
        f"audit chain BROKEN at seq {result.get('broken_at')}: {result.get('reason')}"
    )
    fail(str(summary))


@audit_app.command("verify")
@handle_errors
def audit_verify(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Verify from this database (URL or SQLite file) without a server",
    ),
) -> None:
    """Recompute the hash chain: exit 0 when intact, 1 naming the first broken record."""
    cli = get_context(ctx)
    if database_url:
        result = verify_database(database_url)
    else:
        with cli.client() as api:
            result = api.get("/audit/verify")
    report_verification(cli, result)


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def count_records(text: str, fmt: ExportFormat) -> int:
    if fmt is ExportFormat.json:
        return sum(1 for line in text.splitlines() if line.strip())
    return max(0, sum(1 for _ in csv.reader(io.StringIO(text))) - 1)  # minus the header


def _write_private(path: Path, text: str) -> None:
    """The export holds who did what from where: readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NovaCronError(f"cannot write {path}: {exc.strerror}") from exc


@audit_app.command("export")
@handle_errors
def audit_export(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(ExportFormat.json, "--format", help="json (lines) or csv"),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    out: Path | None = typer.Option(None, "--out", help="Write to this file (else stdout)"),
) -> None:
    """Export records with their hashes (JSON Lines or CSV), so a copy can be checked."""
    cli = get_context(ctx)
    params = {
        "format": fmt.value,
        "since": time_option(since, "--since"),
        "until": time_option(until, "--until"),
    }
    with cli.client() as api:
        response = api.send("GET", "/audit/export", params=params)
        if not response.is_success:
            api.decode(response)  # raises the server's problem
    text = response.text
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _write_private(out, text)
    records = count_records(text, fmt)
    message(
        cli,
        f"exported {records} audit records to {out}",
        {"path": str(out), "format": fmt.value, "records": records},
    )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
