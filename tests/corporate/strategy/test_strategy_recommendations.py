"""Recommendations derived from the data (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from novacron.corporate.strategy import kpis, recommendations
from novacron.corporate.strategy.funnel import RegistrationFacts
from novacron.corporate.strategy.recommendations import (
    CertificationFacts,
    DiligenceFacts,
    Facts,
    PeopleFacts,
    TierFacts,
)
from novacron.corporate.strategy.value import ProgrammeValue, Realised

NOW = datetime(2026, 6, 30, 12)
SETTINGS = kpis.DEFAULT_SETTINGS["recommendations"]


def programme(cost_actual: int, revenue_actual: int = 100) -> ProgrammeValue:
    return ProgrammeValue(
        "prog-1", "Acme integration", "t1", "USD", date(2025, 1, 1),
        {"cost": Realised(Decimal(100), Decimal(cost_actual), Decimal(400)),
         "revenue": Realised(Decimal(100), Decimal(revenue_actual), Decimal(400))},
    )  # fmt: skip


def reg(i: int, days: int, status: str = "pending") -> RegistrationFacts:
    return RegistrationFacts(
        f"r{i}", f"Partner {i}", f"Customer {i}", "Platform", "sourced", status,
        Decimal(10), "USD", NOW + timedelta(days=days),
    )  # fmt: skip


def messages(facts: Facts) -> list[str]:
    return [r["message"] for r in recommendations.derive(facts, SETTINGS)]


def test_synergy_shortfall_names_the_category_the_share_and_the_workstream() -> None:
    out = recommendations.derive(Facts(programmes=[programme(62)]), SETTINGS)
    assert len(out) == 1
    rec = out[0]
    assert rec["message"] == (
        "Realisation on cost synergies is 62% of plan in Acme integration: "
        "review the operations workstream"
    )
    assert rec["severity"] == "warning"
    assert rec["evidence"]["realisation_pct"] == 62.0
    assert rec["evidence"]["planned_to_date"] == Decimal(100)
    assert rec["subject"] == {"kind": "programme", "id": "prog-1:cost", "name": "Acme integration"}
    assert messages(Facts(programmes=[programme(80)])) == []  # at the threshold: fine
    assert (
        recommendations.derive(Facts(programmes=[programme(30)]), SETTINGS)[0]["severity"]
        == "critical"
    )


def test_expiring_registrations_are_counted_in_one_recommendation() -> None:
    regs = [reg(1, 3), reg(2, 10), reg(3, 13, "approved"), reg(4, 20), reg(5, 5, "won")]
    out = recommendations.derive(Facts(registrations=regs, now=NOW), SETTINGS)
    assert [r["message"] for r in out] == [
        "3 deal registrations expire within 14 days: extend or decide them"
    ]
    assert [r["id"] for r in out[0]["evidence"]["registrations"]] == ["r1", "r2", "r3"]
    assert out[0]["evidence"]["registrations"][0]["days_left"] == 3


def test_stalled_diligence_and_deal_breakers() -> None:
    facts = Facts(
        diligence=[
            DiligenceFacts("t1", "Target X", "due_diligence", 95, 4, 6, 0),
            DiligenceFacts("t2", "Quick Co", "due_diligence", 20, 0, 3, 0),
            DiligenceFacts("t3", "Risky Co", "negotiation", 10, 0, 0, 1),
        ]
    )
    assert messages(facts) == [
        "Risky Co has 1 open deal-breaker finding(s) in negotiation: resolve them or drop the deal",
        "Target X has been in due diligence 95 days with 4 overdue requests: chase the request "
        "owners or reset the timetable",
    ]


def test_tier_upgrade_and_near_miss() -> None:
    facts = Facts(
        tiers=[
            TierFacts("p1", "Partner Y", "silver", "gold", "gold"),
            TierFacts("p2", "Partner Z", "silver", "silver", "gold",
                      [("certified_engineers", "5", "3")]),
            TierFacts("p3", "Partner W", "silver", "silver", "gold",
                      [("certified_engineers", "5", "3"), ("csat", "4.00", "3.00")]),
            TierFacts("p4", "Partner V", "bronze", "bronze", "silver",
                      [("certified_engineers", "2", "1")]),
        ]
    )  # fmt: skip
    assert messages(facts) == [
        "Partner V is 1 certified engineer short of silver: fund their certification",
        "Partner Z is 2 certified engineers short of gold: fund their certification",
        "Partner Y qualifies for gold: propose the upgrade (holds silver)",
    ]


def test_certifications_conflicts_and_people() -> None:
    conflict = [
        RegistrationFacts("a", "Alpha", "Globex", "Platform", "sourced", "pending", Decimal(1),
                          "USD", NOW + timedelta(days=60), True, ("b",), None, "globex|platform"),
        RegistrationFacts("b", "Beta", "Globex", "Platform", "sourced", "pending", Decimal(1),
                          "USD", NOW + timedelta(days=60), True, ("a",), None, "globex|platform"),
    ]  # fmt: skip
    facts = Facts(
        registrations=conflict,
        certifications=[
            CertificationFacts("g1", "GSA", "FedRAMP Moderate", 40),
            CertificationFacts("g2", "BSI", "C5", 80),
            CertificationFacts("g3", "DoD", "IL5", 200),
        ],
        people=[PeopleFacts("p", "Acme integration", 2, 6), PeopleFacts("q", "Calm", 0, 3)],
        now=NOW,
    )
    out = recommendations.derive(facts, SETTINGS)
    assert [(r["severity"], r["message"]) for r in out] == [
        ("critical", "FedRAMP Moderate certification for GSA expires in 40 days: start the "
                     "renewal"),
        ("warning", "C5 certification for BSI expires in 80 days: start the renewal"),
        ("warning", "2 key employee(s) in Acme integration are high flight risk: review "
                    "retention packages"),
        ("warning", "2 partners registered Globex for Platform (Alpha, Beta): decide which one "
                    "owns the deal"),
    ]  # fmt: skip


def test_thresholds_come_from_the_settings() -> None:
    settings = kpis.resolve({"recommendations": {"realisation_pct": 50}})["recommendations"]
    assert recommendations.derive(Facts(programmes=[programme(62)]), settings) == []
