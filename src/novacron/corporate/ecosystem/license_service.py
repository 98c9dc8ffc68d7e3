"""Licensing agreements: terms, milestones, sales reports, and the revenue schedule.

The schedule is computed on read by ``royalties.schedule`` from the stored terms and
reports, so late sales reports or an achieved milestone re-flow every figure.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.ecosystem import royalties
from novacron.corporate.ecosystem._common import book, find, unique_name
from novacron.corporate.ecosystem.models import License, LicenseMilestone, SalesReport
from novacron.corporate.ecosystem.schemas import (
    LicenseCreate,
    LicenseOut,
    MilestoneIn,
    MilestoneOut,
    MilestoneUpdate,
    SalesReportIn,
    SalesReportOut,
    ScheduleOut,
    ScheduleRowOut,
    TierOut,
)
from novacron.corporate.finance.money import CurrencyMismatch, same_currency

ZERO = Decimal(0)


def terms_of(lic: License) -> royalties.Terms:
    return royalties.Terms(
        currency=lic.currency,
        term_start=lic.term_start,
        term_end=lic.term_end,
        tiers=tuple(
            royalties.Tier(Decimal(t["from_sales"]), Decimal(t["rate_pct"]))
            for t in lic.royalty_tiers
        ),
        minimum_annual_guarantee=Decimal(lic.minimum_annual_guarantee),
        upfront_fee=Decimal(lic.upfront_fee),
        upfront_recognition="point_in_time"
        if lic.upfront_recognition == "point_in_time"
        else "straight_line",
        milestones=tuple(
            royalties.Milestone(m.name, Decimal(m.amount), m.achieved_on) for m in lic.milestones
        ),
    )


def periods_of(lic: License) -> list[royalties.SalesPeriod]:
    return [
        royalties.SalesPeriod(r.period_start, r.period_end, Decimal(r.net_sales))
        for r in lic.sales_reports
    ]


def compute_schedule(lic: License) -> royalties.Schedule:
    return royalties.schedule(terms_of(lic), periods_of(lic))


# -- views ------------------------------------------------------------------------------------


def _milestone_out(lic: License, m: LicenseMilestone) -> MilestoneOut:
    return MilestoneOut(
        id=m.id, name=m.name, amount=book(m.amount, lic.currency), achieved_on=m.achieved_on
    )


def to_out(lic: License) -> LicenseOut:
    return LicenseOut(
        id=lic.id,
        name=lic.name,
        direction=lic.direction,
        licensor=lic.licensor,
        licensee=lic.licensee,
        licensed_ip=lic.licensed_ip,
        territory=lic.territory,
        term_start=lic.term_start,
        term_end=lic.term_end,
        currency=lic.currency,
        royalty_tiers=[
            TierOut(from_sales=Decimal(t["from_sales"]), rate_pct=Decimal(t["rate_pct"]))
            for t in lic.royalty_tiers
        ],
        minimum_annual_guarantee=book(lic.minimum_annual_guarantee, lic.currency),
        upfront_fee=book(lic.upfront_fee, lic.currency),
        upfront_recognition=lic.upfront_recognition,
        milestones=[_milestone_out(lic, m) for m in lic.milestones],
        sales_reports=len(lic.sales_reports),
        recognised=compute_schedule(lic).totals["total"],
        created_by=lic.created_by,
        created_at=lic.created_at,
    )


def _report_out(r: SalesReport) -> SalesReportOut:
    return SalesReportOut(
        id=r.id,
        period_start=r.period_start,
        period_end=r.period_end,
        net_sales=book(r.net_sales, r.currency),
        currency=r.currency,
        lines=r.lines,
        reported_by=r.reported_by,
        created_at=r.created_at,
    )


# -- use cases --------------------------------------------------------------------------------


def find_license(session: Session, ref: str, *, project_id: str, lock: bool = False) -> License:
    return find(session, License, ref, "licence", project_id=project_id, lock=lock)


def list_licenses(
    session: Session, page: PageParams, direction: str | None = None, *, project_id: str
) -> tuple[list[LicenseOut], int]:
    stmt = select(License).where(License.project_id == project_id).order_by(License.name)
    if direction:
        stmt = stmt.where(License.direction == direction)
    rows, total = paginate(session, stmt, page)
    return [to_out(lic) for lic in rows], total


def _check_milestone_names(milestones: list[MilestoneIn], existing: set[str]) -> None:
    seen = set(existing)
    for index, m in enumerate(milestones):
        if m.name in seen:
            raise Invalid(
                f"milestones[{index}].name: {m.name!r} appears twice",
                errors=[{"loc": ["milestones", index, "name"], "msg": "duplicate milestone"}],
            )
        seen.add(m.name)


def _check_achieved(lic_start: date, achieved_on: date | None, loc: list[str | int]) -> None:
    if achieved_on is not None and achieved_on < lic_start:
        raise Invalid(
            f"achieved_on: {achieved_on} is before the term start {lic_start}",
            errors=[{"loc": loc, "msg": "before the term start"}],
        )


def create_license(
    session: Session, body: LicenseCreate, who: str, *, project_id: str
) -> LicenseOut:
    tiers = [
        {"from_sales": str(t.from_sales), "rate_pct": str(t.rate_pct)} for t in body.royalty_tiers
    ]
    lic = License(
        id=new_id("lic"),
        project_id=project_id,
        name=body.name,
        direction=body.direction,
        licensor=body.licensor,
        licensee=body.licensee,
        licensed_ip=body.licensed_ip,
        territory=body.territory,
        term_start=body.term_start,
        term_end=body.term_end,
        currency=body.currency,
        royalty_tiers=tiers,
        minimum_annual_guarantee=body.minimum_annual_guarantee,
        upfront_fee=body.upfront_fee,
        upfront_recognition=body.upfront_recognition,
        created_by=who,
    )
    _check_milestone_names(body.milestones, set())
    for index, m in enumerate(body.milestones):
        _check_achieved(body.term_start, m.achieved_on, ["milestones", index, "achieved_on"])
    lic.milestones = [
        LicenseMilestone(id=new_id("lms"), name=m.name, amount=m.amount, achieved_on=m.achieved_on)
        for m in body.milestones
    ]
    royalties.validate_terms(terms_of(lic))
    unique_name(session, License, body.name, "licence", project_id)
    session.add(lic)
    session.flush()
    return to_out(lic)


def get_license(session: Session, ref: str, *, project_id: str) -> LicenseOut:
    return to_out(find_license(session, ref, project_id=project_id))


def delete_license(session: Session, ref: str, *, project_id: str) -> None:
    session.delete(find_license(session, ref, project_id=project_id))


def add_milestone(
    session: Session, ref: str, body: MilestoneIn, *, project_id: str
) -> MilestoneOut:
    lic = find_license(session, ref, project_id=project_id, lock=True)
    if any(m.name == body.name for m in lic.milestones):
        raise Conflict(
            f"{lic.name} already has a milestone {body.name!r}",
            errors=[{"loc": ["name"], "msg": "already exists"}],
        )
    _check_achieved(lic.term_start, body.achieved_on, ["achieved_on"])
    milestone = LicenseMilestone(
        id=new_id("lms"), name=body.name, amount=body.amount, achieved_on=body.achieved_on
    )
    lic.milestones.append(milestone)
    session.flush()
    return _milestone_out(lic, milestone)


def update_milestone(
    session: Session, ref: str, milestone_ref: str, body: MilestoneUpdate, *, project_id: str
) -> MilestoneOut:
    """Mark a milestone achieved (or not yet): it is recognised in the period containing
    the date."""
    lic = find_license(session, ref, project_id=project_id, lock=True)
    for milestone in lic.milestones:
        if milestone_ref in (milestone.id, milestone.name):
            _check_achieved(lic.term_start, body.achieved_on, ["achieved_on"])
            milestone.achieved_on = body.achieved_on
            session.flush()
            return _milestone_out(lic, milestone)
    raise NotFound(f"{lic.name} has no milestone {milestone_ref!r}")


def _report_total(lic: License, body: SalesReportIn) -> tuple[Decimal, list[dict[str, str]]]:
    """Net sales of a report (its lines summed, or the figure given), every currency
    checked against the licence's."""
    tagged = [("licence.currency", lic.currency), ("currency", body.currency)]
    tagged += [(f"lines.{i}.currency", line.currency) for i, line in enumerate(body.lines)]
    try:
        same_currency(tagged)
    except CurrencyMismatch as exc:
        for err in exc.errors:  # "lines.1.currency" → ["lines", 1, "currency"]
            err["loc"] = [int(p) if str(p).isdigit() else p for p in err["loc"]]
        raise
    if body.lines and body.net_sales is not None:
        raise Invalid(
            "net_sales: give either net_sales or lines, not both",
            errors=[{"loc": ["net_sales"], "msg": "give net_sales or lines, not both"}],
        )
    if body.lines:
        lines = [
            {"label": line.label, "net_sales": str(line.net_sales), "currency": line.currency}
            for line in body.lines
        ]
        return sum((line.net_sales for line in body.lines), ZERO), lines
    if body.net_sales is None:
        raise Invalid(
            "net_sales: a sales report needs net_sales or lines",
            errors=[{"loc": ["net_sales"], "msg": "missing (or give lines)"}],
        )
    return body.net_sales, []


def add_sales_report(
    session: Session, ref: str, body: SalesReportIn, who: str, *, project_id: str
) -> SalesReportOut:
    lic = find_license(session, ref, project_id=project_id, lock=True)
    net_sales, lines = _report_total(lic, body)
    period = royalties.SalesPeriod(body.period_start, body.period_end, net_sales)
    royalties.validate_period(terms_of(lic), period, periods_of(lic))
    report = SalesReport(
        id=new_id("lsr"),
        period_start=body.period_start,
        period_end=body.period_end,
        net_sales=net_sales,
        currency=body.currency,
        lines=lines,
        reported_by=who,
    )
    lic.sales_reports.append(report)
    session.flush()
    return _report_out(report)


def list_sales_reports(session: Session, ref: str, *, project_id: str) -> list[SalesReportOut]:
    lic = find_license(session, ref, project_id=project_id)
    return [_report_out(r) for r in sorted(lic.sales_reports, key=lambda r: r.period_start)]


def schedule(session: Session, ref: str, *, project_id: str) -> ScheduleOut:
    lic = find_license(session, ref, project_id=project_id)
    result = compute_schedule(lic)
    return ScheduleOut(
        license=lic.id,
        name=lic.name,
        direction=lic.direction,
        currency=lic.currency,
        rows=[
            ScheduleRowOut(
                period_start=row.start,
                period_end=row.end,
                contract_year=row.contract_year,
                net_sales=row.net_sales,
                year_to_date_sales=row.year_to_date_sales,
                royalty=row.royalty,
                upfront_fee=row.upfront_fee,
                milestones=row.milestones,
                mag_true_up=row.mag_true_up,
                total=row.total,
                milestone_names=list(row.milestone_names),
            )
            for row in result.rows
        ],
        totals=result.totals,
    )


def recognised_between(lic: License, start: date, end: date) -> Decimal:
    """Revenue recognised in the reported periods that end within [start, end]."""
    rows = compute_schedule(lic).rows
    return sum((row.total for row in rows if start <= row.end <= end), book(ZERO, lic.currency))
