"""``novacron corporate decisions|escalations``: the decision log and escalations."""

from __future__ import annotations

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, message, render, seg
from novacron.corporate.integration.cli_common import LIMIT, OFFSET, PROGRAMME, base, given

decisions_app = typer.Typer(help="The programme's decision log.", no_args_is_help=True)
escalations_app = typer.Typer(help="Escalations to the steering committee.", no_args_is_help=True)

DECISION_COLUMNS: list[Column] = [
    ("on", "decided_on"),
    ("decision", "decision"),
    ("by", "decided_by"),
    ("workstream", "workstream"),
    ("rationale", "rationale"),
    ("id", "id"),
]
ESCALATION_COLUMNS: list[Column] = [
    ("raised", "raised_on"),
    ("title", "title"),
    ("severity", "severity"),
    ("status", "status"),
    ("by", "raised_by"),
    ("to", "raised_to"),
    ("resolution", "resolution"),
    ("id", "id"),
]


@decisions_app.command("add")
@handle_errors
def decisions_add(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    decision: str = typer.Option(..., "--decision"),
    rationale: str = typer.Option("", "--rationale"),
    decided_by: str | None = typer.Option(None, "--by", help="Default: you"),
    decided_on: str | None = typer.Option(None, "--on", help="YYYY-MM-DD (default: today)"),
    workstream: str | None = typer.Option(None, "--workstream"),
) -> None:
    """Log a decision."""
    cli = get_context(ctx)
    body = given(
        decision=decision,
        rationale=rationale,
        decided_by=decided_by,
        decided_on=decided_on,
        workstream=workstream,
    )
    with cli.client() as api:
        out = api.post(f"{base(programme)}/decisions", json=body)
    message(cli, f"logged decision {out['id']}", out)


@decisions_app.command("list")
@handle_errors
def decisions_list(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    workstream: str | None = typer.Option(None, "--workstream"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """The decision log, newest first."""
    cli = get_context(ctx)
    params = {"workstream": workstream, "limit": limit, "offset": offset}
    with cli.client() as api:
        page = api.get(f"{base(programme)}/decisions", params=params)
    render(cli, page, DECISION_COLUMNS, empty="no decisions")


@escalations_app.command("add")
@handle_errors
def escalations_add(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    title: str = typer.Option(..., "--title"),
    raised_to: str = typer.Option(..., "--to", help="Who must act"),
    severity: str = typer.Option("medium", "--severity", help="low, medium, high, critical"),
    detail: str = typer.Option("", "--detail"),
    workstream: str | None = typer.Option(None, "--workstream"),
) -> None:
    """Raise an escalation."""
    cli = get_context(ctx)
    body = given(
        title=title, raised_to=raised_to, severity=severity, detail=detail, workstream=workstream
    )
    with cli.client() as api:
        out = api.post(f"{base(programme)}/escalations", json=body)
    message(cli, f"raised escalation {out['id']} ({out['severity']})", out)


@escalations_app.command("resolve")
@handle_errors
def escalations_resolve(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    escalation: str = typer.Argument(..., help="Escalation id"),
    resolution: str = typer.Option(..., "--resolution"),
) -> None:
    """Resolve an open escalation."""
    cli = get_context(ctx)
    with cli.client() as api:
        out = api.post(
            f"{base(programme)}/escalations/{seg(escalation)}/resolve",
            json={"resolution": resolution},
        )
    message(cli, f"resolved escalation {out['id']}", out)


@escalations_app.command("list")
@handle_errors
def escalations_list(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    status: str | None = typer.Option(None, "--status", help="open or resolved"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """Escalations, newest first."""
    cli = get_context(ctx)
    params = {"status": status, "limit": limit, "offset": offset}
    with cli.client() as api:
        page = api.get(f"{base(programme)}/escalations", params=params)
    render(cli, page, ESCALATION_COLUMNS, empty="no escalations")
