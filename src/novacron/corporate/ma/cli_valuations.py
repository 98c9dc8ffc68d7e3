"""CLI: ``novacron corporate valuations …`` and ``novacron corporate synergies …``."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import (
    Column,
    fmt_time,
    get_context,
    handle_errors,
    message,
    print_json,
    render,
    seg,
)
from novacron.core.errors import Invalid
from novacron.corporate.ma.cli_common import LIMIT, OFFSET, TARGET, body_of, money, read_json

valuations_app = typer.Typer(
    help="Valuation model versions of a target (computed by the finance engine).",
    no_args_is_help=True,
)
synergies_app = typer.Typer(help="A target's synergy plan.", no_args_is_help=True)

VALUATION_COLUMNS: list[Column] = [
    ("version", "version"),
    ("kind", "kind"),
    ("approved", "approved"),
    ("by", "created_by"),
    ("at", lambda v: fmt_time(v.get("created_at"))),
    ("note", "note"),
]
CHANGE_COLUMNS: list[Column] = [
    ("key", "key"),
    ("change", "change"),
    ("from", "from"),
    ("to", "to"),
]
LINE_COLUMNS: list[Column] = [
    ("category", "category"),
    ("name", "name"),
    ("run-rate", lambda x: money(x, "run_rate")),
    ("phase-in", lambda x: " ".join(f"{f:g}" for f in x.get("phase_in") or [])),
    ("one-off", lambda x: money(x, "one_off_cost")),
    ("owner", "owner"),
    ("id", "id"),
]


def _path(target: str, *rest: str) -> str:
    return "/corporate/targets/" + "/".join([seg(target), *rest])


@valuations_app.command("list")
@handle_errors
def valuations_list(
    ctx: typer.Context,
    target: str = TARGET,
    kind: str | None = typer.Option(None, "--kind"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """A target's valuation versions, newest first."""
    cli = get_context(ctx)
    params = body_of(kind=kind, limit=limit, offset=offset)
    with cli.client() as api:
        page = api.get(_path(target, "valuations"), params=params)
    render(cli, page, VALUATION_COLUMNS, empty="no valuations")


@valuations_app.command("add")
@handle_errors
def valuations_add(
    ctx: typer.Context,
    target: str = TARGET,
    kind: str = typer.Option(..., "--kind", help="dcf, comps, precedents, scenarios, ..."),
    inputs: str = typer.Option(..., "--inputs", help="JSON inline, a file path, or - (stdin)"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Add valuation version n+1 (the engine computes its result)."""
    cli = get_context(ctx)
    body = body_of(kind=kind, inputs=read_json(inputs, "inputs"), note=note)
    with cli.client() as api:
        created = api.post(_path(target, "valuations"), json=body)
    message(cli, f"added valuation v{created['version']} ({created['kind']})", created)


@valuations_app.command("show")
@handle_errors
def valuations_show(
    ctx: typer.Context,
    target: str = TARGET,
    version: int = typer.Argument(..., help="Version"),
) -> None:
    """One valuation version: inputs and result."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(_path(target, "valuations", str(version)))
    if cli.json:
        print_json(data)
        return
    meta = {k: v for k, v in data.items() if k not in ("inputs", "result")}
    render(cli, meta)
    typer.echo("\ninputs")
    render(cli, data.get("inputs") or {})
    typer.echo("\nresult")
    render(cli, data.get("result") or {})


@valuations_app.command("approve")
@handle_errors
def valuations_approve(
    ctx: typer.Context,
    target: str = TARGET,
    version: int = typer.Argument(..., help="Version"),
) -> None:
    """Approve a version (the deal's number; any other approval is withdrawn)."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.post(_path(target, "valuations", str(version), "approve"))
    message(cli, f"approved valuation v{data['version']}", data)


@valuations_app.command("diff")
@handle_errors
def valuations_diff(
    ctx: typer.Context,
    target: str = TARGET,
    a: int = typer.Argument(..., help="From version"),
    b: int = typer.Argument(..., help="To version"),
) -> None:
    """The input keys that changed between two versions."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(_path(target, "valuations", "diff"), params={"a": a, "b": b})
    if cli.json:
        print_json(data)
        return
    typer.echo(f"v{a} ({data['from_kind']}) -> v{b} ({data['to_kind']})")
    render(cli, data["changes"], CHANGE_COLUMNS, empty="no input changed")


def _totals_rows(totals: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    rows = [{"period": "run-rate", **totals["run_rate"]}]
    rows += [{"period": f"year {y['year']}", **y} for y in totals["by_year"]]
    return [{**row, "currency": currency} for row in rows]


TOTAL_COLUMNS: list[Column] = [
    ("", "period"),
    ("revenue", lambda r: money(r, "revenue")),
    ("cost", lambda r: money(r, "cost")),
    ("total", lambda r: money(r, "total")),
]


@synergies_app.command("show")
@handle_errors
def synergies_show(ctx: typer.Context, target: str = TARGET) -> None:
    """The plan's lines and its totals by category and by year."""
    cli = get_context(ctx)
    with cli.client() as api:
        plan = api.get(_path(target, "synergy-plan"))
    if cli.json:
        print_json(plan)
        return
    render(cli, plan["lines"], LINE_COLUMNS, empty="no synergy lines")
    if plan["lines"]:
        typer.echo("")
        render(cli, _totals_rows(plan["totals"], plan["currency"]), TOTAL_COLUMNS)
        one_off = {"one_off_cost": plan["totals"]["one_off_cost"], "currency": plan["currency"]}
        typer.echo(f"one-off cost to achieve: {money(one_off, 'one_off_cost')}")


def parse_phase_in(raw: str) -> list[float]:
    try:
        return [float(part) for part in raw.replace(" ", "").split(",") if part]
    except ValueError:
        raise Invalid(
            f"--phase-in {raw!r}: expected fractions like 0.25,0.75,1", errors=[]
        ) from None


@synergies_app.command("add")
@handle_errors
def synergies_add(
    ctx: typer.Context,
    target: str = TARGET,
    category: str = typer.Option(..., "--category", help="revenue or cost"),
    name: str = typer.Option(..., "--name"),
    run_rate: str = typer.Option(..., "--run-rate", help="Annual amount once phased in"),
    phase_in: str = typer.Option(
        "1", "--phase-in", help="Fraction reached each year, e.g. 0.25,0.75,1"
    ),
    currency: str | None = typer.Option(None, "--currency", help="Default: the target's"),
    one_off_cost: str | None = typer.Option(None, "--one-off-cost"),
    owner: str | None = typer.Option(None, "--owner"),
    description: str | None = typer.Option(None, "--description"),
) -> None:
    """Add a line to the synergy plan."""
    cli = get_context(ctx)
    body = body_of(
        category=category,
        name=name,
        run_rate=run_rate,
        phase_in=parse_phase_in(phase_in),
        currency=currency,
        one_off_cost=one_off_cost,
        owner=owner,
        description=description,
    )
    with cli.client() as api:
        line = api.post(_path(target, "synergy-plan", "lines"), json=body)
    message(cli, f"added {line['category']} synergy {line['name']} ({line['id']})", line)


@synergies_app.command("remove")
@handle_errors
def synergies_remove(
    ctx: typer.Context,
    target: str = TARGET,
    line_id: str = typer.Argument(..., help="Line id"),
) -> None:
    """Remove a line from the synergy plan."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(_path(target, "synergy-plan", "lines", seg(line_id)))
    message(cli, f"removed {line_id}", {"deleted": line_id})


@synergies_app.command("set")
@handle_errors
def synergies_set(
    ctx: typer.Context,
    target: str = TARGET,
    file: str = typer.Option(..., "--file", help="JSON: {lines: [...]} or a list of lines"),
) -> None:
    """Replace the whole plan from JSON."""
    cli = get_context(ctx)
    loaded = read_json(file, "file")
    body = {"lines": loaded} if isinstance(loaded, list) else loaded
    with cli.client() as api:
        plan = api.put(_path(target, "synergy-plan"), json=body)
    message(cli, f"synergy plan of {target}: {len(plan['lines'])} line(s)", plan)
