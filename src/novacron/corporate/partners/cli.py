"""CLI: Partners, tiers, programmes, deal registration, MDF and rebates.

novacron corporate partners list|show|create|update|tier|performance|health
novacron corporate partner-programmes list|show|create|enrol|enrolments
novacron corporate deals register|list|show|approve|reject|extend|close|expire
novacron corporate mdf request|list|show|approve|reject|claim|pay|ledger
novacron corporate rebates schedules|compute
"""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import (
    Column,
    get_context,
    handle_errors,
    message,
    render,
    seg,
)
from novacron.corporate.partners import cli_deals, cli_money

partners_app = typer.Typer(help="Partners: tiers, performance, health.", no_args_is_help=True)
programs_app = typer.Typer(help="Partner programmes and enrolment.", no_args_is_help=True)

LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")
PARTNERS = "/corporate/partners"
PROGRAMMES = "/corporate/partner-programmes"

PARTNER_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("type", "type"),
    ("tier", "tier"),
    ("status", "status"),
    ("region", "region"),
    ("currency", "currency"),
    ("engineers", "certified_engineers"),
    ("csat", "csat"),
]
PROGRAMME_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("kind", "kind"),
    ("min tier", "min_tier"),
    ("types", "partner_types"),
    ("start", "start_on"),
    ("end", "end_on"),
    ("mdf budget", lambda p: f"{p['mdf_budget'] or '-'} {p['budget_currency'] or ''}".strip()),
]


def register(corporate: typer.Typer) -> None:
    """Add this sub-slice's command groups to ``novacron corporate``."""
    corporate.add_typer(partners_app, name="partners")
    corporate.add_typer(programs_app, name="partner-programmes")
    corporate.add_typer(cli_deals.deals_app, name="deals")
    corporate.add_typer(cli_money.mdf_app, name="mdf")
    corporate.add_typer(cli_money.rebates_app, name="rebates")


def given(**values: Any) -> dict[str, Any]:
    """The options the user actually gave (None means "not given")."""
    return {key: value for key, value in values.items() if value is not None}


# -- partners ------------------------------------------------------------------------------


@partners_app.command("list")
@handle_errors
def partners_list(
    ctx: typer.Context,
    type_: str | None = typer.Option(None, "--type", help="cloud, hardware, telco, ..."),
    status: str | None = typer.Option(None, "--status"),
    tier: str | None = typer.Option(None, "--tier"),
    region: str | None = typer.Option(None, "--region"),
    name: str | None = typer.Option(None, "--name", help="Name contains"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List partners."""
    cli = get_context(ctx)
    params = given(type=type_, status=status, tier=tier, region=region, name=name)
    with cli.client() as api:
        page = api.get(PARTNERS, params={**params, "limit": limit, "offset": offset})
        render(cli, page, PARTNER_COLUMNS, empty="no partners")


@partners_app.command("show")
@handle_errors
def partners_show(
    ctx: typer.Context, partner: str = typer.Argument(..., help="Name or id")
) -> None:
    """Show one partner."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{PARTNERS}/{seg(partner)}"))


@partners_app.command("create")
@handle_errors
def partners_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique partner name"),
    type_: str = typer.Option(
        ..., "--type", help="cloud, hardware, telco, system_integrator, reseller, technology"
    ),
    currency: str = typer.Option(..., "--currency", help="ISO 4217, e.g. USD"),
    region: str | None = typer.Option(None, "--region"),
    status: str | None = typer.Option(None, "--status", help="prospect (default), active, ..."),
    joined: str | None = typer.Option(None, "--joined", help="Joined date, YYYY-MM-DD"),
    engineers: int | None = typer.Option(None, "--engineers", help="Certified engineers"),
    csat: float | None = typer.Option(None, "--csat", help="Customer satisfaction 0-5"),
) -> None:
    """Create a partner (its tier is evaluated at once)."""
    cli = get_context(ctx)
    body = {"name": name, "type": type_, "currency": currency}
    body |= given(
        region=region, status=status, joined_on=joined, certified_engineers=engineers, csat=csat
    )
    with cli.client() as api:
        render(cli, api.post(PARTNERS, json=body))


@partners_app.command("update")
@handle_errors
def partners_update(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Name or id"),
    name: str | None = typer.Option(None, "--name"),
    type_: str | None = typer.Option(None, "--type"),
    region: str | None = typer.Option(None, "--region"),
    status: str | None = typer.Option(None, "--status"),
    engineers: int | None = typer.Option(None, "--engineers"),
    csat: float | None = typer.Option(None, "--csat"),
    last_activity: str | None = typer.Option(None, "--last-activity", help="YYYY-MM-DD"),
    notes: str | None = typer.Option(None, "--notes"),
) -> None:
    """Change a partner; the tier is re-evaluated when engineers or CSAT change."""
    cli = get_context(ctx)
    body = given(
        name=name, type=type_, region=region, status=status, certified_engineers=engineers,
        csat=csat, last_activity_on=last_activity, notes=notes,
    )  # fmt: skip
    with cli.client() as api:
        render(cli, api.request("PATCH", f"{PARTNERS}/{seg(partner)}", json=body))


@partners_app.command("tier")
@handle_errors
def partners_tier(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Name or id"),
    history: bool = typer.Option(False, "--history", help="Show the tier history instead"),
) -> None:
    """Evaluate the partner's tier now (and say what the next tier needs)."""
    cli = get_context(ctx)
    with cli.client() as api:
        if history:
            rows = api.get(f"{PARTNERS}/{seg(partner)}/tier-history")
            columns: list[Column] = [("at", "at"), ("from", "from_tier"), ("to", "to_tier"),
                                     ("reason", "reason")]  # fmt: skip
            render(cli, rows, columns, empty="no tier history")
            return
        result = api.post(f"{PARTNERS}/{seg(partner)}/evaluate-tier")
    if cli.json:
        render(cli, result)
        return
    change = f" (was {result['previous_tier']})" if result["changed"] else ""
    typer.echo(f"tier: {result['tier']}{change}")
    typer.echo(f"next: {result['summary']}")
    render(cli, result["next_tier_checks"], [
        ("criterion", "criterion"), ("required", "required"), ("actual", "actual"),
        ("passed", "passed"), ("gap", "gap"),
    ], empty="")  # fmt: skip


@partners_app.command("performance")
@handle_errors
def partners_performance(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Name or id"),
    start: str | None = typer.Option(None, "--start", help="YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end", help="YYYY-MM-DD (default today)"),
) -> None:
    """Sourced/influenced pipeline and revenue, win rate, per quarter."""
    cli = get_context(ctx)
    with cli.client() as api:
        result = api.get(
            f"{PARTNERS}/{seg(partner)}/performance", params=given(start=start, end=end)
        )
    if cli.json:
        render(cli, result)
        return
    columns: list[Column] = [
        ("period", "period"), ("sourced pipe", "sourced_pipeline"),
        ("influenced pipe", "influenced_pipeline"), ("sourced rev", "sourced_revenue"),
        ("influenced rev", "influenced_revenue"), ("won", "won"), ("lost", "lost"),
        ("win rate", lambda f: "-" if f["win_rate"] is None else f"{f['win_rate']:.0%}"),
        ("avg deal", "average_deal_size"),
    ]  # fmt: skip
    render(cli, [*result["periods"], result["total"]], columns)
    typer.echo(f"amounts in {result['currency']}")


@partners_app.command("health")
@handle_errors
def partners_health(
    ctx: typer.Context, partner: str = typer.Argument(..., help="Name or id")
) -> None:
    """The health score, component by component."""
    cli = get_context(ctx)
    with cli.client() as api:
        result = api.get(f"{PARTNERS}/{seg(partner)}/health")
    if cli.json:
        render(cli, result)
        return
    typer.echo(f"health: {result['score']:.1f} ({result['band']})")
    render(cli, result["components"], [
        ("component", "name"), ("weight", "weight"), ("score", "score"),
        ("points", "contribution"), ("why", "explanation"),
    ])  # fmt: skip


# -- programmes ----------------------------------------------------------------------------


@programs_app.command("list")
@handle_errors
def programs_list(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", help="co_sell, marketing, incentive"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List partner programmes."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get(PROGRAMMES, params={**given(kind=kind), "limit": limit, "offset": offset})
        render(cli, page, PROGRAMME_COLUMNS, empty="no programmes")


@programs_app.command("show")
@handle_errors
def programs_show(
    ctx: typer.Context, programme: str = typer.Argument(..., help="Name or id")
) -> None:
    """Show one programme."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{PROGRAMMES}/{seg(programme)}"))


@programs_app.command("create")
@handle_errors
def programs_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique programme name"),
    kind: str = typer.Option(..., "--kind", help="co_sell, marketing, incentive"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end", help="YYYY-MM-DD"),
    min_tier: str | None = typer.Option(None, "--min-tier", help="bronze (default) .. platinum"),
    partner_type: list[str] = typer.Option([], "--partner-type", help="Eligible type (repeat)"),
    benefit: list[str] = typer.Option([], "--benefit", help="A benefit (repeat)"),
    description: str | None = typer.Option(None, "--description"),
    budget: str | None = typer.Option(None, "--mdf-budget", help="MDF budget amount"),
    budget_currency: str | None = typer.Option(None, "--budget-currency"),
) -> None:
    """Create a programme."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"name": name, "kind": kind, "start_on": start}
    body |= given(end_on=end, min_tier=min_tier, description=description, mdf_budget=budget,
                  budget_currency=budget_currency)  # fmt: skip
    if partner_type:
        body["partner_types"] = partner_type
    if benefit:
        body["benefits"] = benefit
    with cli.client() as api:
        render(cli, api.post(PROGRAMMES, json=body))


@programs_app.command("enrol")
@handle_errors
def programs_enrol(
    ctx: typer.Context,
    programme: str = typer.Argument(..., help="Programme name or id"),
    partner: str = typer.Argument(..., help="Partner name or id"),
) -> None:
    """Enrol a partner (refused with the reasons when it is not eligible)."""
    cli = get_context(ctx)
    with cli.client() as api:
        enrolment = api.post(f"{PROGRAMMES}/{seg(programme)}/enrol", json={"partner": partner})
    message(cli, f"enrolled {partner} in {programme} ({enrolment['id']})", enrolment)


@programs_app.command("enrolments")
@handle_errors
def programs_enrolments(
    ctx: typer.Context, programme: str = typer.Argument(..., help="Programme name or id")
) -> None:
    """The partners enrolled in a programme."""
    cli = get_context(ctx)
    with cli.client() as api:
        rows = api.get(f"{PROGRAMMES}/{seg(programme)}/enrolments")
    columns: list[Column] = [
        ("partner", "partner_id"),
        ("enrolled", "enrolled_at"),
        ("by", "enrolled_by"),
    ]
    render(cli, rows, columns, empty="no enrolments")
