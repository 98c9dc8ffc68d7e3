"""Rebate schedules (stored overrides of the defaults) and rebate runs per period, booked
to the ledger as a payout liability."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.corporate.common import serialize
from novacron.corporate.finance.money import Money
from novacron.corporate.partners import rebates, tiers
from novacron.corporate.partners.models import (
    DealRegistration,
    Partner,
    PartnerLedgerEntry,
    RebateSchedule,
)
from novacron.corporate.partners.schemas_deals import ScheduleIn
from novacron.corporate.partners.service.common import (
    LEDGER_LOCK,
    book,
    find_partner,
    not_before,
)


def _from_row(row: RebateSchedule) -> rebates.Schedule:
    bands = tuple(
        rebates.Band(None if b["up_to"] is None else Decimal(b["up_to"]), Decimal(b["rate"]))
        for b in row.bands
    )
    return rebates.Schedule(row.tier, row.method, bands)


def _stored(session: Session, tier: str, project_id: str) -> RebateSchedule | None:
    return session.scalar(
        select(RebateSchedule).where(
            RebateSchedule.project_id == project_id, RebateSchedule.tier == tier
        )
    )


def schedule_for(session: Session, tier: str, *, project_id: str) -> tuple[rebates.Schedule, bool]:
    """The tier's schedule in the project and whether it is a stored (custom) one."""
    row = _stored(session, tier, project_id)
    return (_from_row(row), True) if row else (rebates.DEFAULT_SCHEDULES[tier], False)


def schedule_out(schedule: rebates.Schedule, custom: bool) -> dict[str, Any]:
    return {
        "tier": schedule.tier,
        "method": schedule.method,
        "bands": [
            {"up_to": None if b.up_to is None else str(b.up_to), "rate": str(b.rate)}
            for b in schedule.bands
        ],
        "custom": custom,
    }


def schedules(session: Session, *, project_id: str) -> list[dict[str, Any]]:
    return [
        schedule_out(*schedule_for(session, tier, project_id=project_id)) for tier in tiers.TIERS
    ]


def set_schedule(
    session: Session, tier: str, data: ScheduleIn, by: str, *, project_id: str
) -> dict[str, Any]:
    """Store the project's schedule of ``tier`` (other projects keep theirs)."""
    if tier not in tiers.TIERS:
        raise Invalid(
            f"tier: {tier!r} is not one of {', '.join(tiers.TIERS)}",
            errors=[{"loc": ["tier"], "msg": f"one of {', '.join(tiers.TIERS)}"}],
        )
    bands = tuple(rebates.Band(b.up_to, b.rate) for b in data.bands)
    rebates.validate(data.method, bands)
    row = _stored(session, tier, project_id)
    if row is None:
        row = RebateSchedule(id=new_id("preb"), project_id=project_id, tier=tier)
        session.add(row)
    row.method = data.method
    row.bands = [
        {"up_to": None if b.up_to is None else str(b.up_to), "rate": str(b.rate)} for b in bands
    ]
    row.updated_by = by
    session.flush()
    return schedule_out(_from_row(row), True)


def _won_volume(session: Session, partner: Partner, start: date, end: date) -> Money:
    total = session.scalar(
        select(func.coalesce(func.sum(DealRegistration.amount), 0)).where(
            DealRegistration.partner_id == partner.id,
            DealRegistration.status == "won",
            DealRegistration.closed_on >= start,
            DealRegistration.closed_on <= end,
        )
    )
    return Money(Decimal(total or 0), partner.currency)


def _already_booked(session: Session, partner_id: str, start: date, end: date) -> str | None:
    """An earlier rebate accrual of the partner overlapping [start, end]."""
    return session.scalar(
        select(PartnerLedgerEntry.id).where(
            PartnerLedgerEntry.partner_id == partner_id,
            PartnerLedgerEntry.kind == "rebate_accrued",
            PartnerLedgerEntry.period_start <= end,
            PartnerLedgerEntry.period_end >= start,
        )
    )


def compute(
    session: Session,
    start: date,
    end: date,
    partner_ref: str | None,
    book_it: bool,
    by: str,
    *,
    project_id: str,
) -> dict[str, Any]:
    """Each of the project's partners' rebate on its won revenue in [start, end] under its
    tier's schedule (the project's);
    with ``book_it``, each non-zero rebate becomes a ``rebate_accrued`` ledger entry
    (a period is booked once per partner: overlapping runs are refused, concurrent ones
    too, as the check and the booking hold the ledger lock)."""
    not_before(start, end, "period_end", "period_start")
    if book_it:
        serialize(session, LEDGER_LOCK)
    if partner_ref:
        partners = [find_partner(session, partner_ref, field="partner", project_id=project_id)]
    else:
        stmt = select(Partner).where(Partner.project_id == project_id)
        partners = list(session.scalars(stmt.order_by(Partner.name)))
    out: list[dict[str, Any]] = []
    for partner in partners:
        volume = _won_volume(session, partner, start, end)
        if volume.amount <= 0 and partner_ref is None:
            continue
        schedule, _ = schedule_for(session, partner.tier, project_id=project_id)
        result = rebates.compute(volume, schedule)
        entry_id = None
        if book_it and result.amount.amount > 0:
            earlier = _already_booked(session, partner.id, start, end)
            if earlier:
                raise Conflict(
                    f"a rebate for {partner.name} overlapping {start}..{end} is already booked "
                    f"({earlier})"
                )
            entry = book(
                session, partner_id=partner.id, kind="rebate_accrued", money=result.amount,
                by=by, at=utcnow(), period=(start, end),
                memo=f"{schedule.tier} {schedule.method} rebate on {volume}",
            )  # fmt: skip
            entry_id = entry.id
        out.append(_rebate_out(partner, schedule, result, entry_id))
    return {"period_start": start, "period_end": end, "booked": book_it, "rebates": out}


def _rebate_out(
    partner: Partner, schedule: rebates.Schedule, result: rebates.Rebate, entry_id: str | None
) -> dict[str, Any]:
    return {
        "partner_id": partner.id,
        "partner_name": partner.name,
        "tier": schedule.tier,
        "method": schedule.method,
        "currency": result.volume.currency,
        "volume": str(result.volume.booked().amount),
        "amount": str(result.amount.amount),
        "effective_rate": str(round(result.effective_rate, 6)),
        "lines": [
            {
                "band_from": str(line.band_from),
                "band_to": None if line.band_to is None else str(line.band_to),
                "base": str(Money(line.base, result.volume.currency).booked().amount),
                "rate": str(line.rate),
                "amount": str(line.amount),
            }
            for line in result.lines
        ],
        "ledger_entry_id": entry_id,
    }
