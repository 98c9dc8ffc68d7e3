"""Market development funds: request → approve/reject → claim with proof → pay, each
step booked to the partner ledger (Decimal, half-even to the cent, one currency)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.common import serialize
from novacron.corporate.finance.money import Money, booked, same_currency
from novacron.corporate.partners import mdf_rules
from novacron.corporate.partners.models import MDFRequest, Partner, PartnerLedgerEntry
from novacron.corporate.partners.schemas_deals import MDFApprove, MDFClaim, MDFRequestCreate
from novacron.corporate.partners.service.common import (
    LEDGER_LOCK,
    book,
    find_mdf,
    find_partner,
    find_programme,
    ledger_money,
    not_before,
)
from novacron.corporate.partners.service.programmes import is_enrolled


def request(session: Session, data: MDFRequestCreate, by: str, *, project_id: str) -> MDFRequest:
    """A new request; the partner and the programme are the project's, the partner must
    be enrolled in the programme, and the amount in the partner's currency (and the
    programme budget's, when it has one)."""
    partner = find_partner(session, data.partner, field="partner", project_id=project_id)
    programme = find_programme(session, data.programme, field="programme", project_id=project_id)
    not_before(data.planned_start, data.planned_end, "planned_end", "planned_start")
    if not is_enrolled(session, programme.id, partner.id):
        raise Invalid(
            f"{partner.name} is not enrolled in {programme.name}: enrol it first",
            errors=[{"loc": ["programme"], "msg": "partner not enrolled"}],
        )
    tags = [("partner currency", partner.currency), ("currency", data.currency)]
    if programme.budget_currency:
        tags.insert(1, ("programme budget currency", programme.budget_currency))
    same_currency(tags)
    req = MDFRequest(
        id=new_id("mdf"),
        project_id=project_id,
        partner_id=partner.id,
        programme_id=programme.id,
        activity=data.activity,
        description=data.description,
        currency=data.currency,
        requested_amount=booked(data.amount, data.currency),
        state="requested",
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        requested_by=by,
    )
    session.add(req)
    session.flush()
    return req


def list_requests(
    session: Session, page: PageParams, *, project_id: str, **filters: str | None
) -> tuple[list[MDFRequest], int]:
    stmt: Select[Any] = (
        select(MDFRequest)
        .where(MDFRequest.project_id == project_id)
        .order_by(MDFRequest.created_at.desc(), MDFRequest.id)
    )
    if filters.get("partner"):
        partner = find_partner(session, str(filters["partner"]), project_id=project_id)
        stmt = stmt.where(MDFRequest.partner_id == partner.id)
    if filters.get("programme"):
        programme = find_programme(session, str(filters["programme"]), project_id=project_id)
        stmt = stmt.where(MDFRequest.programme_id == programme.id)
    if filters.get("state"):
        stmt = stmt.where(MDFRequest.state == filters["state"])
    return paginate(session, stmt, page)


def _committed(session: Session, programme_id: str, currency: str) -> Money:
    entries = session.scalars(
        select(PartnerLedgerEntry).where(
            PartnerLedgerEntry.programme_id == programme_id,
            PartnerLedgerEntry.kind.in_(["mdf_approved", "mdf_released"]),
        )
    )
    for bal in mdf_rules.balances(ledger_money(entries)):
        if bal.currency == currency:
            return Money(bal.approved, currency)
    return Money.zero(currency)


def approve(
    session: Session, request_id: str, data: MDFApprove, by: str, *, project_id: str
) -> MDFRequest:
    """Approve (at most the requested amount) within the programme's MDF budget. The
    request's row lock and the ledger lock make concurrent approvals serialize: a request
    is approved once, and the budget check sees every commitment booked before it."""
    req = find_mdf(session, request_id, project_id=project_id, lock=True)
    state = mdf_rules.next_state(req.state, "approve", req.id)
    requested = Money(Decimal(req.requested_amount), req.currency)
    amount = requested.amount if data.approved_amount is None else data.approved_amount
    if data.currency is not None:
        same_currency([("the request's currency", req.currency), ("currency", data.currency)])
    approved = Money(amount, data.currency or req.currency).booked()
    mdf_rules.check_approval(requested, approved)
    programme = find_programme(session, req.programme_id, project_id=project_id)
    if programme.mdf_budget is not None and programme.budget_currency:
        budget = Money(Decimal(programme.mdf_budget), programme.budget_currency)
        serialize(session, LEDGER_LOCK)
        mdf_rules.check_budget(budget, _committed(session, programme.id, budget.currency), approved)
    req.state = state
    req.approved_amount = approved.amount
    req.decision_reason = "approved"
    book(
        session, partner_id=req.partner_id, programme_id=req.programme_id, mdf_request_id=req.id,
        kind="mdf_approved", money=approved, by=by, at=utcnow(), memo=f"approved: {req.activity}",
    )  # fmt: skip
    return req


def reject(session: Session, request_id: str, reason: str, *, project_id: str) -> MDFRequest:
    req = find_mdf(session, request_id, project_id=project_id, lock=True)
    req.state = mdf_rules.next_state(req.state, "reject", req.id)
    req.decision_reason = reason or "rejected"
    session.flush()
    return req


def claim(
    session: Session, request_id: str, data: MDFClaim, by: str, *, project_id: str
) -> MDFRequest:
    """Claim with proof: at most the approved amount, in its currency; the unclaimed
    rest of the approval is released."""
    req = find_mdf(session, request_id, project_id=project_id, lock=True)
    state = mdf_rules.next_state(req.state, "claim", req.id)
    assert req.approved_amount is not None
    approved = Money(Decimal(req.approved_amount), req.currency)
    same_currency([("the request's currency", req.currency), ("currency", data.currency)])
    claimed = Money(data.claimed_amount, data.currency).booked()
    mdf_rules.check_claim(approved, claimed)
    not_before(req.planned_start, data.invoice_date, "invoice_date", "planned_start")
    req.state = state
    req.claimed_amount = claimed.amount
    req.proof = data.proof
    req.invoice_date = data.invoice_date
    now = utcnow()
    book(
        session, partner_id=req.partner_id, programme_id=req.programme_id, mdf_request_id=req.id,
        kind="mdf_claimed", money=claimed, by=by, at=now, memo=f"claim: {data.proof}",
    )  # fmt: skip
    released = approved - claimed
    if released.amount > 0:
        book(
            session, partner_id=req.partner_id, programme_id=req.programme_id,
            mdf_request_id=req.id, kind="mdf_released", money=released, by=by, at=now,
            memo="unclaimed part of the approval",
        )  # fmt: skip
    return req


def pay(
    session: Session, request_id: str, paid_on: date | None, by: str, *, project_id: str
) -> MDFRequest:
    req = find_mdf(session, request_id, project_id=project_id, lock=True)
    req.state = mdf_rules.next_state(req.state, "pay", req.id)
    assert req.claimed_amount is not None
    paid = Money(Decimal(req.claimed_amount), req.currency)
    req.paid_amount = paid.amount
    req.paid_on = paid_on or utcnow().date()
    book(
        session, partner_id=req.partner_id, programme_id=req.programme_id, mdf_request_id=req.id,
        kind="mdf_paid", money=paid, by=by, at=utcnow(), memo=f"payout {req.paid_on.isoformat()}",
    )  # fmt: skip
    return req


def ledger(
    session: Session,
    partner: str | None = None,
    programme: str | None = None,
    *,
    project_id: str,
) -> dict[str, Any]:
    """The project's entries (in booking order) and balances per currency, filtered by
    partner/programme. An entry is the project of its partner (every entry has one)."""
    stmt = (
        select(PartnerLedgerEntry)
        .join(Partner, Partner.id == PartnerLedgerEntry.partner_id)
        .where(Partner.project_id == project_id)
    )
    if partner:
        found = find_partner(session, partner, project_id=project_id)
        stmt = stmt.where(PartnerLedgerEntry.partner_id == found.id)
    if programme:
        prog = find_programme(session, programme, project_id=project_id)
        stmt = stmt.where(PartnerLedgerEntry.programme_id == prog.id)
    entries = list(session.scalars(stmt.order_by(PartnerLedgerEntry.seq, PartnerLedgerEntry.id)))
    return {"entries": entries, "balances": mdf_rules.balances(ledger_money(entries))}
