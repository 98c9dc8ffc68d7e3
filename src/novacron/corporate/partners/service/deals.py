"""Deal registration: register with duplicate/conflict screening, approve (first approved
wins), reject, extend, close won/lost, and expiry (on read and by sweep)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.common import serialize
from novacron.corporate.finance.money import booked, same_currency
from novacron.corporate.partners import registration as rules
from novacron.corporate.partners.models import DealRegistration
from novacron.corporate.partners.schemas_deals import CloseIn, RegistrationCreate
from novacron.corporate.partners.service.common import (
    find_partner,
    find_registration,
    not_before,
)
from novacron.corporate.partners.service.partners import evaluate_tier

CLOSED_PARTNER_STATUSES = frozenset({"suspended", "terminated"})


def _view(reg: DealRegistration) -> rules.OpenRegistration:
    return rules.OpenRegistration(
        reg.id, reg.partner_id, reg.customer_key, reg.product_key, reg.status
    )


def expire_registrations(session: Session, now: datetime, *, project_id: str | None) -> list[str]:
    """Expire every open registration of the project whose ``expires_at`` is at or before
    ``now``; returns their ids. Called on every read and write of registrations, and
    usable as a periodic sweep (``project_id`` None: of every project)."""
    stmt = select(DealRegistration).where(
        DealRegistration.status.in_(sorted(rules.OPEN)), DealRegistration.expires_at <= now
    )
    if project_id is not None:
        stmt = stmt.where(DealRegistration.project_id == project_id)
    expired: list[str] = []
    for reg in session.scalars(stmt):
        reg.status = rules.next_status(reg.status, "expire", reg.id)
        reg.decision_reason = f"expired at {reg.expires_at.isoformat()}Z"
        expired.append(reg.id)
    if expired:
        session.flush()
    return expired


def _lock_deal(session: Session, project_id: str, customer_key: str, product_key: str) -> None:
    """Serialize registrations and approvals of one customer and product in a project:
    the duplicate screening and "first approved wins" must see every rival committed
    before them."""
    serialize(session, f"corporate.partners.deal:{project_id}\x1f{customer_key}\x1f{product_key}")


def _open_same(
    session: Session, project_id: str, customer_key: str, product_key: str
) -> list[DealRegistration]:
    """The open registrations of the customer and product in the project: rivals are
    only ever sought (and flagged) within one project."""
    stmt = select(DealRegistration).where(
        DealRegistration.project_id == project_id,
        DealRegistration.customer_key == customer_key,
        DealRegistration.product_key == product_key,
        DealRegistration.status.in_(sorted(rules.OPEN)),
    )
    return list(session.scalars(stmt.order_by(DealRegistration.registered_at)))


def register(
    session: Session,
    data: RegistrationCreate,
    by: str,
    now: datetime | None = None,
    *,
    project_id: str,
) -> DealRegistration:
    """A new pending registration. Refused (409) as a duplicate of the same partner's
    open registration for the customer and product; flagged ``conflict`` (with the
    other ids, and the others flagged back) when other partners hold one."""
    now = now or utcnow()
    partner = find_partner(session, data.partner, field="partner", project_id=project_id)
    if partner.status in CLOSED_PARTNER_STATUSES:
        raise Invalid(
            f"partner {partner.name} is {partner.status}: it cannot register deals",
            errors=[{"loc": ["partner"], "msg": f"partner is {partner.status}"}],
        )
    same_currency([("partner currency", partner.currency), ("currency", data.currency)])
    customer_key = rules.normalise_customer(data.customer_name)
    if not customer_key:
        raise Invalid(
            "customer_name has no letters or digits",
            errors=[{"loc": ["customer_name"], "msg": "nothing left after normalisation"}],
        )
    product_key = rules.normalise_product(data.product)
    _lock_deal(session, project_id, customer_key, product_key)
    expire_registrations(session, now, project_id=project_id)
    others = _open_same(session, project_id, customer_key, product_key)
    screening = rules.screen(partner.id, customer_key, product_key, map(_view, others))
    if screening.duplicate_of:
        raise Conflict(
            f"duplicate registration: {partner.name} already registered {data.customer_name!r} "
            f"for {data.product!r} as {screening.duplicate_of}",
            errors=[{"loc": ["customer_name"], "msg": f"duplicate of {screening.duplicate_of}"}],
        )
    registered_at = data.registered_at.replace(tzinfo=None) if data.registered_at else now
    reg = DealRegistration(
        id=new_id("dreg"),
        project_id=project_id,
        partner_id=partner.id,
        customer_name=data.customer_name,
        customer_key=customer_key,
        product=data.product,
        product_key=product_key,
        motion=data.motion,
        amount=booked(data.amount, data.currency),
        currency=data.currency,
        expected_close=data.expected_close,
        status="pending",
        conflict=bool(screening.conflicts_with),
        conflict_with=list(screening.conflicts_with),
        registered_at=registered_at,
        expires_at=registered_at + timedelta(days=data.valid_days),
        registered_by=by,
    )
    session.add(reg)
    for other in others:
        if other.id in screening.conflicts_with:
            other.conflict = True
            other.conflict_with = [*other.conflict_with, reg.id]
    session.flush()
    # A back-dated registration may be born expired.
    expire_registrations(session, now, project_id=project_id)
    return reg


def list_registrations(
    session: Session,
    page: PageParams,
    now: datetime | None = None,
    *,
    project_id: str,
    **filters: Any,
) -> tuple[list[DealRegistration], int]:
    expire_registrations(session, now or utcnow(), project_id=project_id)
    stmt: Select[Any] = (
        select(DealRegistration)
        .where(DealRegistration.project_id == project_id)
        .order_by(DealRegistration.registered_at.desc(), DealRegistration.id)
    )
    if filters.get("partner"):
        partner = find_partner(session, str(filters["partner"]), project_id=project_id)
        stmt = stmt.where(DealRegistration.partner_id == partner.id)
    if filters.get("status"):
        stmt = stmt.where(DealRegistration.status == filters["status"])
    if filters.get("conflict") is not None:
        stmt = stmt.where(DealRegistration.conflict == bool(filters["conflict"]))
    if filters.get("customer"):
        key = rules.normalise_customer(str(filters["customer"]))
        stmt = stmt.where(DealRegistration.customer_key == key)
    return paginate(session, stmt, page)


def get_registration(
    session: Session, reg_id: str, now: datetime | None = None, *, project_id: str
) -> DealRegistration:
    expire_registrations(session, now or utcnow(), project_id=project_id)
    return find_registration(session, reg_id, project_id=project_id)


def _locked(
    session: Session, reg_id: str, now: datetime | None, project_id: str
) -> DealRegistration:
    """The registration, read again under its deal's lock (every status move takes it,
    so two moves of one registration, or of rivals, never interleave)."""
    reg = find_registration(session, reg_id, project_id=project_id)
    _lock_deal(session, project_id, reg.customer_key, reg.product_key)
    session.expire_all()
    return get_registration(session, reg_id, now, project_id=project_id)


def approve(
    session: Session, reg_id: str, by: str, now: datetime | None = None, *, project_id: str
) -> DealRegistration:
    """First approved wins: other partners' pending rivals are rejected; approving while
    a rival is already approved is refused (409). Concurrent approvals of rivals
    serialize on the deal's lock: the second sees the first and is refused."""
    reg = _locked(session, reg_id, now, project_id)
    new_status = rules.next_status(reg.status, "approve", reg.id)
    rivals = _open_same(session, project_id, reg.customer_key, reg.product_key)
    outcome = rules.approval(_view(reg), map(_view, rivals))
    reg.status = new_status
    reg.decided_by = by
    reg.decision_reason = "approved"
    for rival in rivals:
        if rival.id in outcome.reject:
            rival.status = rules.next_status(rival.status, "reject", rival.id)
            rival.decided_by = by
            rival.decision_reason = (
                f"rejected: registration {reg.id} for the same customer and product was "
                "approved first (first approved wins)"
            )
    session.flush()
    return reg


def reject(
    session: Session,
    reg_id: str,
    reason: str,
    by: str,
    now: datetime | None = None,
    *,
    project_id: str,
) -> DealRegistration:
    reg = _locked(session, reg_id, now, project_id)
    reg.status = rules.next_status(reg.status, "reject", reg.id)
    reg.decided_by = by
    reg.decision_reason = reason or "rejected"
    session.flush()
    return reg


def extend(
    session: Session, reg_id: str, days: int, now: datetime | None = None, *, project_id: str
) -> DealRegistration:
    """Push ``expires_at`` out by ``days`` (open registrations only)."""
    reg = _locked(session, reg_id, now, project_id)
    rules.next_status(reg.status, "extend", reg.id)
    reg.expires_at = reg.expires_at + timedelta(days=days)
    session.flush()
    return reg


def close(
    session: Session,
    reg_id: str,
    data: CloseIn,
    by: str,
    now: datetime | None = None,
    *,
    project_id: str,
) -> DealRegistration:
    """Won (approved registrations only) or lost; the partner's tier is re-evaluated."""
    now = now or utcnow()
    reg = _locked(session, reg_id, now, project_id)
    reg.status = rules.next_status(reg.status, data.outcome, reg.id)
    closed_on: date = data.closed_on or now.date()
    not_before(reg.registered_at.date(), closed_on, "closed_on", "the registration date")
    reg.closed_on = closed_on
    if data.amount is not None:
        reg.amount = booked(data.amount, reg.currency)
    reg.decided_by = by
    reg.decision_reason = data.outcome
    session.flush()
    partner = find_partner(session, reg.partner_id, project_id=project_id)
    evaluate_tier(session, partner, f"deal {reg.id} {data.outcome}", as_of=now.date())
    return reg
