"""Partners: create, update, list; tier evaluation with history; performance; health."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.finance.money import Money
from novacron.corporate.partners import health as health_rules
from novacron.corporate.partners import mdf_rules, performance, registration, tiers
from novacron.corporate.partners.models import (
    DealRegistration,
    Partner,
    PartnerLedgerEntry,
    PartnerTierChange,
)
from novacron.corporate.partners.schemas import PartnerCreate, PartnerUpdate
from novacron.corporate.partners.service.common import find_partner, ledger_money, not_before

TIER_FIELDS = frozenset({"certified_engineers", "csat"})
"""Partner fields that feed the tier criteria: changing one re-evaluates the tier."""


def _unique_name(session: Session, name: str, project_id: str, exclude: str | None = None) -> None:
    """Names are unique within a project (any case)."""
    stmt = select(Partner.id).where(
        Partner.project_id == project_id, func.lower(Partner.name) == name.lower()
    )
    found = session.scalar(stmt)
    if found is not None and found != exclude:
        raise Conflict(
            f"a partner named {name!r} already exists ({found})",
            errors=[{"loc": ["name"], "msg": "already taken"}],
        )


def create_partner(
    session: Session, data: PartnerCreate, created_by: str, *, project_id: str
) -> Partner:
    """A new partner of the project, its tier evaluated at once (every partner starts at
    least bronze). The entry point for CSV import too."""
    _unique_name(session, data.name, project_id)
    partner = Partner(
        id=new_id("ptnr"),
        project_id=project_id,
        name=data.name,
        type=data.type,
        region=data.region,
        currency=data.currency,
        contacts=[c.model_dump() for c in data.contacts],
        status=data.status,
        joined_on=data.joined_on,
        tier="bronze",
        certified_engineers=data.certified_engineers,
        csat=data.csat,
        last_activity_on=data.last_activity_on,
        notes=data.notes,
        created_by=created_by,
    )
    session.add(partner)
    session.flush()
    evaluate_tier(session, partner, "partner created", initial=True)
    return partner


def update_partner(session: Session, ref: str, data: PartnerUpdate, *, project_id: str) -> Partner:
    partner = find_partner(session, ref, project_id=project_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is not None:
        _unique_name(session, changes["name"], project_id, exclude=partner.id)
    for key, value in changes.items():
        if value is None and key in {"name", "type", "region", "status", "notes"}:
            continue
        if key == "contacts":
            value = [c.model_dump() for c in data.contacts or []]
        if key == "certified_engineers" and value is None:
            continue
        setattr(partner, key, value)
    session.flush()
    touched = sorted(TIER_FIELDS & changes.keys())
    if touched:
        evaluate_tier(session, partner, f"updated {', '.join(touched)}")
    return partner


def list_partners(
    session: Session, page: PageParams, *, project_id: str, **filters: str | None
) -> tuple[list[Partner], int]:
    stmt: Select[Any] = (
        select(Partner).where(Partner.project_id == project_id).order_by(Partner.name)
    )
    for key in ("type", "status", "tier", "region"):
        value = filters.get(key)
        if value:
            stmt = stmt.where(getattr(Partner, key) == value)
    if filters.get("name"):
        stmt = stmt.where(func.lower(Partner.name).contains(str(filters["name"]).lower()))
    return paginate(session, stmt, page)


# -- tiers ---------------------------------------------------------------------------------


def _window(as_of: date) -> tuple[date, date]:
    return as_of - timedelta(days=365), as_of


def tier_metrics(session: Session, partner: Partner, as_of: date) -> tiers.TierMetrics:
    """Trailing-12-month sourced revenue and won deals, engineers and CSAT (of a partner
    the caller found in its project: its registrations are in the same one)."""
    start, end = _window(as_of)
    won = session.execute(
        select(func.count(), func.coalesce(func.sum(DealRegistration.amount), 0)).where(
            DealRegistration.partner_id == partner.id,
            DealRegistration.status == "won",
            DealRegistration.motion == "sourced",
            DealRegistration.closed_on >= start,
            DealRegistration.closed_on <= end,
        )
    ).one()
    return tiers.TierMetrics(
        revenue_12m=Decimal(won[1]),
        certified_engineers=partner.certified_engineers,
        closed_deals_12m=int(won[0]),
        csat=partner.csat,
    )


def evaluate_tier(
    session: Session,
    partner: Partner,
    trigger: str,
    *,
    as_of: date | None = None,
    initial: bool = False,
) -> tuple[str, tiers.TierEvaluation, tiers.TierMetrics]:
    """Re-evaluate ``partner``'s tier; record a history row when it changes (or on the
    first evaluation). Returns the previous tier, the evaluation and its metrics."""
    metrics = tier_metrics(session, partner, as_of or utcnow().date())
    result = tiers.evaluate(metrics)
    previous = partner.tier
    if initial or result.tier != previous:
        session.add(
            PartnerTierChange(
                id=new_id("ptier"),
                partner_id=partner.id,
                from_tier=None if initial else previous,
                to_tier=result.tier,
                at=utcnow(),
                reason=tiers.change_reason(
                    None if initial else previous, result.tier, result, trigger
                ),
            )
        )
        partner.tier = result.tier
        session.flush()
    return previous, result, metrics


def evaluation_out(
    partner: Partner, previous: str, result: tiers.TierEvaluation, metrics: tiers.TierMetrics
) -> dict[str, Any]:
    return {
        "partner_id": partner.id,
        "tier": result.tier,
        "previous_tier": previous,
        "changed": previous != result.tier,
        "next_tier": result.next_tier,
        "next_tier_checks": [
            {"criterion": c.criterion, "required": c.required, "actual": c.actual,
             "passed": c.passed, "gap": c.gap}
            for c in result.next_tier_checks
        ],
        "summary": result.summary,
        "metrics": {
            "revenue_12m": str(Money(metrics.revenue_12m, partner.currency).booked().amount),
            "certified_engineers": metrics.certified_engineers,
            "closed_deals_12m": metrics.closed_deals_12m,
            "csat": metrics.csat,
        },
    }  # fmt: skip


def tier_history(session: Session, ref: str, *, project_id: str) -> list[PartnerTierChange]:
    partner = find_partner(session, ref, project_id=project_id)
    stmt = select(PartnerTierChange).where(PartnerTierChange.partner_id == partner.id)
    return list(session.scalars(stmt.order_by(PartnerTierChange.at, PartnerTierChange.id)))


# -- performance and health ----------------------------------------------------------------


def _deals(session: Session, partner_id: str) -> list[performance.Deal]:
    """The partner's registrations as the pure code sees them; read-only callers do not
    mark expiries, so an open registration past ``expires_at`` counts as expired here."""
    now = utcnow()
    stmt = select(DealRegistration).where(DealRegistration.partner_id == partner_id)
    return [
        performance.Deal(
            r.motion,
            "expired" if registration.is_expired(r.status, r.expires_at, now) else r.status,
            Decimal(r.amount),
            r.registered_at.date(),
            r.closed_on,
        )
        for r in session.scalars(stmt)
    ]


def partner_performance(
    session: Session, ref: str, start: date | None, end: date | None, *, project_id: str
) -> dict[str, Any]:
    partner = find_partner(session, ref, project_id=project_id)
    end = end or utcnow().date()
    start = start or end - timedelta(days=364)
    not_before(start, end, "end", "start")
    total, per = performance.report(_deals(session, partner.id), start, end, partner.currency)

    def out(f: performance.Figures) -> dict[str, Any]:
        return {**asdict(f), "currency": partner.currency}

    return {
        "partner_id": partner.id,
        "currency": partner.currency,
        "total": out(total),
        "periods": [out(f) for f in per],
    }


def _targets(tier: str) -> tuple[Decimal, int]:
    """The revenue and certification a partner is measured against: its own tier's, or
    silver's for bronze (bronze has no thresholds to sustain)."""
    criteria = tiers.DEFAULT_CRITERIA["silver" if tier == "bronze" else tier]
    return criteria.min_revenue_12m, criteria.min_certified_engineers


def partner_health(
    session: Session, ref: str, today: date | None = None, *, project_id: str
) -> dict[str, Any]:
    partner = find_partner(session, ref, project_id=project_id)
    today = today or utcnow().date()
    metrics = tier_metrics(session, partner, today)
    deals = _deals(session, partner.id)
    start, _ = _window(today)
    won = sum(1 for d in deals if d.status == "won" and d.closed_on and d.closed_on >= start)
    lost = sum(1 for d in deals if d.status == "lost" and d.closed_on and d.closed_on >= start)
    pipeline = sum((d.amount for d in deals if d.status in performance.OPEN), Decimal(0))
    entries = session.scalars(
        select(PartnerLedgerEntry).where(
            PartnerLedgerEntry.partner_id == partner.id,
            PartnerLedgerEntry.currency == partner.currency,
        )
    )
    balance = next(iter(mdf_rules.balances(ledger_money(entries))), None)
    activity = [d.registered_on for d in deals]
    if partner.last_activity_on:
        activity.append(partner.last_activity_on)
    revenue_target, cert_target = _targets(partner.tier)
    result = health_rules.score(
        health_rules.HealthInputs(
            revenue_12m=metrics.revenue_12m,
            revenue_target=revenue_target,
            won=won,
            lost=lost,
            open_pipeline=pipeline,
            mdf_approved=balance.approved if balance else Decimal(0),
            mdf_claimed=balance.claimed if balance else Decimal(0),
            last_activity=max(activity) if activity else None,
            today=today,
            certified_engineers=partner.certified_engineers,
            certified_target=cert_target,
        )
    )
    return {
        "partner_id": partner.id,
        "score": result.score,
        "band": result.band,
        "components": [asdict(c) for c in result.components],
    }


def criteria_table() -> list[dict[str, Any]]:
    return [
        {
            "tier": tier,
            "min_revenue_12m": str(c.min_revenue_12m),
            "min_certified_engineers": c.min_certified_engineers,
            "min_closed_deals_12m": c.min_closed_deals_12m,
            "min_csat": c.min_csat,
        }
        for tier, c in tiers.DEFAULT_CRITERIA.items()
    ]
