"""``novacron corporate mdf …`` and ``novacron corporate rebates …``."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, render, seg

mdf_app = typer.Typer(help="Market development funds and the partner ledger.", no_args_is_help=True)
rebates_app = typer.Typer(help="Volume rebates by tier.", no_args_is_help=True)
MDF = "/corporate/mdf"

MDF_COLUMNS: list[Column] = [
    ("id", "id"),
    ("partner", "partner_id"),
    ("activity", "activity"),
    ("state", "state"),
    ("currency", "currency"),
    ("requested", "requested_amount"),
    ("approved", "approved_amount"),
    ("claimed", "claimed_amount"),
    ("paid", "paid_amount"),
]
ENTRY_COLUMNS: list[Column] = [
    ("booked", "booked_at"),
    ("kind", "kind"),
    ("partner", "partner_id"),
    ("mdf", "mdf_request_id"),
    ("amount", lambda e: f"{e['amount']} {e['currency']}"),
    ("memo", "memo"),
]
BALANCE_COLUMNS: list[Column] = [
    ("currency", "currency"),
    ("approved", "approved"),
    ("claimed", "claimed"),
    ("paid", "paid"),
    ("remaining", "remaining"),
    ("rebates accrued", "rebates_accrued"),
]


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@mdf_app.command("request")
@handle_errors
def mdf_request(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Partner name or id"),
    programme: str = typer.Argument(..., help="Programme name or id (partner enrolled)"),
    activity: str = typer.Argument(..., help="What the funds are for"),
    amount: str = typer.Option(..., "--amount"),
    currency: str = typer.Option(..., "--currency"),
    start: str = typer.Option(..., "--start", help="Planned start, YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", help="Planned end, YYYY-MM-DD"),
    description: str | None = typer.Option(None, "--description"),
) -> None:
    """Request market development funds."""
    cli = get_context(ctx)
    body = {"partner": partner, "programme": programme, "activity": activity, "amount": amount,
            "currency": currency, "planned_start": start, "planned_end": end}  # fmt: skip
    body |= _given(description=description)
    with cli.client() as api:
        render(cli, api.post(MDF, json=body))


@mdf_app.command("list")
@handle_errors
def mdf_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner"),
    programme: str | None = typer.Option(None, "--programme"),
    state: str | None = typer.Option(None, "--state"),
    limit: int = typer.Option(100, "--limit"),
    offset: int = typer.Option(0, "--offset"),
) -> None:
    """List MDF requests."""
    cli = get_context(ctx)
    params = _given(partner=partner, programme=programme, state=state)
    with cli.client() as api:
        page = api.get(MDF, params={**params, "limit": limit, "offset": offset})
        render(cli, page, MDF_COLUMNS, empty="no MDF requests")


@mdf_app.command("show")
@handle_errors
def mdf_show(
    ctx: typer.Context, request_id: str = typer.Argument(..., help="MDF request id")
) -> None:
    """Show one MDF request."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{MDF}/{seg(request_id)}"))


@mdf_app.command("approve")
@handle_errors
def mdf_approve(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="MDF request id"),
    amount: str | None = typer.Option(None, "--amount", help="Approved amount (≤ requested)"),
) -> None:
    """Approve a request (in full, or a lower amount)."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(
            cli, api.post(f"{MDF}/{seg(request_id)}/approve", json=_given(approved_amount=amount))
        )


@mdf_app.command("reject")
@handle_errors
def mdf_reject(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="MDF request id"),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Reject a request."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"{MDF}/{seg(request_id)}/reject", json={"reason": reason}))


@mdf_app.command("claim")
@handle_errors
def mdf_claim(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="MDF request id"),
    amount: str = typer.Option(..., "--amount", help="Claimed amount (≤ approved)"),
    currency: str = typer.Option(..., "--currency"),
    proof: str = typer.Option(..., "--proof", help="Proof: a URL or document name"),
    invoice_date: str = typer.Option(..., "--invoice-date", help="YYYY-MM-DD"),
) -> None:
    """Claim approved funds with proof."""
    cli = get_context(ctx)
    body = {"claimed_amount": amount, "currency": currency, "proof": proof,
            "invoice_date": invoice_date}  # fmt: skip
    with cli.client() as api:
        render(cli, api.post(f"{MDF}/{seg(request_id)}/claim", json=body))


@mdf_app.command("pay")
@handle_errors
def mdf_pay(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="MDF request id"),
    paid_on: str | None = typer.Option(None, "--paid-on", help="YYYY-MM-DD (default today)"),
) -> None:
    """Pay out a claim."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"{MDF}/{seg(request_id)}/pay", json=_given(paid_on=paid_on)))


@mdf_app.command("ledger")
@handle_errors
def mdf_ledger(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner"),
    programme: str | None = typer.Option(None, "--programme"),
) -> None:
    """Ledger entries and balances (approved, claimed, paid, remaining)."""
    cli = get_context(ctx)
    with cli.client() as api:
        result = api.get(f"{MDF}/ledger", params=_given(partner=partner, programme=programme))
    if cli.json:
        render(cli, result)
        return
    render(cli, result["entries"], ENTRY_COLUMNS, empty="no ledger entries")
    if result["balances"]:
        typer.echo("")
        render(cli, result["balances"], BALANCE_COLUMNS)


@rebates_app.command("schedules")
@handle_errors
def rebates_schedules(ctx: typer.Context) -> None:
    """Each tier's rebate schedule."""
    cli = get_context(ctx)
    with cli.client() as api:
        rows = api.get("/corporate/rebates/schedules")

    def bands(s: dict[str, Any]) -> str:
        return "; ".join(
            f"{'above' if b['up_to'] is None else 'to ' + b['up_to']}: {b['rate']}"
            for b in s["bands"]
        )

    render(cli, rows, [("tier", "tier"), ("method", "method"), ("bands", bands),
                       ("custom", "custom")])  # fmt: skip


@rebates_app.command("compute")
@handle_errors
def rebates_compute(
    ctx: typer.Context,
    start: str = typer.Option(..., "--start", help="Period start, YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", help="Period end, YYYY-MM-DD"),
    partner: str | None = typer.Option(None, "--partner", help="One partner (default all)"),
    book: bool = typer.Option(False, "--book", help="Book the rebates to the ledger"),
) -> None:
    """Compute (and optionally book) rebates on won revenue in a period."""
    cli = get_context(ctx)
    body = {"period_start": start, "period_end": end, "book": book} | _given(partner=partner)
    with cli.client() as api:
        result = api.post("/corporate/rebates/compute", json=body)
    if cli.json:
        render(cli, result)
        return
    render(cli, result["rebates"], [
        ("partner", "partner_name"), ("tier", "tier"), ("method", "method"),
        ("volume", lambda r: f"{r['volume']} {r['currency']}"),
        ("rebate", lambda r: f"{r['amount']} {r['currency']}"),
        ("booked", "ledger_entry_id"),
    ], empty="no won revenue in the period")  # fmt: skip
