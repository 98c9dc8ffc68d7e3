"""``novacron compliance …``: run the checks, read runs and their trend, download
reports, mute accepted risks (platform admins).

    novacron compliance run [--fail-on high]      run every check now
    novacron compliance runs | trend              past runs; pass rate over time
    novacron compliance show RUN [--status fail]  a run's findings (RUN may be "latest")
    novacron compliance report RUN --format html|csv|ocsf|sarif [--out FILE]
    novacron compliance checks                    the catalogue
    novacron compliance mute add CHECK --reason … --expires 30d [--resource GLOB]
    novacron compliance mute list [--all] | delete ID
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import (
    ApiClient,
    Column,
    fail,
    get_context,
    handle_errors,
    message,
    parse_time,
    print_json,
    render,
    seg,
)
from novacron.core.errors import Invalid, NovaCronError
from novacron.security.cli_common import fmt_when

compliance_app = typer.Typer(
    help="Compliance checks, runs, reports and mutes (platform admins).", no_args_is_help=True
)
mute_app = typer.Typer(
    help="Accepted risks: a failing check muted for a while, with a reason.",
    no_args_is_help=True,
)
compliance_app.add_typer(mute_app, name="mute")

BASE = "/security/compliance"
SEVERITIES = ("critical", "high", "medium", "low", "info")
NOT_PASSING = ("fail", "error", "muted")


def _counts(run: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = (run.get("summary") or {}).get("counts") or {}
    return counts


def fmt_rate(rate: Any) -> str:
    return "-" if rate is None else f"{float(rate) * 100:.0f}%"


RUN_COLUMNS: list[Column] = [
    ("id", "id"),
    ("started", lambda r: fmt_when(r.get("started_at"))),
    ("trigger", "trigger"),
    ("by", "requested_by"),
    ("status", "status"),
    ("pass", lambda r: _counts(r).get("pass", 0)),
    ("fail", lambda r: _counts(r).get("fail", 0)),
    ("error", lambda r: _counts(r).get("error", 0)),
    ("muted", lambda r: _counts(r).get("muted", 0)),
    ("pass rate", lambda r: fmt_rate((r.get("summary") or {}).get("pass_rate"))),
]

FINDING_COLUMNS: list[Column] = [
    ("check", "check_id"),
    ("severity", "severity"),
    ("status", "status"),
    ("resource", "resource"),
    ("evidence", lambda f: f.get("mute_reason") or f.get("evidence")),
]

CHECK_COLUMNS: list[Column] = [
    ("id", "id"),
    ("severity", "severity"),
    ("scope", "scope"),
    ("title", "title"),
]

MUTE_COLUMNS: list[Column] = [
    ("id", "id"),
    ("check", "check_id"),
    ("resource", "resource_pattern"),
    ("expires", lambda m: fmt_when(m.get("expires_at"))),
    ("by", "created_by"),
    ("active", "active"),
    ("reason", "reason"),
]

TREND_COLUMNS: list[Column] = [
    ("run", "run_id"),
    ("started", lambda t: fmt_when(t.get("started_at"))),
    ("pass rate", lambda t: fmt_rate(t.get("pass_rate"))),
    ("fail", lambda t: (t.get("counts") or {}).get("fail", 0)),
    ("critical", lambda t: (t.get("failures_by_severity") or {}).get("critical", 0)),
    ("high", lambda t: (t.get("failures_by_severity") or {}).get("high", 0)),
    ("new", lambda t: len(t.get("new_failures") or [])),
    ("resolved", lambda t: len(t.get("resolved") or [])),
]


def summary_line(run: dict[str, Any]) -> str:
    counts = _counts(run)
    parts = [f"{counts.get(s, 0)} {label}" for s, label in _SUMMARY_LABELS]
    rate = fmt_rate((run.get("summary") or {}).get("pass_rate"))
    return f"compliance run {run['id']}: {', '.join(parts)} (pass rate {rate})"


_SUMMARY_LABELS = (
    ("pass", "passed"),
    ("fail", "failed"),
    ("error", "errors"),
    ("muted", "muted"),
    ("skipped", "skipped"),
)


def failures_at_or_above(findings: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    """Failing findings whose severity is ``severity`` or worse (``--fail-on``)."""
    worst = SEVERITIES.index(severity)
    return [
        f
        for f in findings
        if f.get("status") == "fail" and SEVERITIES.index(str(f.get("severity"))) <= worst
    ]


class FailOn(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


@compliance_app.command("run")
@handle_errors
def compliance_run(
    ctx: typer.Context,
    fail_on: FailOn | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 when a check of this severity or worse fails (for CI)",
    ),
) -> None:
    """Run every check now; shows what does not pass."""
    cli = get_context(ctx)
    with cli.client() as api:
        run = api.post(f"{BASE}/runs")
    findings = run.get("findings") or []
    if cli.json:
        print_json(run)
    else:
        sys.stdout.write(summary_line(run) + "\n")
        shown = [f for f in findings if f.get("status") in NOT_PASSING]
        if shown:
            render(cli, shown, FINDING_COLUMNS)
    if fail_on is not None:
        bad = failures_at_or_above(findings, fail_on.value)
        if bad:
            fail(
                f"{len(bad)} finding(s) of severity {fail_on.value} or worse failed: "
                + ", ".join(sorted({f"{f['check_id']}" for f in bad}))
            )


@compliance_app.command("runs")
@handle_errors
def compliance_runs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
) -> None:
    """Past runs, newest first."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get(f"{BASE}/runs", params={"limit": limit, "offset": offset, "trend_runs": 0})
    render(cli, page, RUN_COLUMNS, empty="no compliance runs yet: novacron compliance run")


def resolve_run(api: ApiClient, ref: str) -> str:
    """A run id; ``latest`` is the newest run."""
    if ref != "latest":
        return ref
    page = api.get(f"{BASE}/runs", params={"limit": 1, "trend_runs": 0})
    if not page.get("items"):
        raise NovaCronError("there are no compliance runs yet: novacron compliance run")
    run_id: str = page["items"][0]["id"]
    return run_id


class StatusFilter(StrEnum):
    pass_ = "pass"
    fail = "fail"
    error = "error"
    skipped = "skipped"
    muted = "muted"


@compliance_app.command("show")
@handle_errors
def compliance_show(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="Run id, or latest"),
    status: StatusFilter | None = typer.Option(None, "--status", help="Only this status"),
    check: str | None = typer.Option(None, "--check", help="Only this check, e.g. NC-TLS-001"),
) -> None:
    """A run's findings."""
    cli = get_context(ctx)
    with cli.client() as api:
        run_id = resolve_run(api, run)
        detail = api.get(
            f"{BASE}/runs/{seg(run_id)}",
            params={"status": status.value if status else None, "check": check},
        )
    if cli.json:
        print_json(detail)
        return
    sys.stdout.write(summary_line(detail) + "\n")
    render(cli, detail.get("findings") or [], FINDING_COLUMNS, empty="no findings match")


class ReportFormat(StrEnum):
    html = "html"
    csv = "csv"
    ocsf = "ocsf"
    sarif = "sarif"


def write_private(path: Path, body: bytes) -> None:
    """Reports list the platform's weaknesses: readable by their owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NovaCronError(f"cannot write {path}: {exc.strerror}") from exc


@compliance_app.command("report")
@handle_errors
def compliance_report(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="Run id, or latest"),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", help="html, csv, ocsf, sarif"),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (else stdout)"),
) -> None:
    """Download a run's report: HTML page, CSV, OCSF JSON events or SARIF."""
    cli = get_context(ctx)
    with cli.client() as api:
        run_id = resolve_run(api, run)
        response = api.send(
            "GET", f"{BASE}/runs/{seg(run_id)}/report", params={"format": fmt.value}
        )
        if not response.is_success:
            api.decode(response)  # raises the server's problem
    if out is None:
        sys.stdout.write(response.text)
        sys.stdout.flush()
        return
    write_private(out, response.content)
    message(
        cli,
        f"wrote the {fmt.value} report of {run_id} to {out}",
        {"run_id": run_id, "format": fmt.value, "path": str(out), "bytes": len(response.content)},
    )


@compliance_app.command("checks")
@handle_errors
def compliance_checks(ctx: typer.Context) -> None:
    """The checks, with severity and scope (--output json adds framework mappings)."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{BASE}/checks"), CHECK_COLUMNS, empty="no checks")


@compliance_app.command("trend")
@handle_errors
def compliance_trend(
    ctx: typer.Context,
    runs: int = typer.Option(10, "--runs", min=1, max=200, help="How many finished runs"),
) -> None:
    """Pass rate, failures and new/resolved findings of recent runs, oldest first."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get(f"{BASE}/runs", params={"limit": 1, "trend_runs": runs})
    render(cli, page.get("trend") or [], TREND_COLUMNS, empty="no finished runs yet")


_IN = re.compile(r"^(\d+)\s*([mhdw])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def expiry_option(value: str, now: datetime | None = None) -> str:
    """``--expires``: a duration from now (``12h``, ``30d``, ``2w``) or an ISO 8601 time
    (UTC unless it says otherwise); ISO 8601 UTC for the API."""
    text = value.strip()
    match = _IN.match(text)
    if match:
        moment = (now or datetime.now(UTC)) + timedelta(
            seconds=int(match.group(1)) * _UNIT_S[match.group(2)]
        )
    else:
        parsed = parse_time(text)
        if parsed is None:
            raise Invalid(
                f"--expires: {value!r} is not a time: use a duration such as 12h, 30d, 2w "
                "or ISO 8601 (2030-01-31 or 2030-01-31T12:00:00Z)"
            )
        moment = parsed
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@mute_app.command("add")
@handle_errors
def mute_add(
    ctx: typer.Context,
    check: str = typer.Argument(..., help="Check id, e.g. NC-HST-002"),
    reason: str = typer.Option(..., "--reason", help="Why the risk is accepted"),
    expires: str = typer.Option(..., "--expires", help="Duration (30d) or ISO 8601 time"),
    resource: str = typer.Option("*", "--resource", help="Resource glob: hv-*, user:bob, platform"),
) -> None:
    """Mute a check's failures on matching resources until the expiry."""
    cli = get_context(ctx)
    body = {
        "check_id": check,
        "resource_pattern": resource,
        "reason": reason,
        "expires_at": expiry_option(expires),
    }
    with cli.client() as api:
        mute = api.post(f"{BASE}/mutes", json=body)
    message(
        cli,
        f"muted {mute['check_id']} on {mute['resource_pattern']} until "
        f"{fmt_when(mute['expires_at'])} ({mute['id']})",
        mute,
    )


@mute_app.command("list")
@handle_errors
def mute_list(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Include expired mutes"),
) -> None:
    """Mutes in force (with --all, expired ones too)."""
    cli = get_context(ctx)
    with cli.client() as api:
        mutes = api.get(f"{BASE}/mutes", params={"include_expired": all_})
    render(cli, mutes, MUTE_COLUMNS, empty="no mutes")


@mute_app.command("delete")
@handle_errors
def mute_delete(ctx: typer.Context, mute_id: str = typer.Argument(..., help="Mute id")) -> None:
    """End a mute now: the next run reports the findings again."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"{BASE}/mutes/{seg(mute_id)}")
    message(cli, f"deleted mute {mute_id}", {"id": mute_id, "deleted": True})


def register(app: typer.Typer) -> None:
    """Add the compliance commands to the root CLI."""
    app.add_typer(compliance_app, name="compliance")
