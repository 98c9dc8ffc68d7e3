"""Partner programmes (co-sell, marketing, incentive) and enrolment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.finance.money import Money
from novacron.corporate.partners import eligibility
from novacron.corporate.partners.models import PartnerEnrolment, PartnerProgramme
from novacron.corporate.partners.schemas import ProgrammeCreate
from novacron.corporate.partners.service.common import find_partner, find_programme, not_before


def create_programme(
    session: Session, data: ProgrammeCreate, created_by: str, *, project_id: str
) -> PartnerProgramme:
    """A new programme of the project (names are unique within it, any case)."""
    if data.end_on is not None:
        not_before(data.start_on, data.end_on, "end_on", "start_on")
    if (data.mdf_budget is None) != (data.budget_currency is None):
        field, other = (
            ("budget_currency", "mdf_budget")
            if data.budget_currency is None
            else ("mdf_budget", "budget_currency")
        )
        raise Invalid(
            f"{field} is required with {other}",
            errors=[{"loc": [field], "msg": "mdf_budget and budget_currency go together"}],
        )
    if session.scalar(
        select(PartnerProgramme.id).where(
            PartnerProgramme.project_id == project_id,
            func.lower(PartnerProgramme.name) == data.name.lower(),
        )
    ):
        raise Conflict(
            f"a programme named {data.name!r} already exists",
            errors=[{"loc": ["name"], "msg": "already taken"}],
        )
    budget = None
    if data.mdf_budget is not None and data.budget_currency is not None:
        budget = Money(data.mdf_budget, data.budget_currency).booked().amount
    programme = PartnerProgramme(
        id=new_id("pprog"),
        project_id=project_id,
        name=data.name,
        kind=data.kind,
        description=data.description,
        min_tier=data.min_tier,
        partner_types=list(data.partner_types),
        benefits=list(data.benefits),
        start_on=data.start_on,
        end_on=data.end_on,
        mdf_budget=budget,
        budget_currency=data.budget_currency,
        created_by=created_by,
    )
    session.add(programme)
    session.flush()
    return programme


def list_programmes(
    session: Session, page: PageParams, kind: str | None = None, *, project_id: str
) -> tuple[list[PartnerProgramme], int]:
    stmt: Select[Any] = (
        select(PartnerProgramme)
        .where(PartnerProgramme.project_id == project_id)
        .order_by(PartnerProgramme.name)
    )
    if kind:
        stmt = stmt.where(PartnerProgramme.kind == kind)
    return paginate(session, stmt, page)


def enrol(
    session: Session, programme_ref: str, partner_ref: str, by: str, *, project_id: str
) -> PartnerEnrolment:
    """Enrol a partner of the programme's project, or ``Invalid`` with every reason it is
    not eligible."""
    programme = find_programme(session, programme_ref, project_id=project_id)
    partner = find_partner(session, partner_ref, field="partner", project_id=project_id)
    rules = eligibility.Rules(
        programme.name, programme.min_tier, programme.partner_types, programme.start_on,
        programme.end_on,
    )  # fmt: skip
    reasons = eligibility.reasons(
        rules, tier=partner.tier, type_=partner.type, status=partner.status, today=utcnow().date()
    )
    if reasons:
        raise Invalid(
            f"{partner.name} is not eligible for {programme.name}: " + "; ".join(reasons),
            errors=[{"loc": ["partner"], "msg": reason} for reason in reasons],
        )
    existing = session.scalar(
        select(PartnerEnrolment).where(
            PartnerEnrolment.programme_id == programme.id,
            PartnerEnrolment.partner_id == partner.id,
        )
    )
    if existing is not None:
        raise Conflict(f"{partner.name} is already enrolled in {programme.name}")
    enrolment = PartnerEnrolment(
        id=new_id("penr"),
        programme_id=programme.id,
        partner_id=partner.id,
        enrolled_at=utcnow(),
        enrolled_by=by,
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def enrolments(session: Session, programme_ref: str, *, project_id: str) -> list[PartnerEnrolment]:
    programme = find_programme(session, programme_ref, project_id=project_id)
    stmt = select(PartnerEnrolment).where(PartnerEnrolment.programme_id == programme.id)
    return list(session.scalars(stmt.order_by(PartnerEnrolment.enrolled_at)))


def is_enrolled(session: Session, programme_id: str, partner_id: str) -> bool:
    stmt = select(PartnerEnrolment.id).where(
        PartnerEnrolment.programme_id == programme_id, PartnerEnrolment.partner_id == partner_id
    )
    return session.scalar(stmt) is not None
