"""CLI: ``novacron corporate diligence …``: request lists, findings, summary and heat map."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import (
    Column,
    get_context,
    handle_errors,
    print_json,
    render,
    seg,
)
from novacron.core.errors import Invalid
from novacron.corporate.ma.cli_common import LIMIT, OFFSET, TARGET, body_of, clearing

diligence_app = typer.Typer(
    help="Due diligence: six workstreams' requests, the findings register, the summary.",
    no_args_is_help=True,
)

REQUEST_COLUMNS: list[Column] = [
    ("workstream", "workstream"),
    ("title", "title"),
    ("status", "status"),
    ("owner", "owner"),
    ("due", lambda r: f"{r.get('due_on')}{' OVERDUE' if r.get('overdue') else ''}"),
    ("id", "id"),
]
FINDING_COLUMNS: list[Column] = [
    ("workstream", "workstream"),
    ("title", "title"),
    ("risk", lambda f: f"{f.get('score')} {f.get('rating')}"),
    ("sev x lik", lambda f: f"{f.get('severity')}x{f.get('likelihood')}"),
    ("status", "status"),
    ("deal-breaker", "deal_breaker"),
    ("owner", "owner"),
    ("id", "id"),
]
SUMMARY_COLUMNS: list[Column] = [
    ("workstream", "workstream"),
    ("lead", "lead"),
    ("requests", "total"),
    ("open", lambda w: w["by_status"].get("open", 0) + w["by_status"].get("in_progress", 0)),
    ("received", lambda w: w["by_status"].get("received", 0)),
    ("done", lambda w: w["by_status"].get("closed", 0) + w["by_status"].get("waived", 0)),
    ("complete", lambda w: f"{w.get('percent_complete', 0):.0f}%"),
    ("overdue", "overdue"),
    ("open findings", "open_findings"),
    ("top risk", lambda w: _top_risk(w.get("top_risks") or [])),
]

REQUEST_STATUS = "open, in_progress, received, closed or waived"
FINDING_STATUS = "open, mitigated, accepted or closed"


def _top_risk(risks: list[dict[str, Any]]) -> str:
    if not risks:
        return "-"
    top = risks[0]
    return f"{top['title']} ({top['score']} {top['rating']})"


def _path(target: str, *rest: str) -> str:
    return "/corporate/targets/" + "/".join([seg(target), "diligence", *rest])


@diligence_app.command("requests")
@handle_errors
def requests_list(
    ctx: typer.Context,
    target: str = TARGET,
    workstream: str | None = typer.Option(None, "--workstream", "-w"),
    status: str | None = typer.Option(None, "--status", help=REQUEST_STATUS),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """A target's diligence requests (overdue ones flagged)."""
    cli = get_context(ctx)
    params = body_of(workstream=workstream, status=status, limit=limit, offset=offset)
    with cli.client() as api:
        page = api.get(_path(target, "requests"), params=params)
    render(cli, page, REQUEST_COLUMNS, empty="no requests")


@diligence_app.command("add-request")
@handle_errors
def add_request(
    ctx: typer.Context,
    target: str = TARGET,
    workstream: str = typer.Option(
        ..., "--workstream", "-w", help="financial, legal, technology, commercial, ..."
    ),
    title: str = typer.Option(..., "--title"),
    description: str | None = typer.Option(None, "--description"),
    owner: str | None = typer.Option(None, "--owner"),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD"),
    status: str | None = typer.Option(None, "--status", help=REQUEST_STATUS),
) -> None:
    """Add a request to a workstream's list."""
    cli = get_context(ctx)
    body = body_of(
        workstream=workstream,
        title=title,
        description=description,
        owner=owner,
        due_on=due,
        status=status,
    )
    with cli.client() as api:
        render(cli, api.post(_path(target, "requests"), json=body))


@diligence_app.command("update-request")
@handle_errors
def update_request(
    ctx: typer.Context,
    target: str = TARGET,
    request_id: str = typer.Argument(..., help="Request id"),
    status: str | None = typer.Option(None, "--status", help=REQUEST_STATUS),
    owner: str | None = typer.Option(None, "--owner"),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD"),
    title: str | None = typer.Option(None, "--title"),
    description: str | None = typer.Option(None, "--description"),
    workstream: str | None = typer.Option(None, "--workstream", "-w"),
    clear: list[str] | None = typer.Option(None, "--clear", help="Unset: owner or due_on"),
) -> None:
    """Change a request (status, owner, due date …)."""
    cli = get_context(ctx)
    body = body_of(
        status=status,
        owner=owner,
        due_on=due,
        title=title,
        description=description,
        workstream=workstream,
    )
    body = clearing(body, clear)
    if not body:
        raise Invalid("nothing to change: give at least one option", errors=[])
    with cli.client() as api:
        render(cli, api.request("PATCH", _path(target, "requests", seg(request_id)), json=body))


@diligence_app.command("findings")
@handle_errors
def findings_list(
    ctx: typer.Context,
    target: str = TARGET,
    workstream: str | None = typer.Option(None, "--workstream", "-w"),
    status: str | None = typer.Option(None, "--status", help=FINDING_STATUS),
    deal_breakers: bool = typer.Option(False, "--deal-breakers", help="Only deal-breakers"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """The findings register, worst risk first."""
    cli = get_context(ctx)
    params = body_of(
        workstream=workstream,
        status=status,
        deal_breaker=True if deal_breakers else None,
        limit=limit,
        offset=offset,
    )
    with cli.client() as api:
        page = api.get(_path(target, "findings"), params=params)
    render(cli, page, FINDING_COLUMNS, empty="no findings")


@diligence_app.command("add-finding")
@handle_errors
def add_finding(
    ctx: typer.Context,
    target: str = TARGET,
    workstream: str = typer.Option(..., "--workstream", "-w"),
    title: str = typer.Option(..., "--title"),
    severity: int = typer.Option(..., "--severity", help="1 (minor) .. 5 (severe)"),
    likelihood: int = typer.Option(..., "--likelihood", help="1 (rare) .. 5 (almost certain)"),
    mitigation: str | None = typer.Option(None, "--mitigation"),
    owner: str | None = typer.Option(None, "--owner"),
    deal_breaker: bool = typer.Option(False, "--deal-breaker", help="Blocks negotiation"),
    description: str | None = typer.Option(None, "--description"),
    status: str | None = typer.Option(None, "--status", help=FINDING_STATUS),
) -> None:
    """Record a finding on the risk register."""
    cli = get_context(ctx)
    body = body_of(
        workstream=workstream,
        title=title,
        severity=severity,
        likelihood=likelihood,
        mitigation=mitigation,
        owner=owner,
        deal_breaker=deal_breaker,
        description=description,
        status=status,
    )
    with cli.client() as api:
        render(cli, api.post(_path(target, "findings"), json=body))


@diligence_app.command("update-finding")
@handle_errors
def update_finding(
    ctx: typer.Context,
    target: str = TARGET,
    finding_id: str = typer.Argument(..., help="Finding id"),
    status: str | None = typer.Option(None, "--status", help=FINDING_STATUS),
    severity: int | None = typer.Option(None, "--severity"),
    likelihood: int | None = typer.Option(None, "--likelihood"),
    mitigation: str | None = typer.Option(None, "--mitigation"),
    owner: str | None = typer.Option(None, "--owner"),
    deal_breaker: bool | None = typer.Option(None, "--deal-breaker/--not-deal-breaker"),
    title: str | None = typer.Option(None, "--title"),
) -> None:
    """Change a finding (status, scores, mitigation …)."""
    cli = get_context(ctx)
    body = body_of(
        status=status,
        severity=severity,
        likelihood=likelihood,
        mitigation=mitigation,
        owner=owner,
        deal_breaker=deal_breaker,
        title=title,
    )
    if not body:
        raise Invalid("nothing to change: give at least one option", errors=[])
    path = _path(target, "findings", seg(finding_id))
    with cli.client() as api:
        render(cli, api.request("PATCH", path, json=body))


@diligence_app.command("set-lead")
@handle_errors
def set_lead(
    ctx: typer.Context,
    target: str = TARGET,
    workstream: str = typer.Argument(..., help="financial, legal, technology, ..."),
    lead: str = typer.Argument(..., help="Who leads the workstream"),
) -> None:
    """Name a workstream's lead."""
    cli = get_context(ctx)
    path = _path(target, "workstreams", seg(workstream))
    with cli.client() as api:
        render(cli, api.request("PATCH", path, json={"lead": lead}))


def _heat_map(summary: dict[str, Any]) -> None:
    counts = summary["heat_map"]["counts"]
    typer.echo("\nrisk heat map (open, mitigated and accepted findings)")
    typer.echo("severity \\ likelihood  1  2  3  4  5")
    for i, row in enumerate(counts):
        cells = "".join(f"{n:>3}" if n else "  ." for n in row)
        typer.echo(f"{5 - i:>21} {cells}")


@diligence_app.command("summary")
@handle_errors
def summary(ctx: typer.Context, target: str = TARGET) -> None:
    """Per-workstream progress, overdue requests, top risks, and the heat map."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(_path(target, "summary"))
    if cli.json:
        print_json(data)
        return
    typer.echo(
        f"{data['name']} ({data['stage']}): {data['percent_complete']:.0f}% of "
        f"{data['total_requests']} requests done, {data['overdue']} overdue, "
        f"{data['open_deal_breakers']} open deal-breaker(s)"
    )
    render(cli, data["workstreams"], SUMMARY_COLUMNS)
    _heat_map(data)
