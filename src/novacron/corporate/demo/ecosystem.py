"""The demo's ecosystem: a joint venture with results, an out- and an in-licence with
sales reports, a co-innovation lab, an academic grant, and government partnerships whose
FedRAMP authorisation expires soon."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from novacron.core.pagination import MAX_LIMIT, PageParams
from novacron.corporate.demo import data
from novacron.corporate.demo.common import Loader, build, exists
from novacron.corporate.ecosystem import jv_service, license_service, programme_service
from novacron.corporate.ecosystem import schemas as eco
from novacron.corporate.ecosystem import schemas_programmes as eco_prog


def load_ecosystem(ld: Loader) -> None:
    if exists(jv_service.find_jv, ld, data.JOINT_VENTURE["name"]):
        ld.skip("joint_ventures")
    else:
        _joint_venture(ld, data.JOINT_VENTURE)
    for spec in data.LICENSES:
        if exists(license_service.find_license, ld, spec["name"]):
            ld.skip("licenses")
        else:
            _license(ld, spec)
    if exists(programme_service.find_lab, ld, data.LAB["name"]):
        ld.skip("labs")
    else:
        _lab(ld, data.LAB)
    _academic(ld, data.ACADEMIC)
    agencies = {
        g.agency
        for g in programme_service.list_government(
            ld.s, PageParams(limit=MAX_LIMIT), ld.today, project_id=ld.project_id
        )[0]
    }
    for spec in data.GOVERNMENT:
        if spec["agency"] in agencies:
            ld.skip("government")
        else:
            _government(ld, spec)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, 1)


def _quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _joint_venture(ld: Loader, spec: dict[str, Any]) -> None:
    jv = jv_service.create_jv(
        ld.s,
        build(
            eco.JVCreate,
            name=spec["name"],
            purpose=spec["purpose"],
            status="active",
            formation_date=ld.day(spec["formed"]),
            currency=spec["currency"],
            parties=[build(eco.PartyIn, **p) for p in spec["parties"]],
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("joint_ventures")
    for party, amount, offset in spec["investments"]:
        jv_service.add_investment(
            ld.s,
            jv.id,
            build(
                eco.InvestmentIn,
                party=party,
                amount=Decimal(amount),
                currency=spec["currency"],
                invested_on=ld.day(offset),
            ),
            project_id=ld.project_id,
        )
    # The last completed quarters, oldest first.
    quarters = spec["quarters"]
    this_quarter = _add_months(ld.today, -((ld.today.month - 1) % 3))
    for i, (revenue, profit) in enumerate(quarters):
        start = _add_months(this_quarter, -3 * (len(quarters) - i))
        jv_service.add_period(
            ld.s,
            jv.id,
            build(
                eco.PeriodIn,
                period=_quarter_label(start),
                revenue=Decimal(revenue),
                profit=Decimal(profit),
                currency=spec["currency"],
            ),
            project_id=ld.project_id,
        )


def _license(ld: Loader, spec: dict[str, Any]) -> None:
    start = _add_months(ld.day(spec["start"]), 1)
    lic = license_service.create_license(
        ld.s,
        build(
            eco.LicenseCreate,
            name=spec["name"],
            direction=spec["direction"],
            licensor=spec["licensor"],
            licensee=spec["licensee"],
            licensed_ip=spec["licensed_ip"],
            term_start=start,
            term_end=date(start.year + 5, start.month, 1),
            currency=spec["currency"],
            royalty_tiers=[eco.TierIn.model_validate(t) for t in spec["royalty_tiers"]],
            minimum_annual_guarantee=Decimal(spec["minimum_annual_guarantee"]),
            upfront_fee=Decimal(spec["upfront_fee"]),
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("licenses")
    for i, net_sales in enumerate(spec["sales"]):
        period_start = _add_months(start, 3 * i)
        period_end = _add_months(start, 3 * (i + 1))
        period_end = date.fromordinal(period_end.toordinal() - 1)
        if period_end >= ld.today:
            break
        license_service.add_sales_report(
            ld.s,
            lic.id,
            build(
                eco.SalesReportIn,
                period_start=period_start,
                period_end=period_end,
                currency=spec["currency"],
                net_sales=Decimal(net_sales),
            ),
            ld.by,
            project_id=ld.project_id,
        )
        ld.count("sales_reports")


def _lab(ld: Loader, spec: dict[str, Any]) -> None:
    lab = programme_service.create_lab(
        ld.s,
        build(
            eco_prog.LabCreate,
            name=spec["name"],
            partners=spec["partners"],
            focus_area=spec["focus_area"],
            budget=Decimal(spec["budget"]),
            currency=spec["currency"],
            status="active",
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("labs")
    for title, status, outcome in spec["projects"]:
        programme_service.add_project(
            ld.s,
            lab.id,
            build(eco_prog.ProjectIn, title=title, status=status, outcome=outcome),
            project_id=ld.project_id,
        )
    for amount, offset in spec["spend"]:
        programme_service.add_spend(
            ld.s,
            lab.id,
            build(
                eco_prog.SpendIn,
                amount=Decimal(amount),
                currency=spec["currency"],
                spent_on=ld.day(offset),
            ),
            project_id=ld.project_id,
        )


def _academic(ld: Loader, spec: dict[str, Any]) -> None:
    found, _ = programme_service.list_academic(
        ld.s, PageParams(limit=MAX_LIMIT), ld.today, project_id=ld.project_id
    )
    if any(a.institution == spec["institution"] and a.title == spec["title"] for a in found):
        ld.skip("academic")
        return
    ap = programme_service.create_academic(
        ld.s,
        build(
            eco_prog.AcademicCreate,
            institution=spec["institution"],
            programme_type=spec["programme_type"],
            title=spec["title"],
            start_on=ld.day(spec["start"]),
            end_on=ld.day(spec["end"]),
            funding=Decimal(spec["funding"]),
            currency=spec["currency"],
        ),
        ld.by,
        ld.today,
        project_id=ld.project_id,
    )
    ld.count("academic")
    for kind, title, offset in spec["outputs"]:
        programme_service.add_output(
            ld.s,
            ap.id,
            build(eco_prog.OutputIn, kind=kind, title=title, occurred_on=ld.day(offset)),
            project_id=ld.project_id,
        )


def _government(ld: Loader, spec: dict[str, Any]) -> None:
    certs = [
        build(
            eco_prog.CertCreate,
            name=c["name"],
            status=c["status"],
            started_on=ld.day(c["started_on"]),
            authorized_on=ld.day(c["authorized_on"]),
            expires_on=ld.day(c["expires_on"]),
        )
        for c in spec["certifications"]
    ]
    programme_service.create_government(
        ld.s,
        build(
            eco_prog.GovCreate,
            agency=spec["agency"],
            programme=spec["programme"],
            jurisdiction=spec["jurisdiction"],
            contract_vehicle=spec["contract_vehicle"],
            value=None if spec["value"] is None else Decimal(spec["value"]),
            currency=spec["currency"],
            certifications=certs,
        ),
        ld.by,
        ld.today,
        project_id=ld.project_id,
    )
    ld.count("government")
