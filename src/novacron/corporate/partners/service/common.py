"""Look-ups and booking helpers shared by the partnership services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.core.errors import Invalid, NotFound
from novacron.core.ids import new_id
from novacron.corporate.common import find_by_ref, serialize
from novacron.corporate.finance.money import Money
from novacron.corporate.partners.models import (
    DealRegistration,
    MDFRequest,
    Partner,
    PartnerLedgerEntry,
    PartnerProgramme,
)


def find_partner(
    session: Session, ref: str, field: str | None = None, *, project_id: str
) -> Partner:
    """The project's partner by id or name; ``NotFound``, or ``Invalid`` naming ``field``
    when it came in a body (another project's partner is as unknown as a made-up one)."""
    return find_by_ref(session, Partner, ref, "partner", project_id=project_id, field=field)


def find_programme(
    session: Session, ref: str, field: str | None = None, *, project_id: str
) -> PartnerProgramme:
    return find_by_ref(
        session, PartnerProgramme, ref, "programme", project_id=project_id, field=field
    )


def find_registration(session: Session, reg_id: str, *, project_id: str) -> DealRegistration:
    reg = session.scalars(
        select(DealRegistration).where(
            DealRegistration.id == reg_id, DealRegistration.project_id == project_id
        )
    ).first()
    if reg is None:
        raise NotFound(f"no deal registration {reg_id!r}")
    return reg


LEDGER_LOCK = "corporate.partners.ledger"
"""Serializes bookings, and the checks before them (budget left, period not yet booked)."""


def find_mdf(
    session: Session, request_id: str, *, project_id: str, lock: bool = False
) -> MDFRequest:
    """The project's request; ``lock`` takes its row lock so that concurrent moves of one
    request serialize (the second sees the first's state and is refused)."""
    stmt = select(MDFRequest).where(
        MDFRequest.id == request_id, MDFRequest.project_id == project_id
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    req = session.scalars(stmt).first()
    if req is None:
        raise NotFound(f"no MDF request {request_id!r}")
    return req


def not_before(first: date, then: date, field: str, other: str) -> None:
    """``Invalid`` naming ``field`` when ``then`` comes before ``first``."""
    if then < first:
        raise Invalid(
            f"{field} ({then.isoformat()}) is before {other} ({first.isoformat()})",
            errors=[{"loc": [field], "msg": f"must not be before {other}"}],
        )


def book(
    session: Session,
    *,
    partner_id: str,
    kind: str,
    money: Money,
    by: str,
    at: datetime,
    programme_id: str | None = None,
    mdf_request_id: str | None = None,
    period: tuple[date, date] | None = None,
    memo: str = "",
) -> PartnerLedgerEntry:
    """Add one ledger entry, booked half-even to the currency's minor unit (under the
    ledger lock: concurrent bookings get distinct, ordered ``seq`` numbers)."""
    serialize(session, LEDGER_LOCK)
    last = session.scalar(select(func.max(PartnerLedgerEntry.seq)))
    entry = PartnerLedgerEntry(
        id=new_id("pled"),
        seq=(last or 0) + 1,
        partner_id=partner_id,
        programme_id=programme_id,
        mdf_request_id=mdf_request_id,
        kind=kind,
        amount=money.booked().amount,
        currency=money.currency,
        booked_at=at,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        memo=memo,
        booked_by=by,
    )
    session.add(entry)
    session.flush()
    return entry


def ledger_money(entries: Iterable[PartnerLedgerEntry]) -> list[tuple[str, Money]]:
    return [(e.kind, Money(Decimal(e.amount), e.currency)) for e in entries]
