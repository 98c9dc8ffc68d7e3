"""``novacron corporate ecosystem jv``: joint ventures."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, render, seg
from novacron.corporate.ecosystem.cli_common import BASE, LIMIT, OFFSET, pair, show, some

jv_app = typer.Typer(
    help="Joint ventures: equity split, investments, results.", no_args_is_help=True
)
PATH = f"{BASE}/joint-ventures"

JV_COLUMNS: list[Column] = [
    ("name", "name"),
    ("status", "status"),
    ("currency", "currency"),
    ("parties", lambda j: ", ".join(f"{p['name']} {p['equity_pct']}%" for p in j["parties"])),
    ("invested", "invested"),
    ("profit", "profit"),
    ("distributed", "distributed"),
]
PARTY_COLUMNS: list[Column] = [
    ("party", "name"),
    ("equity %", "equity_pct"),
    ("us", "is_us"),
    ("invested", "invested"),
    ("profit share", "share_of_profit"),
    ("distributions", "distributions"),
    ("return", "simple_return"),
]
INVESTMENT_COLUMNS: list[Column] = [
    ("date", "invested_on"),
    ("party", "party"),
    ("amount", "amount"),
    ("currency", "currency"),
    ("note", "note"),
]
PERIOD_COLUMNS: list[Column] = [
    ("period", "period"),
    ("revenue", "revenue"),
    ("profit", "profit"),
    ("distribution", "distribution"),
    ("split", lambda p: ", ".join(f"{s['party']} {s['amount']}" for s in p["shares"])),
]
SECTIONS = [
    ("parties", "parties", PARTY_COLUMNS),
    ("investments", "investments", INVESTMENT_COLUMNS),
    ("periods", "periods", PERIOD_COLUMNS),
]


@jv_app.command("list")
@handle_errors
def jv_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="forming, active or dissolved"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List joint ventures with their money figures."""
    cli = get_context(ctx)
    params = {"status": status, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get(PATH, params=params), JV_COLUMNS, empty="no joint ventures")


@jv_app.command("show")
@handle_errors
def jv_show(ctx: typer.Context, jv: str = typer.Argument(..., help="Name or id")) -> None:
    """One joint venture: parties' positions, investments, results."""
    cli = get_context(ctx)
    with cli.client() as api:
        show(cli, api.get(f"{PATH}/{seg(jv)}"), SECTIONS)


@jv_app.command("create")
@handle_errors
def jv_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique name"),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 code, e.g. USD"),
    party: list[str] = typer.Option(..., "--party", help="NAME=EQUITY_PCT (repeat; sum 100)"),
    us: str | None = typer.Option(None, "--us", help="Which party is our company"),
    purpose: str | None = typer.Option(None, "--purpose"),
    status: str | None = typer.Option(None, "--status", help="forming (default), active"),
    formed: str | None = typer.Option(None, "--formed", help="Formation date YYYY-MM-DD"),
) -> None:
    """Create a joint venture with its cap table."""
    cli = get_context(ctx)
    parties: list[dict[str, Any]] = []
    for text in party:
        pname, pct = pair(text, "--party")
        parties.append({"name": pname, "equity_pct": pct, "is_us": pname == us})
    body = {"name": name, "currency": currency, "parties": parties}
    body |= some(purpose=purpose, status=status, formation_date=formed)
    with cli.client() as api:
        show(cli, api.post(PATH, json=body), SECTIONS)


@jv_app.command("invest")
@handle_errors
def jv_invest(
    ctx: typer.Context,
    jv: str = typer.Argument(..., help="Name or id"),
    party: str = typer.Argument(..., help="Party name or id"),
    amount: str = typer.Argument(..., help="Amount, e.g. 2500000.00"),
    currency: str = typer.Option(..., "--currency"),
    on: str = typer.Option(..., "--on", help="Date YYYY-MM-DD"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Record a party's contribution to a joint venture."""
    cli = get_context(ctx)
    body = {"party": party, "amount": amount, "currency": currency, "invested_on": on}
    with cli.client() as api:
        render(cli, api.post(f"{PATH}/{seg(jv)}/investments", json=body | some(note=note)))


@jv_app.command("report-period")
@handle_errors
def jv_report_period(
    ctx: typer.Context,
    jv: str = typer.Argument(..., help="Name or id"),
    period: str = typer.Argument(..., help="2026, 2026-H1, 2026-Q3 or 2026-07"),
    revenue: str = typer.Option(..., "--revenue"),
    profit: str = typer.Option(..., "--profit"),
    currency: str = typer.Option(..., "--currency"),
    distribution: str | None = typer.Option(
        None, "--distribution", help="Cash distributed (default: the profit, if positive)"
    ),
) -> None:
    """Record a period's revenue and profit; prints the distribution split by equity."""
    cli = get_context(ctx)
    body = {"period": period, "revenue": revenue, "profit": profit, "currency": currency}
    with cli.client() as api:
        answer = api.post(f"{PATH}/{seg(jv)}/periods", json=body | some(distribution=distribution))
        show(
            cli,
            answer,
            [
                (
                    "split",
                    "shares",
                    [("party", "party"), ("equity %", "equity_pct"), ("amount", "amount")],
                )
            ],
        )


@jv_app.command("distributions")
@handle_errors
def jv_distributions(ctx: typer.Context, jv: str = typer.Argument(..., help="Name or id")) -> None:
    """Each period's distribution split by equity, and each party's total."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{PATH}/{seg(jv)}/distributions")
        show(
            cli,
            data,
            [
                ("periods", "periods", PERIOD_COLUMNS),
                (
                    "by party",
                    "by_party",
                    [("party", "party"), ("equity %", "equity_pct"), ("received", "amount")],
                ),
            ],
        )
