"""``novacron corporate deals …``: deal registration from the command line."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, render, seg

deals_app = typer.Typer(
    help="Deal registration: duplicates, conflicts, expiry.", no_args_is_help=True
)
BASE = "/corporate/deal-registrations"

COLUMNS: list[Column] = [
    ("id", "id"),
    ("partner", "partner_id"),
    ("customer", "customer_name"),
    ("product", "product"),
    ("amount", lambda r: f"{r['amount']} {r['currency']}"),
    ("status", "status"),
    ("conflict", lambda r: ", ".join(r["conflict_with"]) if r["conflict"] else "-"),
    ("expires", "expires_at"),
]


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@deals_app.command("register")
@handle_errors
def deals_register(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Partner name or id"),
    customer: str = typer.Argument(..., help="Customer name"),
    product: str = typer.Argument(..., help="Product or opportunity"),
    amount: str = typer.Option(..., "--amount", help="Deal value"),
    currency: str = typer.Option(..., "--currency", help="The partner's currency"),
    motion: str | None = typer.Option(None, "--motion", help="sourced (default) or influenced"),
    expected_close: str | None = typer.Option(None, "--expected-close", help="YYYY-MM-DD"),
    valid_days: int | None = typer.Option(None, "--valid-days", help="Days until expiry (90)"),
) -> None:
    """Register a deal (refused as a duplicate; flagged when another partner holds it)."""
    cli = get_context(ctx)
    body = {"partner": partner, "customer_name": customer, "product": product,
            "amount": amount, "currency": currency}  # fmt: skip
    body |= _given(motion=motion, expected_close=expected_close, valid_days=valid_days)
    with cli.client() as api:
        render(cli, api.post(BASE, json=body))


@deals_app.command("list")
@handle_errors
def deals_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner"),
    status: str | None = typer.Option(None, "--status"),
    conflict: bool | None = typer.Option(None, "--conflict/--no-conflict", help="Flagged only"),
    limit: int = typer.Option(100, "--limit"),
    offset: int = typer.Option(0, "--offset"),
) -> None:
    """List registrations (expired ones are marked as they are read)."""
    cli = get_context(ctx)
    params = _given(partner=partner, status=status, conflict=conflict)
    with cli.client() as api:
        page = api.get(BASE, params={**params, "limit": limit, "offset": offset})
        render(cli, page, COLUMNS, empty="no deal registrations")


@deals_app.command("show")
@handle_errors
def deals_show(ctx: typer.Context, reg: str = typer.Argument(..., help="Registration id")) -> None:
    """Show one registration."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"{BASE}/{seg(reg)}"))


@deals_app.command("approve")
@handle_errors
def deals_approve(
    ctx: typer.Context, reg: str = typer.Argument(..., help="Registration id")
) -> None:
    """Approve (first approved wins: rival pending registrations are rejected)."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/{seg(reg)}/approve"))


@deals_app.command("reject")
@handle_errors
def deals_reject(
    ctx: typer.Context,
    reg: str = typer.Argument(..., help="Registration id"),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Reject a registration."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/{seg(reg)}/reject", json={"reason": reason}))


@deals_app.command("extend")
@handle_errors
def deals_extend(
    ctx: typer.Context,
    reg: str = typer.Argument(..., help="Registration id"),
    days: int = typer.Option(30, "--days", help="Days to add to the expiry"),
) -> None:
    """Push the expiry out."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/{seg(reg)}/extend", json={"days": days}))


@deals_app.command("close")
@handle_errors
def deals_close(
    ctx: typer.Context,
    reg: str = typer.Argument(..., help="Registration id"),
    outcome: str = typer.Argument(..., help="won or lost"),
    closed_on: str | None = typer.Option(None, "--closed-on", help="YYYY-MM-DD (default today)"),
    amount: str | None = typer.Option(None, "--amount", help="Final amount if it changed"),
) -> None:
    """Close a registration won or lost (re-evaluates the partner's tier)."""
    cli = get_context(ctx)
    body = {"outcome": outcome} | _given(closed_on=closed_on, amount=amount)
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/{seg(reg)}/close", json=body))


@deals_app.command("expire")
@handle_errors
def deals_expire(
    ctx: typer.Context,
    now: str | None = typer.Option(None, "--now", help="ISO time to expire at (default now)"),
) -> None:
    """Sweep: expire every open registration past its expiry."""
    cli = get_context(ctx)
    with cli.client() as api:
        result = api.post(f"{BASE}/expire", json=_given(now=now))
    if cli.json:
        render(cli, result)
    else:
        typer.echo(f"expired {len(result['expired'])}: {', '.join(result['expired']) or '-'}")
