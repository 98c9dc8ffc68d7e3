"""CLI: integration programmes (``novacron corporate programmes|tasks|decisions|
escalations|realisation|retention``), a thin client of ``/api/v1/corporate/programmes``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, message, render
from novacron.core.errors import Invalid
from novacron.corporate.integration import cli_governance, cli_tasks, cli_value
from novacron.corporate.integration.cli_common import AS_OF, LIMIT, OFFSET, PROGRAMME, base, pct

programmes_app = typer.Typer(
    help="Integration programmes generated when a deal closes.", no_args_is_help=True
)

PROGRAMME_COLUMNS: list[Column] = [
    ("name", "name"),
    ("target", "target_name"),
    ("close date", "close_date"),
    ("currency", "currency"),
    ("id", "id"),
]
PHASE_COLUMNS: list[Column] = [
    ("phase", "name"),
    ("key", "key"),
    ("start", "start_date"),
    ("end", "end_date"),
]


def _rollup_columns(first: str) -> list[Column]:
    return [
        (first, "name"),
        ("rag", "rag"),
        ("done", lambda r: f"{r['tasks_done']}/{r['tasks_total']}"),
        ("complete", lambda r: pct(r["percent_complete"])),
        ("milestones hit/missed", lambda r: f"{r['milestones_hit']}/{r['milestones_missed']}"),
        ("escalations", "open_escalations"),
        ("why", lambda r: "; ".join(r["rag_reasons"])),
    ]


@programmes_app.command("list")
@handle_errors
def programmes_list(ctx: typer.Context, limit: int = LIMIT, offset: int = OFFSET) -> None:
    """List integration programmes."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/corporate/programmes", params={"limit": limit, "offset": offset})
        render(cli, page, PROGRAMME_COLUMNS, empty="no programmes")


@programmes_app.command("show")
@handle_errors
def programmes_show(ctx: typer.Context, programme: str = PROGRAMME) -> None:
    """Show a programme with its workstreams and phases."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(base(programme))
    if cli.json:
        render(cli, data)
        return
    render(cli, {k: v for k, v in data.items() if k not in ("workstreams", "phases")})
    render(cli, data["workstreams"], [("workstream", "name"), ("key", "key"), ("lead", "lead")])
    render(cli, data["phases"], PHASE_COLUMNS)


@programmes_app.command("create")
@handle_errors
def programmes_create(
    ctx: typer.Context,
    target_id: str = typer.Option(..., "--target-id", help="The closed M&A target's id"),
    target_name: str = typer.Option(..., "--target-name"),
    close_date: str = typer.Option(..., "--close-date", help="YYYY-MM-DD"),
    synergy_plan: Path | None = typer.Option(
        None, "--synergy-plan", help="JSON file: a list of synergy plan lines"
    ),
) -> None:
    """Generate the default programme by hand (closing a target does it automatically)."""
    cli = get_context(ctx)
    lines: list[Any] = []
    if synergy_plan is not None:
        try:
            lines = json.loads(synergy_plan.read_text())
        except (OSError, ValueError) as exc:
            raise Invalid(f"--synergy-plan: cannot read {synergy_plan}: {exc}") from None
    body = {
        "target_id": target_id,
        "target_name": target_name,
        "close_date": close_date,
        "synergy_plan": lines,
    }
    with cli.client() as api:
        created = api.post("/corporate/programmes", json=body)
    message(cli, f"generated programme {created['id']} ({created['tasks']} tasks)", created)


@programmes_app.command("summary")
@handle_errors
def programmes_summary(
    ctx: typer.Context, programme: str = PROGRAMME, as_of: str | None = AS_OF
) -> None:
    """Computed roll-ups: overall, per workstream and per phase; synergies; retention."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{base(programme)}/summary", params={"as_of": as_of})
    if cli.json:
        render(cli, data)
        return
    overall = {**data["overall"], "name": "overall"}
    render(cli, [overall, *data["workstreams"]], _rollup_columns("workstream"))
    render(cli, data["phases"], _rollup_columns("phase"))
    syn, ret = data["synergies"], data["retention"]
    typer.echo(
        f"synergy realisation {pct(syn['overall']['pct'])} "
        f"(revenue {pct(syn['revenue']['pct'])}, cost {pct(syn['cost']['pct'])}); "
        f"headcount retention {pct(ret['headcount_retention_pct'])}, "
        f"ARR retention {pct(ret['arr_retention_pct'])}; as of {data['as_of']}"
    )


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
    corporate.add_typer(programmes_app, name="programmes")
    corporate.add_typer(cli_tasks.tasks_app, name="tasks")
    corporate.add_typer(cli_governance.decisions_app, name="decisions")
    corporate.add_typer(cli_governance.escalations_app, name="escalations")
    corporate.add_typer(cli_value.realisation_app, name="realisation")
    corporate.add_typer(cli_value.retention_app, name="retention")
