"""CLI: the M&A pipeline (``novacron corporate targets|scorecard|diligence|valuations|
synergies``). A thin client of ``/api/v1/corporate/targets…``: tables by default, the
server's JSON with the root ``--output json``."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import (
    CLIContext,
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
from novacron.corporate.ma import cli_diligence, cli_valuations
from novacron.corporate.ma.cli_common import (
    LIMIT,
    OFFSET,
    TARGET,
    body_of,
    clearing,
    money,
    read_json,
    tick,
)

targets_app = typer.Typer(help="Acquisition targets and their deal stages.", no_args_is_help=True)
scorecard_app = typer.Typer(
    help="Screening scorecards (weighted, explained).", no_args_is_help=True
)

TARGET_COLUMNS: list[Column] = [
    ("name", "name"),
    ("category", lambda t: t.get("custom_category") or t.get("category")),
    ("stage", "stage"),
    ("owner", "owner"),
    ("value", lambda t: money(t, "asking_value")),
    ("prob", lambda t: f"{t.get('probability')}%"),
    ("weighted", lambda t: money(t, "weighted_value")),
    ("expected close", "expected_close_on"),
    ("id", "id"),
]
HISTORY_COLUMNS: list[Column] = [
    ("at", lambda c: fmt_time(c.get("at"))),
    ("from", "from_stage"),
    ("to", "to_stage"),
    ("by", "by"),
    ("reason", "reason"),
]
CRITERION_COLUMNS: list[Column] = [
    ("criterion", "id"),
    ("met", lambda c: tick(c.get("met"))),
    ("requirement", "description"),
    ("detail", "detail"),
]


def _path(target: str, *rest: str) -> str:
    return "/corporate/targets/" + "/".join([seg(target), *rest])


# -- targets ------------------------------------------------------------------------------


@targets_app.command("list")
@handle_errors
def targets_list(
    ctx: typer.Context,
    stage: str | None = typer.Option(None, "--stage", help="screening … integration, dropped"),
    category: str | None = typer.Option(None, "--category"),
    owner: str | None = typer.Option(None, "--owner", help="Deal lead"),
    name: str | None = typer.Option(None, "--name", help="Name contains"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List targets with their stage, value and weighted value."""
    cli = get_context(ctx)
    params = body_of(
        stage=stage, category=category, owner=owner, name=name, limit=limit, offset=offset
    )
    with cli.client() as api:
        render(
            cli, api.get("/corporate/targets", params=params), TARGET_COLUMNS, empty="no targets"
        )


@targets_app.command("show")
@handle_errors
def targets_show(ctx: typer.Context, target: str = TARGET) -> None:
    """Show one target."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(_path(target)))


def _target_fields(**options: Any) -> dict[str, Any]:
    renames = {"expected_close": "expected_close_on", "signed": "signed_on", "closed": "closed_on"}
    return body_of(**{renames.get(k, k): v for k, v in options.items()})


@targets_app.command("create")
@handle_errors
def targets_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique target name"),
    category: str = typer.Option(
        ..., "--category", help="storage, networking, security, ai_ml, quantum or custom"
    ),
    custom_category: str | None = typer.Option(None, "--custom-category", help="With custom"),
    description: str | None = typer.Option(None, "--description"),
    headquarters: str | None = typer.Option(None, "--headquarters"),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 alpha-2, e.g. DE"),
    website: str | None = typer.Option(None, "--website"),
    currency: str | None = typer.Option(None, "--currency", help="Default USD"),
    revenue: str | None = typer.Option(None, "--revenue", help="Annual revenue"),
    ebitda: str | None = typer.Option(None, "--ebitda"),
    employees: int | None = typer.Option(None, "--employees"),
    financials_year: int | None = typer.Option(None, "--financials-year"),
    asking_value: str | None = typer.Option(None, "--value", help="Asking/indicative EV"),
    owner: str | None = typer.Option(None, "--owner", help="Deal lead (default: you)"),
    probability: int | None = typer.Option(None, "--probability", help="% (default by stage)"),
    expected_close: str | None = typer.Option(None, "--expected-close", help="YYYY-MM-DD"),
    nda_signed: bool | None = typer.Option(None, "--nda-signed/--no-nda-signed"),
    nda_owner: str | None = typer.Option(None, "--nda-owner"),
) -> None:
    """Add a target (it starts in screening)."""
    cli = get_context(ctx)
    # Every option but ctx is a body field of the same name (see _target_fields).
    body = _target_fields(**{k: v for k, v in locals().items() if k not in ("ctx", "cli")})
    with cli.client() as api:
        created = api.post("/corporate/targets", json=body)
        message(cli, f"created {created['name']} ({created['id']}) in screening", created)


@targets_app.command("update")
@handle_errors
def targets_update(
    ctx: typer.Context,
    target: str = TARGET,
    name: str | None = typer.Option(None, "--name", help="Rename"),
    category: str | None = typer.Option(None, "--category"),
    custom_category: str | None = typer.Option(None, "--custom-category"),
    description: str | None = typer.Option(None, "--description"),
    headquarters: str | None = typer.Option(None, "--headquarters"),
    country: str | None = typer.Option(None, "--country"),
    website: str | None = typer.Option(None, "--website"),
    currency: str | None = typer.Option(None, "--currency"),
    revenue: str | None = typer.Option(None, "--revenue"),
    ebitda: str | None = typer.Option(None, "--ebitda"),
    employees: int | None = typer.Option(None, "--employees"),
    financials_year: int | None = typer.Option(None, "--financials-year"),
    asking_value: str | None = typer.Option(None, "--value"),
    owner: str | None = typer.Option(None, "--owner"),
    probability: int | None = typer.Option(None, "--probability"),
    expected_close: str | None = typer.Option(None, "--expected-close"),
    nda_signed: bool | None = typer.Option(None, "--nda-signed/--no-nda-signed"),
    nda_owner: str | None = typer.Option(None, "--nda-owner"),
    signed: str | None = typer.Option(None, "--signed-on", help="Signing date YYYY-MM-DD"),
    closed: str | None = typer.Option(None, "--closed-on", help="Close date YYYY-MM-DD"),
    clear: list[str] | None = typer.Option(
        None, "--clear", help="Unset an optional field (repeatable), e.g. --clear probability"
    ),
) -> None:
    """Change a target's fields (stage moves: advance, drop, reopen)."""
    cli = get_context(ctx)
    options = {k: v for k, v in locals().items() if k not in ("ctx", "cli", "target", "clear")}
    body = clearing(_target_fields(**options), clear)
    if not body:
        raise Invalid("nothing to change: give at least one option", errors=[])
    with cli.client() as api:
        render(cli, api.request("PATCH", _path(target), json=body))


@targets_app.command("delete")
@handle_errors
def targets_delete(ctx: typer.Context, target: str = TARGET) -> None:
    """Delete a screening or dropped target with its records."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(_path(target))
    message(cli, f"deleted {target}", {"deleted": target})


def _print_gate(cli: CLIContext, gate: dict[str, Any]) -> None:
    if cli.json:
        print_json(gate)
        return
    if gate.get("next_stage") is None:
        typer.echo(f"{gate['name']} is {gate['stage']}: no next stage")
        return
    state = "ready" if gate.get("ready") else "not ready"
    typer.echo(f"{gate['name']}: {gate['stage']} -> {gate['next_stage']}: {state}")
    render(cli, gate.get("criteria") or [], CRITERION_COLUMNS, empty="no criteria")


@targets_app.command("gate")
@handle_errors
def targets_gate(
    ctx: typer.Context,
    target: str = TARGET,
    min_score: float | None = typer.Option(None, "--min-score", help="Screening threshold"),
) -> None:
    """Preview the gate to the next stage: each criterion, met or not, and why."""
    cli = get_context(ctx)
    with cli.client() as api:
        _print_gate(cli, api.get(_path(target, "gate"), params=body_of(min_score=min_score)))


@targets_app.command("advance")
@handle_errors
def targets_advance(
    ctx: typer.Context,
    target: str = TARGET,
    reason: str | None = typer.Option(None, "--reason"),
    min_score: float | None = typer.Option(None, "--min-score", help="Screening threshold"),
) -> None:
    """Move a target to its next stage if its gate passes (else: the unmet criteria)."""
    cli = get_context(ctx)
    with cli.client() as api:
        before = api.get(_path(target))
        after = api.post(_path(target, "advance"), json=body_of(reason=reason, min_score=min_score))
    message(cli, f"{after['name']}: {before['stage']} -> {after['stage']}", after)


@targets_app.command("drop")
@handle_errors
def targets_drop(
    ctx: typer.Context,
    target: str = TARGET,
    reason: str = typer.Option(..., "--reason", help="Why the deal is abandoned"),
) -> None:
    """Drop an open deal (it can be reopened to the stage it left)."""
    cli = get_context(ctx)
    with cli.client() as api:
        after = api.post(_path(target, "drop"), json={"reason": reason})
    message(cli, f"{after['name']}: dropped from {after['dropped_from']}", after)


@targets_app.command("reopen")
@handle_errors
def targets_reopen(
    ctx: typer.Context,
    target: str = TARGET,
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Reopen a dropped deal in the stage it was dropped from."""
    cli = get_context(ctx)
    with cli.client() as api:
        after = api.post(_path(target, "reopen"), json=body_of(reason=reason))
    message(cli, f"{after['name']}: reopened in {after['stage']}", after)


@targets_app.command("history")
@handle_errors
def targets_history(
    ctx: typer.Context, target: str = TARGET, limit: int = LIMIT, offset: int = OFFSET
) -> None:
    """Every stage change of a target, oldest first."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get(_path(target, "history"), params={"limit": limit, "offset": offset})
    render(cli, page, HISTORY_COLUMNS, empty="no history")


# -- scorecards ---------------------------------------------------------------------------

SCORECARD_COLUMNS: list[Column] = [
    ("version", "version"),
    ("total", lambda c: f"{c.get('total', 0):.1f}"),
    ("scale", "scale"),
    ("criteria", lambda c: len(c.get("criteria") or [])),
    ("by", "created_by"),
    ("at", lambda c: fmt_time(c.get("created_at"))),
    ("note", "note"),
]
CONTRIBUTION_COLUMNS: list[Column] = [
    ("criterion", "name"),
    ("weight", lambda c: f"{c.get('weight', 0):g}"),
    ("score", lambda c: f"{c.get('score', 0):g}"),
    ("points", lambda c: f"{c.get('points', 0):.1f}"),
]


def parse_criterion(raw: str) -> dict[str, Any]:
    """``name=weight:score`` → ``{"name", "weight", "score"}``; ``Invalid`` naming the
    option otherwise."""
    name, sep, rest = raw.partition("=")
    weight, colon, score = rest.partition(":")
    try:
        if not (sep and colon and name.strip()):
            raise ValueError
        return {"name": name.strip(), "weight": float(weight), "score": float(score)}
    except ValueError:
        raise Invalid(
            f"--criterion {raw!r}: expected NAME=WEIGHT:SCORE, e.g. market=0.4:8",
            errors=[],
        ) from None


def _show_scorecard(cli: CLIContext, card: dict[str, Any]) -> None:
    if cli.json:
        print_json(card)
        return
    explanation = card.get("explanation") or {}
    typer.echo(f"scorecard v{card['version']}: {card['total']:.1f}/100")
    typer.echo(str(explanation.get("summary", "")))
    render(cli, explanation.get("contributions") or [], CONTRIBUTION_COLUMNS)


@scorecard_app.command("add")
@handle_errors
def scorecard_add(
    ctx: typer.Context,
    target: str = TARGET,
    criterion: list[str] | None = typer.Option(
        None, "--criterion", "-c", help="NAME=WEIGHT:SCORE (repeat; weights sum to 1)"
    ),
    rationale: list[str] | None = typer.Option(
        None, "--rationale", help="NAME=TEXT: why a criterion scored so (repeatable)"
    ),
    scale: int = typer.Option(10, "--scale", help="Scores run 0..10 or 0..100"),
    note: str | None = typer.Option(None, "--note"),
    file: str | None = typer.Option(
        None, "--file", help="JSON: {criteria: [...], scale, note} or a list of criteria"
    ),
) -> None:
    """Add a scorecard version; prints its total and explanation."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"scale": scale}
    if file:
        loaded = read_json(file, "file")
        body.update({"criteria": loaded} if isinstance(loaded, list) else loaded)
    if criterion:
        body["criteria"] = [parse_criterion(raw) for raw in criterion]
    if "criteria" not in body:
        raise Invalid("give --criterion NAME=WEIGHT:SCORE (repeat) or --file", errors=[])
    why = dict(r.partition("=")[::2] for r in rationale or [])
    for item in body["criteria"]:
        if isinstance(item, dict) and item.get("name") in why:
            item["rationale"] = why[item["name"]]
    if note is not None:
        body["note"] = note
    with cli.client() as api:
        _show_scorecard(cli, api.post(_path(target, "scorecards"), json=body))


@scorecard_app.command("list")
@handle_errors
def scorecard_list(
    ctx: typer.Context, target: str = TARGET, limit: int = LIMIT, offset: int = OFFSET
) -> None:
    """A target's scorecard versions, newest first (the newest counts for the gate)."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get(_path(target, "scorecards"), params={"limit": limit, "offset": offset})
    render(cli, page, SCORECARD_COLUMNS, empty="no scorecards")


@scorecard_app.command("show")
@handle_errors
def scorecard_show(
    ctx: typer.Context,
    target: str = TARGET,
    version: int | None = typer.Argument(None, help="Version (default: the latest)"),
) -> None:
    """One scorecard with the explanation of its score."""
    cli = get_context(ctx)
    with cli.client() as api:
        if version is None:
            page = api.get(_path(target, "scorecards"), params={"limit": 1})
            if not page["items"]:
                raise Invalid(f"{target} has no scorecard yet", errors=[])
            card = page["items"][0]
        else:
            card = api.get(_path(target, "scorecards", str(version)))
    _show_scorecard(cli, card)


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
    corporate.add_typer(targets_app, name="targets")
    corporate.add_typer(scorecard_app, name="scorecard")
    corporate.add_typer(cli_diligence.diligence_app, name="diligence")
    corporate.add_typer(cli_valuations.valuations_app, name="valuations")
    corporate.add_typer(cli_valuations.synergies_app, name="synergies")
