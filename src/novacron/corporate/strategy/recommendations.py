"""Recommendations derived from the data (pure: no database, no HTTP).

Each rule looks at one kind of fact and, when it finds something a corporate-development
lead should act on, says what and why::

    {"id", "rule", "severity", "message", "subject": {"kind", "id", "name"},
     "evidence": {…the numbers behind the message…}}

Rules (thresholds from ``kpis.DEFAULT_SETTINGS["recommendations"]``):

    synergy_shortfall      a programme's revenue or cost synergies realised below
                           ``realisation_pct`` % of plan to date → review the workstream
                           that owns them (cost: operations, revenue: sales)
    registrations_expiring open deal registrations expiring within
                           ``registration_expiry_days`` days → extend or decide
    registration_conflict  two or more partners registered one customer and product
    diligence_stalled      a target in due diligence for more than ``diligence_max_days``
                           days, or with overdue requests
    deal_breaker_open      an open deal with an open deal-breaker finding
    tier_upgrade           a partner's metrics meet a higher tier than it holds
    tier_near_miss         a partner short of the next tier only by certified engineers
                           (at most ``engineers_short``) → one enablement push away
    certification_expiring a government certification expiring within
                           ``certification_days`` days (critical within
                           ``certification_critical_days``)
    key_people_at_risk     retained key employees rated high flight risk

Severities, most urgent first: ``critical``, ``warning``, ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from novacron.corporate.strategy.funnel import RegistrationFacts, conflicts, expiring
from novacron.corporate.strategy.value import ProgrammeValue

SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
WORKSTREAM_FOR: dict[str, str] = {"cost": "operations", "revenue": "sales"}
"""The integration workstream that owns each synergy category."""


@dataclass(frozen=True, slots=True)
class Recommendation:
    rule: str
    severity: str
    message: str
    subject_kind: str
    subject_id: str
    subject_name: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.subject_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "subject": {
                "kind": self.subject_kind,
                "id": self.subject_id,
                "name": self.subject_name,
            },
            "evidence": self.evidence,
        }


# -- facts the service gathers ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiligenceFacts:
    target_id: str
    target: str
    stage: str
    days_in_stage: int | None
    overdue_requests: int
    open_requests: int
    open_deal_breakers: int


@dataclass(frozen=True, slots=True)
class TierFacts:
    partner_id: str
    partner: str
    tier: str
    """The tier it holds now."""
    qualifies_for: str
    """The tier its metrics meet today."""
    next_tier: str | None
    failing: Sequence[tuple[str, str, str]] = ()
    """The next tier's unmet criteria: (criterion, required, actual)."""


@dataclass(frozen=True, slots=True)
class CertificationFacts:
    government_id: str
    agency: str
    name: str
    days_to_expiry: int
    expires_on: str | None = None


@dataclass(frozen=True, slots=True)
class PeopleFacts:
    programme_id: str
    programme: str
    high_flight_risk: int
    employees_total: int


@dataclass(frozen=True, slots=True)
class Facts:
    programmes: Sequence[ProgrammeValue] = ()
    registrations: Sequence[RegistrationFacts] = ()
    diligence: Sequence[DiligenceFacts] = ()
    tiers: Sequence[TierFacts] = ()
    certifications: Sequence[CertificationFacts] = ()
    people: Sequence[PeopleFacts] = ()
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1))


# -- rules ---------------------------------------------------------------------------------


def synergy_shortfall(
    programmes: Iterable[ProgrammeValue], threshold: float
) -> list[Recommendation]:
    out = []
    for p in programmes:
        for category in ("cost", "revenue"):
            r = p.by_category.get(category)
            if r is None or r.pct is None or r.pct >= threshold:
                continue
            workstream = WORKSTREAM_FOR[category]
            severity = "critical" if r.pct < threshold / 2 else "warning"
            out.append(
                Recommendation(
                    "synergy_shortfall",
                    severity,
                    f"Realisation on {category} synergies is {r.pct:g}% of plan in {p.name}: "
                    f"review the {workstream} workstream",
                    "programme",
                    f"{p.id}:{category}",
                    p.name,
                    {
                        "category": category,
                        "currency": p.currency,
                        "planned_to_date": r.planned_to_date,
                        "actual_to_date": r.actual_to_date,
                        "realisation_pct": r.pct,
                        "threshold_pct": threshold,
                        "workstream": workstream,
                    },
                )
            )
    return out


def registrations_expiring(
    regs: Sequence[RegistrationFacts], now: datetime, days: int
) -> list[Recommendation]:
    soon = expiring(regs, now, days)
    if not soon:
        return []
    n = len(soon)
    noun = "registration expires" if n == 1 else "registrations expire"
    return [
        Recommendation(
            "registrations_expiring",
            "warning",
            f"{n} deal {noun} within {days} days: extend or decide them",
            "registrations",
            "expiring",
            "deal registrations",
            {
                "count": n,
                "within_days": days,
                "registrations": [
                    {
                        "id": r.id,
                        "partner": r.partner,
                        "customer": r.customer,
                        "expires_at": r.expires_at,
                        "days_left": max((r.expires_at - now).days, 0),
                    }
                    for r in soon
                ],
            },
        )
    ]


def registration_conflicts(regs: Sequence[RegistrationFacts]) -> list[Recommendation]:
    out = []
    for group in conflicts(regs):
        first = group[0]
        partners = sorted({r.partner for r in group})
        out.append(
            Recommendation(
                "registration_conflict",
                "warning",
                f"{len(partners)} partners registered {first.customer} for {first.product} "
                f"({', '.join(partners)}): decide which one owns the deal",
                "registration",
                first.id,
                first.customer,
                {"registrations": [r.id for r in group], "partners": partners},
            )
        )
    return out


def diligence_stalled(facts: Iterable[DiligenceFacts], max_days: int) -> list[Recommendation]:
    out = []
    for d in facts:
        if d.stage == "due_diligence":
            days = d.days_in_stage or 0
            if days > max_days or d.overdue_requests:
                parts = [f"{d.target} has been in due diligence {days} days"]
                if d.overdue_requests:
                    parts.append(f"with {d.overdue_requests} overdue requests")
                out.append(
                    Recommendation(
                        "diligence_stalled",
                        "warning",
                        " ".join(parts) + ": chase the request owners or reset the timetable",
                        "target",
                        d.target_id,
                        d.target,
                        {
                            "days_in_stage": days,
                            "max_days": max_days,
                            "overdue_requests": d.overdue_requests,
                            "open_requests": d.open_requests,
                        },
                    )
                )
        if d.open_deal_breakers and d.stage in ("preliminary", "due_diligence", "negotiation"):
            out.append(
                Recommendation(
                    "deal_breaker_open",
                    "critical",
                    f"{d.target} has {d.open_deal_breakers} open deal-breaker finding(s) in "
                    f"{d.stage.replace('_', ' ')}: resolve them or drop the deal",
                    "target",
                    d.target_id,
                    d.target,
                    {"open_deal_breakers": d.open_deal_breakers, "stage": d.stage},
                )
            )
    return out


TIER_ORDER: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")


def tier_moves(facts: Iterable[TierFacts], engineers_short: int) -> list[Recommendation]:
    out = []
    for t in facts:
        if TIER_ORDER.index(t.qualifies_for) > TIER_ORDER.index(t.tier):
            out.append(
                Recommendation(
                    "tier_upgrade",
                    "info",
                    f"{t.partner} qualifies for {t.qualifies_for}: propose the upgrade "
                    f"(holds {t.tier})",
                    "partner",
                    t.partner_id,
                    t.partner,
                    {"tier": t.tier, "qualifies_for": t.qualifies_for},
                )
            )
            continue
        if t.next_tier is None or len(t.failing) != 1:
            continue
        criterion, required, actual = t.failing[0]
        if criterion != "certified_engineers":
            continue
        short = int(required) - int(actual)
        if 0 < short <= engineers_short:
            noun = "engineer" if short == 1 else "engineers"
            out.append(
                Recommendation(
                    "tier_near_miss",
                    "info",
                    f"{t.partner} is {short} certified {noun} short of {t.next_tier}: "
                    "fund their certification",
                    "partner",
                    t.partner_id,
                    t.partner,
                    {
                        "tier": t.tier,
                        "next_tier": t.next_tier,
                        "certified_engineers": int(actual),
                        "required": int(required),
                        "short": short,
                    },
                )
            )
    return out


def certifications_expiring(
    certs: Iterable[CertificationFacts], days: int, critical_days: int
) -> list[Recommendation]:
    out = []
    for c in sorted(certs, key=lambda c: c.days_to_expiry):
        if c.days_to_expiry > days:
            continue
        severity = "critical" if c.days_to_expiry <= critical_days else "warning"
        out.append(
            Recommendation(
                "certification_expiring",
                severity,
                f"{c.name} certification for {c.agency} expires in {c.days_to_expiry} days: "
                "start the renewal",
                "certification",
                f"{c.government_id}:{c.name}",
                f"{c.agency} {c.name}",
                {"days_to_expiry": c.days_to_expiry, "expires_on": c.expires_on},
            )
        )
    return out


def key_people_at_risk(people: Iterable[PeopleFacts]) -> list[Recommendation]:
    return [
        Recommendation(
            "key_people_at_risk",
            "warning",
            f"{p.high_flight_risk} key employee(s) in {p.programme} are high flight risk: "
            "review retention packages",
            "programme",
            p.programme_id,
            p.programme,
            {"high_flight_risk": p.high_flight_risk, "key_employees": p.employees_total},
        )
        for p in people
        if p.high_flight_risk
    ]


def derive(facts: Facts, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every recommendation, most severe first (then by rule and subject)."""
    s = settings
    found = [
        *synergy_shortfall(facts.programmes, float(s["realisation_pct"])),
        *registrations_expiring(facts.registrations, facts.now, int(s["registration_expiry_days"])),
        *registration_conflicts(facts.registrations),
        *diligence_stalled(facts.diligence, int(s["diligence_max_days"])),
        *tier_moves(facts.tiers, int(s["engineers_short"])),
        *certifications_expiring(
            facts.certifications,
            int(s["certification_days"]),
            int(s["certification_critical_days"]),
        ),
        *key_people_at_risk(facts.people),
    ]
    found.sort(key=lambda r: (SEVERITIES.index(r.severity), r.rule, r.subject_name))
    return [r.as_dict() for r in found]
