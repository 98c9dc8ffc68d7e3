"""View models of the partner pages, read through the partnership services.

The tier shown is the stored one; the next-tier gap is evaluated read-only (the pure
``tiers.evaluate`` on the trailing-12-month metrics) so opening a page never records a
tier change. Listing registrations marks expired ones, as the API's list does.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from novacron.core.errors import Invalid
from novacron.core.pagination import PageParams
from novacron.corporate.partners import tiers
from novacron.corporate.partners.schemas import PartnerOut
from novacron.corporate.partners.schemas_deals import MDFRequestOut, RegistrationOut
from novacron.corporate.partners.service import deals, mdf
from novacron.corporate.partners.service import partners as svc
from novacron.corporate.partners.service.common import find_partner
from novacron.corporate.web import charts

PAGE_SIZE = 50
MAX_ROWS = 200
TYPES = ("cloud", "hardware", "telco", "system_integrator", "reseller", "technology")


def partners_context(
    session: Session,
    *,
    project_id: str,
    tier: str | None,
    type_: str | None,
    name: str | None,
    offset: int,
) -> dict[str, Any]:
    for field, value, allowed in (("tier", tier, tiers.TIERS), ("type", type_, TYPES)):
        if value and value not in allowed:
            raise Invalid(
                f"{field} must be one of {', '.join(allowed)}",
                errors=[{"loc": ["query", field], "msg": "unknown value"}],
            )
    rows, total = svc.list_partners(
        session,
        PageParams(limit=PAGE_SIZE, offset=offset),
        tier=tier,
        type=type_,
        name=name,
        project_id=project_id,
    )
    items = [PartnerOut.model_validate(p) for p in rows]
    health = {p.id: svc.partner_health(session, p.id, project_id=project_id) for p in items}
    return {
        "partners": items,
        "health": health,
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "filters": {"tier": tier or "", "type": type_ or "", "name": name or ""},
        "tiers": tuple(reversed(tiers.TIERS)),
        "types": TYPES,
    }


def partner_context(session: Session, ref: str, today: date, *, project_id: str) -> dict[str, Any]:
    partner = find_partner(session, ref, project_id=project_id)
    metrics = svc.tier_metrics(session, partner, today)
    evaluation = tiers.evaluate(metrics)
    registrations, reg_total = deals.list_registrations(
        session, PageParams(limit=MAX_ROWS, offset=0), partner=partner.id, project_id=project_id
    )
    requests, _ = mdf.list_requests(
        session, PageParams(limit=MAX_ROWS, offset=0), partner=partner.id, project_id=project_id
    )
    performance = svc.partner_performance(session, partner.id, None, today, project_id=project_id)
    periods = performance["periods"]
    return {
        "partner": PartnerOut.model_validate(partner),
        "metrics": metrics,
        "evaluation": evaluation,
        "health": svc.partner_health(session, partner.id, today, project_id=project_id),
        "history": svc.tier_history(session, partner.id, project_id=project_id),
        "registrations": [RegistrationOut.model_validate(r) for r in registrations],
        "registration_total": reg_total,
        "mdf_requests": [MDFRequestOut.model_validate(r) for r in requests],
        "balances": [
            asdict(b)
            for b in mdf.ledger(session, partner=partner.id, project_id=project_id)["balances"]
        ],
        "performance": performance,
        "performance_fig": charts.grouped_bars(
            [p["period"] for p in periods],
            [
                ("Sourced revenue", [float(p["sourced_revenue"]) for p in periods], charts.ACCENT),
                (
                    "Influenced revenue",
                    [float(p["influenced_revenue"]) for p in periods],
                    charts.ACCENT_SOFT,
                ),
            ],
            yaxis_title=partner.currency,
            height=260,
        )
        if periods
        else None,
    }
