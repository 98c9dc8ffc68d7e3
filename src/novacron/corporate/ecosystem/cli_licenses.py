"""``novacron corporate ecosystem licenses``: licensing agreements and their revenue."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, render, seg
from novacron.corporate.ecosystem.cli_common import BASE, LIMIT, OFFSET, pair, show, some

licenses_app = typer.Typer(
    help="Licensing agreements: royalties, sales reports, revenue schedule.", no_args_is_help=True
)
PATH = f"{BASE}/licenses"

LICENSE_COLUMNS: list[Column] = [
    ("name", "name"),
    ("dir", "direction"),
    ("licensor", "licensor"),
    ("licensee", "licensee"),
    ("term", lambda lic: f"{lic['term_start']} – {lic['term_end']}"),
    ("currency", "currency"),
    ("reports", "sales_reports"),
    ("recognised", "recognised"),
]
SCHEDULE_COLUMNS: list[Column] = [
    ("period", lambda r: f"{r['period_start']} – {r['period_end']}"),
    ("year", "contract_year"),
    ("net sales", "net_sales"),
    ("ytd sales", "year_to_date_sales"),
    ("royalty", "royalty"),
    ("fee", "upfront_fee"),
    ("milestones", "milestones"),
    ("MAG true-up", "mag_true_up"),
    ("total", "total"),
]
SECTIONS = [
    ("royalty tiers", "royalty_tiers", [("from sales", "from_sales"), ("rate %", "rate_pct")]),
    (
        "milestones",
        "milestones",
        [("name", "name"), ("amount", "amount"), ("achieved", "achieved_on")],
    ),
]


@licenses_app.command("list")
@handle_errors
def license_list(
    ctx: typer.Context,
    direction: str | None = typer.Option(None, "--direction", help="in or out"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List licensing agreements with the revenue recognised so far."""
    cli = get_context(ctx)
    params = {"direction": direction, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get(PATH, params=params), LICENSE_COLUMNS, empty="no licences")


@licenses_app.command("show")
@handle_errors
def license_show(ctx: typer.Context, lic: str = typer.Argument(..., help="Name or id")) -> None:
    """One licensing agreement with its tiers and milestones."""
    cli = get_context(ctx)
    with cli.client() as api:
        show(cli, api.get(f"{PATH}/{seg(lic)}"), SECTIONS)


def _milestone(text: str) -> dict[str, Any]:
    """``NAME=AMOUNT`` or ``NAME=AMOUNT@YYYY-MM-DD`` (achieved on that day)."""
    name, value = pair(text, "--milestone")
    amount, _, achieved = value.partition("@")
    return {"name": name, "amount": amount} | some(achieved_on=achieved or None)


@licenses_app.command("create")
@handle_errors
def license_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique name"),
    direction: str = typer.Option(
        ..., "--direction", help="out: we license out; in: we license in"
    ),
    licensor: str = typer.Option(..., "--licensor"),
    licensee: str = typer.Option(..., "--licensee"),
    start: str = typer.Option(..., "--start", help="Term start YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", help="Term end YYYY-MM-DD"),
    currency: str = typer.Option(..., "--currency"),
    tier: list[str] = typer.Option(
        ..., "--tier", help="FROM_SALES=RATE_PCT (repeat; first from 0), e.g. 0=5 1000000=3"
    ),
    mag: str | None = typer.Option(None, "--mag", help="Minimum annual guarantee"),
    upfront_fee: str | None = typer.Option(None, "--upfront-fee"),
    recognition: str | None = typer.Option(
        None, "--recognition", help="straight_line (default) or point_in_time"
    ),
    milestone: list[str] | None = typer.Option(
        None, "--milestone", help="NAME=AMOUNT[@ACHIEVED_DATE] (repeat)"
    ),
    ip: str | None = typer.Option(None, "--ip", help="The licensed IP"),
    territory: str | None = typer.Option(None, "--territory"),
) -> None:
    """Create a licensing agreement."""
    cli = get_context(ctx)
    tiers = []
    for text in tier:
        from_sales, rate = pair(text, "--tier")
        tiers.append({"from_sales": from_sales, "rate_pct": rate})
    body: dict[str, Any] = {
        "name": name,
        "direction": direction,
        "licensor": licensor,
        "licensee": licensee,
        "term_start": start,
        "term_end": end,
        "currency": currency,
        "royalty_tiers": tiers,
        "milestones": [_milestone(text) for text in milestone or []],
    }
    body |= some(
        minimum_annual_guarantee=mag,
        upfront_fee=upfront_fee,
        upfront_recognition=recognition,
        licensed_ip=ip,
        territory=territory,
    )
    with cli.client() as api:
        show(cli, api.post(PATH, json=body), SECTIONS)


@licenses_app.command("report-sales")
@handle_errors
def license_report_sales(
    ctx: typer.Context,
    lic: str = typer.Argument(..., help="Name or id"),
    start: str = typer.Argument(..., help="Period start YYYY-MM-DD"),
    end: str = typer.Argument(..., help="Period end YYYY-MM-DD"),
    currency: str = typer.Option(..., "--currency"),
    net_sales: str | None = typer.Option(None, "--net-sales"),
    line: list[str] | None = typer.Option(
        None, "--line", help="LABEL=AMOUNT or LABEL=AMOUNT:CURRENCY (repeat; summed)"
    ),
) -> None:
    """Record a period's net sales (one figure, or lines that are summed)."""
    cli = get_context(ctx)
    lines = []
    for text in line or []:
        label, value = pair(text, "--line")
        amount, _, cur = value.partition(":")
        lines.append({"label": label, "net_sales": amount, "currency": cur or currency})
    body: dict[str, Any] = {"period_start": start, "period_end": end, "currency": currency}
    body |= some(net_sales=net_sales, lines=lines or None)
    with cli.client() as api:
        render(cli, api.post(f"{PATH}/{seg(lic)}/sales-reports", json=body))


@licenses_app.command("schedule")
@handle_errors
def license_schedule(ctx: typer.Context, lic: str = typer.Argument(..., help="Name or id")) -> None:
    """Revenue recognised per reported period, and totals."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{PATH}/{seg(lic)}/schedule")
    if cli.json:
        render(cli, data)
        return
    render(cli, data["rows"], SCHEDULE_COLUMNS, empty="no sales reported")
    totals = data["totals"]
    typer.echo(
        f"totals ({data['currency']}): royalty {totals['royalty']}, fee {totals['upfront_fee']}, "
        f"milestones {totals['milestones']}, MAG true-up {totals['mag_true_up']}, "
        f"total {totals['total']}"
    )
