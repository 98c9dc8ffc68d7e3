"""``novacron corporate ecosystem labs|academic|government``."""

from __future__ import annotations

from typing import Any

import typer

from novacron.core.cli_support import Column, get_context, handle_errors, render, seg
from novacron.corporate.ecosystem.cli_common import BASE, LIMIT, OFFSET, show, some

labs_app = typer.Typer(help="Co-innovation labs: budget, spend, projects.", no_args_is_help=True)
academic_app = typer.Typer(help="Academic partnerships and their outputs.", no_args_is_help=True)
government_app = typer.Typer(
    help="Government partnerships and certifications (FedRAMP …).", no_args_is_help=True
)

LAB_COLUMNS: list[Column] = [
    ("name", "name"),
    ("status", "status"),
    ("partners", "partners"),
    ("focus", "focus_area"),
    ("budget", lambda lab: f"{lab['budget']} {lab['currency']}"),
    ("spent", "spent"),
    ("used %", "utilisation_pct"),
    ("projects", lambda lab: len(lab["projects"])),
]
PROJECT_COLUMNS: list[Column] = [("title", "title"), ("status", "status"), ("outcome", "outcome")]
ACADEMIC_COLUMNS: list[Column] = [
    ("id", "id"),
    ("institution", "institution"),
    ("type", "programme_type"),
    ("status", "status"),
    ("funding", lambda a: f"{a['funding']} {a['currency']}"),
    ("outputs", "output_counts"),
]
GOV_COLUMNS: list[Column] = [
    ("id", "id"),
    ("agency", "agency"),
    ("programme", "programme"),
    ("jurisdiction", "jurisdiction"),
    ("vehicle", "contract_vehicle"),
    (
        "certifications",
        lambda g: ", ".join(f"{c['name']} ({c['effective_status']})" for c in g["certifications"]),
    ),
]
CERT_COLUMNS: list[Column] = [
    ("name", "name"),
    ("status", "status"),
    ("effective", "effective_status"),
    ("authorized", "authorized_on"),
    ("expires", "expires_on"),
    ("days left", "days_to_expiry"),
    ("expiring soon", "expiring_soon"),
]
TODAY = typer.Option(None, "--today", help="Evaluate dates as of YYYY-MM-DD")

# -- labs -------------------------------------------------------------------------------------


@labs_app.command("list")
@handle_errors
def lab_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="proposed, active or concluded"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List labs with budget utilisation."""
    cli = get_context(ctx)
    params = {"status": status, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get(f"{BASE}/labs", params=params), LAB_COLUMNS, empty="no labs")


@labs_app.command("show")
@handle_errors
def lab_show(ctx: typer.Context, lab: str = typer.Argument(..., help="Name or id")) -> None:
    """One lab with its projects."""
    cli = get_context(ctx)
    with cli.client() as api:
        show(cli, api.get(f"{BASE}/labs/{seg(lab)}"), [("projects", "projects", PROJECT_COLUMNS)])


@labs_app.command("create")
@handle_errors
def lab_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique name"),
    partner: list[str] = typer.Option(..., "--partner", help="Partner name (repeat)"),
    budget: str = typer.Option(..., "--budget"),
    currency: str = typer.Option(..., "--currency"),
    focus: str | None = typer.Option(None, "--focus", help="Focus area"),
    status: str | None = typer.Option(None, "--status", help="proposed (default) or active"),
) -> None:
    """Create a co-innovation lab."""
    cli = get_context(ctx)
    body = {"name": name, "partners": partner, "budget": budget, "currency": currency}
    with cli.client() as api:
        lab = api.post(f"{BASE}/labs", json=body | some(focus_area=focus, status=status))
        show(cli, lab, [("projects", "projects", PROJECT_COLUMNS)])


@labs_app.command("set-status")
@handle_errors
def lab_set_status(
    ctx: typer.Context,
    lab: str = typer.Argument(..., help="Name or id"),
    status: str = typer.Argument(..., help="active or concluded"),
) -> None:
    """Move a lab forward: proposed → active → concluded."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.request("PATCH", f"{BASE}/labs/{seg(lab)}", json={"status": status}))


@labs_app.command("spend")
@handle_errors
def lab_spend(
    ctx: typer.Context,
    lab: str = typer.Argument(..., help="Name or id"),
    amount: str = typer.Argument(..., help="Amount spent"),
    currency: str = typer.Option(..., "--currency"),
    on: str = typer.Option(..., "--on", help="Date YYYY-MM-DD"),
    description: str | None = typer.Option(None, "--description"),
) -> None:
    """Record spend against a lab's budget."""
    cli = get_context(ctx)
    body = {"amount": amount, "currency": currency, "spent_on": on}
    with cli.client() as api:
        render(
            cli,
            api.post(f"{BASE}/labs/{seg(lab)}/spend", json=body | some(description=description)),
        )


@labs_app.command("project")
@handle_errors
def lab_project(
    ctx: typer.Context,
    lab: str = typer.Argument(..., help="Name or id"),
    title: str = typer.Argument(..., help="Project title (created when new)"),
    status: str | None = typer.Option(
        None, "--status", help="planned, active, completed, cancelled"
    ),
    outcome: str | None = typer.Option(
        None, "--outcome", help="prototype, patent, product_feature or none"
    ),
) -> None:
    """Add a project to a lab, or update an existing one's status and outcome."""
    cli = get_context(ctx)
    fields = some(status=status, outcome=outcome)
    with cli.client() as api:
        current = api.get(f"{BASE}/labs/{seg(lab)}")
        if any(p["title"] == title for p in current["projects"]):
            answer = api.request(
                "PATCH", f"{BASE}/labs/{seg(lab)}/projects/{seg(title)}", json=fields
            )
        else:
            answer = api.post(f"{BASE}/labs/{seg(lab)}/projects", json={"title": title} | fields)
        render(cli, answer)


# -- academic ---------------------------------------------------------------------------------


@academic_app.command("list")
@handle_errors
def academic_list(
    ctx: typer.Context,
    programme_type: str | None = typer.Option(None, "--type", help="research_grant, fellowship, …"),
    today: str | None = TODAY,
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List academic partnerships with their output counts."""
    cli = get_context(ctx)
    params = {"programme_type": programme_type, "today": today, "limit": limit, "offset": offset}
    with cli.client() as api:
        page = api.get(f"{BASE}/academic", params=params)
        render(cli, page, ACADEMIC_COLUMNS, empty="no academic partnerships")


@academic_app.command("show")
@handle_errors
def academic_show(
    ctx: typer.Context, ref: str = typer.Argument(..., help="Id"), today: str | None = TODAY
) -> None:
    """One academic partnership with its outputs."""
    cli = get_context(ctx)
    columns: list[Column] = [("kind", "kind"), ("title", "title"), ("date", "occurred_on")]
    with cli.client() as api:
        data = api.get(f"{BASE}/academic/{seg(ref)}", params={"today": today})
        show(cli, data, [("outputs", "outputs", columns)])


@academic_app.command("create")
@handle_errors
def academic_create(
    ctx: typer.Context,
    institution: str = typer.Argument(..., help="University or institute"),
    programme_type: str = typer.Option(
        ..., "--type", help="research_grant, fellowship, internship or curriculum"
    ),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    funding: str = typer.Option(..., "--funding"),
    currency: str = typer.Option(..., "--currency"),
    end: str | None = typer.Option(None, "--end", help="YYYY-MM-DD"),
    title: str | None = typer.Option(None, "--title"),
) -> None:
    """Create an academic partnership."""
    cli = get_context(ctx)
    body: dict[str, Any] = {
        "institution": institution,
        "programme_type": programme_type,
        "start_on": start,
        "funding": funding,
        "currency": currency,
    }
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/academic", json=body | some(end_on=end, title=title)))


@academic_app.command("add-output")
@handle_errors
def academic_add_output(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Id"),
    kind: str = typer.Argument(..., help="publication, patent or hire"),
    title: str = typer.Argument(..., help="What it is"),
    on: str | None = typer.Option(None, "--on", help="Date YYYY-MM-DD"),
) -> None:
    """Count an output of an academic partnership."""
    cli = get_context(ctx)
    body = {"kind": kind, "title": title} | some(occurred_on=on)
    with cli.client() as api:
        render(cli, api.post(f"{BASE}/academic/{seg(ref)}/outputs", json=body))


# -- government -------------------------------------------------------------------------------


@government_app.command("list")
@handle_errors
def government_list(
    ctx: typer.Context,
    jurisdiction: str | None = typer.Option(None, "--jurisdiction"),
    today: str | None = TODAY,
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List government partnerships with their certifications."""
    cli = get_context(ctx)
    params = {"jurisdiction": jurisdiction, "today": today, "limit": limit, "offset": offset}
    with cli.client() as api:
        page = api.get(f"{BASE}/government", params=params)
        render(cli, page, GOV_COLUMNS, empty="no government partnerships")


@government_app.command("show")
@handle_errors
def government_show(
    ctx: typer.Context, ref: str = typer.Argument(..., help="Id"), today: str | None = TODAY
) -> None:
    """One government partnership with its certifications' flags."""
    cli = get_context(ctx)
    with cli.client() as api:
        data = api.get(f"{BASE}/government/{seg(ref)}", params={"today": today})
        show(cli, data, [("certifications", "certifications", CERT_COLUMNS)])


@government_app.command("create")
@handle_errors
def government_create(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="Agency, e.g. 'US Department of Energy'"),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="e.g. US-federal, DE, AU"),
    programme: str | None = typer.Option(None, "--programme"),
    vehicle: str | None = typer.Option(None, "--vehicle", help="Contract vehicle, e.g. GSA MAS"),
    value: str | None = typer.Option(None, "--value", help="Contract value"),
    currency: str | None = typer.Option(None, "--currency", help="Default USD"),
) -> None:
    """Create a government partnership."""
    cli = get_context(ctx)
    body = {"agency": agency, "jurisdiction": jurisdiction} | some(
        programme=programme, contract_vehicle=vehicle, value=value, currency=currency
    )
    with cli.client() as api:
        data = api.post(f"{BASE}/government", json=body)
        show(cli, data, [("certifications", "certifications", CERT_COLUMNS)])


@government_app.command("certify")
@handle_errors
def government_certify(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Government partnership id"),
    name: str = typer.Argument(..., help="e.g. 'FedRAMP High', IL4, C5, IRAP"),
    status: str = typer.Option(
        ..., "--status", help="planned, in_process, authorized, expired or revoked"
    ),
    started: str | None = typer.Option(None, "--started", help="YYYY-MM-DD"),
    authorized: str | None = typer.Option(None, "--authorized", help="YYYY-MM-DD"),
    expires: str | None = typer.Option(None, "--expires", help="YYYY-MM-DD"),
    today: str | None = TODAY,
) -> None:
    """Record a certification's status and dates (created, or replaced by name)."""
    cli = get_context(ctx)
    body = {"status": status} | some(
        started_on=started, authorized_on=authorized, expires_on=expires
    )
    path = f"{BASE}/government/{seg(ref)}/certifications/{seg(name)}"
    with cli.client() as api:
        render(cli, api.put(path, json=body, params={"today": today}))
