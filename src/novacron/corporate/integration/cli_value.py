"""``novacron corporate realisation|retention``: synergies against plan, retention."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, message, render, seg
from novacron.core.errors import Invalid
from novacron.corporate.integration.cli_common import AS_OF, PROGRAMME, base, given, pct

realisation_app = typer.Typer(help="Synergy realisation against plan.", no_args_is_help=True)
retention_app = typer.Typer(help="Key employees and customers kept.", no_args_is_help=True)

REALISATION_COLUMNS: list[Column] = [
    ("line", "name"),
    ("category", "category"),
    ("run-rate", lambda r: f"{r['run_rate']} {r['currency']}" if "run_rate" in r else "-"),
    ("plan to date", lambda r: r["realisation"]["planned_to_date"]),
    ("actual to date", lambda r: r["realisation"]["actual_to_date"]),
    ("realised", lambda r: pct(r["realisation"]["pct"])),
    ("id", "id"),
]
EMPLOYEE_COLUMNS: list[Column] = [
    ("name", "name"),
    ("role", "role"),
    ("flight risk", "flight_risk"),
    ("bonus", lambda e: f"{e['retention_bonus']} {e['currency']}"),
    ("status", "status"),
    ("id", "id"),
]
CUSTOMER_COLUMNS: list[Column] = [
    ("name", "name"),
    ("ARR", lambda c: f"{c['arr']} {c['currency']}"),
    ("status", "status"),
    ("id", "id"),
]


@realisation_app.command("show")
@handle_errors
def realisation_show(
    ctx: typer.Context, programme: str = PROGRAMME, as_of: str | None = AS_OF
) -> None:
    """Plan vs actual per synergy line, by category and overall."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{base(programme)}/synergies", params={"as_of": as_of})
    if cli.json:
        render(cli, data)
        return
    totals = [
        {"name": f"total {cat}", "category": cat, "realisation": data["by_category"][cat]}
        for cat in ("revenue", "cost")
    ]
    overall = {"name": "overall", "realisation": data["overall"]}
    render(cli, [*data["lines"], *totals, overall], REALISATION_COLUMNS, empty="no synergy plan")
    typer.echo(
        f"{data['elapsed_periods']} quarter(s) elapsed as of {data['as_of']}; "
        f"amounts in {data['currency']}"
    )


def _line_id(api: Any, programme: str, line: str) -> str:
    """A plan line by id or by name."""
    lines = api.get(f"{base(programme)}/synergies")["lines"]
    for item in lines:
        if line in (item["id"], item["name"]):
            return str(item["id"])
    raise Invalid(f"no synergy plan line {line!r} in programme {programme}")


@realisation_app.command("record")
@handle_errors
def realisation_record(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    line: str = typer.Argument(..., help="Synergy plan line id or name"),
    period: int = typer.Argument(..., help="Quarter after close, from 1"),
    amount: str = typer.Argument(..., help="Decimal amount, e.g. 95000.00"),
    currency: str = typer.Option(..., "--currency", help="Must be the plan line's currency"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Record the actual of a synergy line for one quarter (again: a correction)."""
    cli = get_context(ctx)
    with cli.client() as api:
        body = {
            "line_id": _line_id(api, programme, line),
            "period": period,
            "amount": amount,
            "currency": currency,
            "note": note,
        }
        out = api.post(f"{base(programme)}/synergies/actuals", json=body)
    message(cli, f"recorded {out['amount']} {out['currency']} for quarter {period}", out)


@retention_app.command("show")
@handle_errors
def retention_show(ctx: typer.Context, programme: str = PROGRAMME) -> None:
    """Key employees and customers with the computed retention rates."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{base(programme)}/retention")
    if cli.json:
        render(cli, data)
        return
    render(cli, data["employees"], EMPLOYEE_COLUMNS, empty="no key employees")
    render(cli, data["customers"], CUSTOMER_COLUMNS, empty="no key customers")
    rates = data["rates"]
    typer.echo(
        f"headcount retention {pct(rates['headcount_retention_pct'])}, "
        f"ARR retention {pct(rates['arr_retention_pct'])} "
        f"({rates['arr_retained']} of {rates['arr_total']} {data['currency']}, "
        f"{rates['arr_at_risk']} at risk)"
    )


@retention_app.command("add-employee")
@handle_errors
def retention_add_employee(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    name: str = typer.Argument(...),
    role: str = typer.Option(..., "--role"),
    flight_risk: str = typer.Option("medium", "--flight-risk", help="low, medium, high"),
    bonus: str = typer.Option("0", "--bonus", help="Retention bonus (decimal)"),
    currency: str | None = typer.Option(None, "--currency", help="Default: the programme's"),
    status: str = typer.Option("retained", "--status", help="retained or left"),
) -> None:
    """Track a key employee."""
    cli = get_context(ctx)
    body = given(
        name=name,
        role=role,
        flight_risk=flight_risk,
        retention_bonus=bonus,
        currency=currency,
        status=status,
    )
    with cli.client() as api:
        out = api.post(f"{base(programme)}/retention/employees", json=body)
    message(cli, f"tracking key employee {out['id']}", out)


@retention_app.command("add-customer")
@handle_errors
def retention_add_customer(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    name: str = typer.Argument(...),
    arr: str = typer.Option(..., "--arr", help="Annual recurring revenue (decimal)"),
    currency: str | None = typer.Option(None, "--currency", help="Default: the programme's"),
    status: str = typer.Option("retained", "--status", help="retained, at_risk or churned"),
) -> None:
    """Track a key customer."""
    cli = get_context(ctx)
    body = given(name=name, arr=arr, currency=currency, status=status)
    with cli.client() as api:
        out = api.post(f"{base(programme)}/retention/customers", json=body)
    message(cli, f"tracking key customer {out['id']}", out)


@retention_app.command("update")
@handle_errors
def retention_update(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    kind: str = typer.Argument(..., help="employee or customer"),
    ref: str = typer.Argument(..., help="Its id"),
    status: str | None = typer.Option(None, "--status"),
    flight_risk: str | None = typer.Option(None, "--flight-risk", help="Employees"),
    role: str | None = typer.Option(None, "--role", help="Employees"),
    bonus: str | None = typer.Option(None, "--bonus", help="Employees: retention bonus"),
    arr: str | None = typer.Option(None, "--arr", help="Customers: ARR"),
    currency: str | None = typer.Option(None, "--currency"),
) -> None:
    """Change a key employee's or customer's status or figures."""
    cli = get_context(ctx)
    if kind == "employee":
        path = "employees"
        body = given(
            status=status,
            flight_risk=flight_risk,
            role=role,
            retention_bonus=bonus,
            currency=currency,
        )
    elif kind == "customer":
        path = "customers"
        body = given(status=status, arr=arr, currency=currency)
    else:
        raise Invalid(f"KIND must be employee or customer, not {kind!r}")
    with cli.client() as api:
        out = api.request("PATCH", f"{base(programme)}/retention/{path}/{seg(ref)}", json=body)
    message(cli, f"{kind} {out['id']}: {out['status']}", out)
