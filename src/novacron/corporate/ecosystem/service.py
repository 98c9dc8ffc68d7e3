"""The ecosystem's use cases. Each kind lives in its own module:

    jv_service         joint ventures: cap table, investments, periods, distributions
    license_service    licensing agreements: milestones, sales reports, revenue schedule
    programme_service  co-innovation labs, academic and government partnerships

This module holds what spans them: ``summary``, the figures the executive dashboard
shows (it calls ``summary(session, today, project_id=…)``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.corporate.ecosystem import jv_service, license_service, programme_service, programmes
from novacron.corporate.ecosystem._common import book
from novacron.corporate.ecosystem.models import (
    AcademicPartnership,
    GovernmentPartnership,
    JointVenture,
    Lab,
    License,
)

__all__ = ["jv_service", "license_service", "programme_service", "summary"]


def _by_currency(pairs: list[tuple[str, Decimal]]) -> dict[str, str]:
    """{currency: booked total as a string}, currencies sorted: never summed across."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in pairs:
        totals[currency] += Decimal(amount)
    return {cur: str(book(totals[cur], cur)) for cur in sorted(totals)}


def _jv_figures(jvs: list[JointVenture]) -> dict[str, Any]:
    invested, ours = [], []
    us = {p.id for jv in jvs for p in jv.parties if p.is_us}
    for jv in jvs:
        for inv in jv.investments:
            invested.append((inv.currency, Decimal(inv.amount)))
            if inv.party_id in us:
                ours.append((inv.currency, Decimal(inv.amount)))
    distributed = [(jv.currency, Decimal(p.distribution)) for jv in jvs for p in jv.periods]
    return {
        "invested": _by_currency(invested),
        "invested_by_us": _by_currency(ours),
        "distributed": _by_currency(distributed),
    }


def _royalties_ytd(licenses: list[License], today: date) -> dict[str, dict[str, str]]:
    start = date(today.year, 1, 1)
    income: list[tuple[str, Decimal]] = []
    expense: list[tuple[str, Decimal]] = []
    for lic in licenses:
        amount = license_service.recognised_between(lic, start, today)
        (income if lic.direction == "out" else expense).append((lic.currency, amount))
    return {
        "royalty_revenue_ytd": _by_currency(income),
        "royalty_expense_ytd": _by_currency(expense),
    }


def _certifications(govs: list[GovernmentPartnership], today: date) -> dict[str, Any]:
    expiring, expired = [], []
    for gp in govs:
        for cert in gp.certifications:
            flags = programmes.certification_flags(cert.status, cert.expires_on, today)
            entry = {
                "government_id": gp.id,
                "agency": gp.agency,
                "name": cert.name,
                "status": cert.status,
                "expires_on": cert.expires_on.isoformat() if cert.expires_on else None,
                "days_to_expiry": flags.days_to_expiry,
            }
            if flags.expiring_soon:
                expiring.append(entry)
            elif flags.expired:
                expired.append(entry)
    expiring.sort(key=lambda e: (e["days_to_expiry"], e["agency"], e["name"]))
    total = sum(len(gp.certifications) for gp in govs)
    return {
        "certifications": total,
        "certifications_expiring": expiring,
        "certifications_expired": expired,
    }


def summary(session: Session, today: date, *, project_id: str) -> dict[str, Any]:
    """The project's ecosystem at a glance on ``today``, JSON-ready (amounts are strings
    by currency).

    Keys: ``as_of``; ``counts`` (joint_ventures, licenses, labs, academic, government,
    certifications); ``active`` (joint_ventures, licenses in term, labs, academic);
    ``invested`` / ``invested_by_us`` / ``distributed`` (JV money); ``lab_budget`` /
    ``lab_spent``; ``royalty_revenue_ytd`` (out-licences) / ``royalty_expense_ytd``
    (in-licences): revenue recognised in reported periods ending Jan 1 – ``today``;
    ``certifications_expiring`` (within 90 days) and ``certifications_expired``."""
    jvs = list(session.scalars(select(JointVenture).where(JointVenture.project_id == project_id)))
    licenses = list(session.scalars(select(License).where(License.project_id == project_id)))
    labs = list(session.scalars(select(Lab).where(Lab.project_id == project_id)))
    academic = list(
        session.scalars(
            select(AcademicPartnership).where(AcademicPartnership.project_id == project_id)
        )
    )
    govs = list(
        session.scalars(
            select(GovernmentPartnership).where(GovernmentPartnership.project_id == project_id)
        )
    )
    certs = _certifications(govs, today)
    return {
        "as_of": today.isoformat(),
        "counts": {
            "joint_ventures": len(jvs),
            "licenses": len(licenses),
            "labs": len(labs),
            "academic": len(academic),
            "government": len(govs),
            "certifications": certs.pop("certifications"),
        },
        "active": {
            "joint_ventures": sum(jv.status == "active" for jv in jvs),
            "licenses": sum(lic.term_start <= today <= lic.term_end for lic in licenses),
            "labs": sum(lab.status == "active" for lab in labs),
            "academic": sum(
                programmes.period_status(a.start_on, a.end_on, today) == "active" for a in academic
            ),
        },
        **_jv_figures(jvs),
        "lab_budget": _by_currency([(lab.currency, Decimal(lab.budget)) for lab in labs]),
        "lab_spent": _by_currency(
            [(s.currency, Decimal(s.amount)) for lab in labs for s in lab.spend]
        ),
        **_royalties_ytd(licenses, today),
        **certs,
    }
