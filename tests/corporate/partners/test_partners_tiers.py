"""Tier criteria (pure): the highest tier whose every criterion passes, and what the next
tier still needs, in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from novacron.corporate.partners import eligibility, tiers
from novacron.corporate.partners.tiers import TierMetrics


def metrics(revenue: str = "0", engineers: int = 0, deals: int = 0, csat: float | None = None):
    return TierMetrics(Decimal(revenue), engineers, deals, csat)


def test_new_partner_is_bronze_and_sees_silver_gaps() -> None:
    result = tiers.evaluate(metrics())
    assert result.tier == "bronze"
    assert result.next_tier == "silver"
    assert result.gaps == [
        "needs 250,000.00 more sourced revenue (12 months)",
        "needs 2 more certified engineers",
        "needs 3 more closed deals",
        "needs a customer satisfaction score of at least 3.50 (none recorded)",
    ]


def test_gold_needs_three_more_certified_engineers() -> None:
    result = tiers.evaluate(metrics("1200000", engineers=2, deals=12, csat=4.2))
    assert result.tier == "silver"
    assert result.summary == "gold: needs 3 more certified engineers"
    failed = [c.criterion for c in result.next_tier_checks if not c.passed]
    assert failed == ["certified_engineers"]
    revenue = result.next_tier_checks[0]
    assert (revenue.required, revenue.actual, revenue.passed) == (
        "1,000,000.00",
        "1,200,000.00",
        True,
    )


def test_singular_gap_wording() -> None:
    result = tiers.evaluate(metrics("1000000", engineers=4, deals=9, csat=4.0))
    assert result.summary == "gold: needs 1 more certified engineer; needs 1 more closed deal"


def test_tiers_are_cumulative_a_failed_silver_stops_the_climb() -> None:
    # Platinum revenue but no CSAT: silver fails, so the partner is bronze.
    result = tiers.evaluate(metrics("9000000", engineers=20, deals=40, csat=None))
    assert result.tier == "bronze"
    assert result.gaps == ["needs a customer satisfaction score of at least 3.50 (none recorded)"]


def test_platinum_is_the_top() -> None:
    result = tiers.evaluate(metrics("5000000", engineers=10, deals=25, csat=4.5))
    assert result.tier == "platinum"
    assert result.next_tier is None
    assert result.summary == "platinum: the top tier"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, "bronze", "initial evaluation (partner created): bronze"),
        ("bronze", "silver", "promoted from bronze to silver (partner created): all silver"),
        ("gold", "silver", "demoted from gold to silver (partner created): criteria of gold"),
    ],
)
def test_change_reason(old: str | None, new: str, expected: str) -> None:
    result = tiers.evaluate(metrics())
    assert tiers.change_reason(old, new, result, "partner created").startswith(expected)


def test_eligibility_lists_every_reason() -> None:
    from datetime import date

    rules = eligibility.Rules("Gold Co-sell", "gold", ["cloud", "telco"], date(2026, 1, 1), None)
    reasons = eligibility.reasons(
        rules, tier="silver", type_="reseller", status="prospect", today=date(2026, 6, 1)
    )
    assert reasons == [
        "partner is prospect; only active partners can enrol",
        "Gold Co-sell requires tier gold or above (partner is silver)",
        "Gold Co-sell is open to cloud, telco (partner is reseller)",
    ]
    ok = eligibility.reasons(rules, tier="platinum", type_="cloud", status="active",
                             today=date(2026, 6, 1))  # fmt: skip
    assert ok == []
    ended = eligibility.Rules("Old", "bronze", [], date(2025, 1, 1), date(2025, 12, 31))
    assert eligibility.reasons(
        ended, tier="bronze", type_="cloud", status="active", today=date(2026, 1, 1)
    ) == ["Old ended on 2025-12-31"]
