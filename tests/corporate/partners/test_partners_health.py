"""Health score (pure): weighted, explainable components, with hand-computed points."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from novacron.corporate.partners import health
from novacron.corporate.partners.health import HealthInputs

BASE = HealthInputs(
    revenue_12m=Decimal(500_000),
    revenue_target=Decimal(1_000_000),
    won=3,
    lost=1,
    open_pipeline=Decimal(500_000),
    mdf_approved=Decimal(10_000),
    mdf_claimed=Decimal(5_000),
    last_activity=date(2026, 5, 22),
    today=date(2026, 6, 1),
    certified_engineers=4,
    certified_target=5,
)


def test_components_points_and_band() -> None:
    result = health.score(BASE)
    points = {c.name: c.contribution for c in result.components}
    # revenue 50% × 30; win 75% × 20; coverage 2/3 × 15; MDF 50% × 10; recent × 15; 4/5 × 10
    assert points == {
        "revenue_vs_target": 15.0,
        "win_rate": 15.0,
        "pipeline_coverage": 10.0,
        "mdf_utilisation": 5.0,
        "engagement_recency": 15.0,
        "certification": 8.0,
    }
    assert result.score == 68.0
    assert result.band == "watch"
    assert sum(c.weight for c in result.components) == pytest.approx(1.0)


def test_every_component_explains_itself() -> None:
    by_name = {c.name: c for c in health.score(BASE).components}
    assert by_name["revenue_vs_target"].explanation == "12-month revenue is 50% of the tier target"
    assert by_name["win_rate"].explanation == "won 3 of 4 decided deals (75%)"
    assert by_name["win_rate"].value == 0.75
    assert by_name["pipeline_coverage"].explanation.startswith("open pipeline covers 2.0×")
    assert by_name["mdf_utilisation"].explanation == "claimed 50% of approved MDF"
    assert by_name["engagement_recency"].value == 10.0
    assert by_name["certification"].explanation == ("4 of 5 certified engineers the tier expects")


def test_neutral_components_when_there_is_no_data() -> None:
    empty = replace(BASE, won=0, lost=0, mdf_approved=Decimal(0), mdf_claimed=Decimal(0))
    by_name = {c.name: c for c in health.score(empty).components}
    assert by_name["win_rate"].score == 0.5
    assert by_name["win_rate"].explanation == "no deals won or lost yet: neutral"
    assert by_name["mdf_utilisation"].value is None


def test_at_risk_and_healthy_bands() -> None:
    stale = replace(
        BASE, revenue_12m=Decimal(0), won=0, lost=5, open_pipeline=Decimal(0),
        last_activity=date(2025, 1, 1), certified_engineers=0,
    )  # fmt: skip
    low = health.score(stale)
    assert low.band == "at_risk" and low.score == 5.0  # only MDF's 50% × 10
    strong = replace(BASE, revenue_12m=Decimal(2_000_000), won=9, lost=1,
                     open_pipeline=Decimal(10**6), certified_engineers=6)  # fmt: skip
    assert health.score(strong).band == "healthy"


@pytest.mark.parametrize(("score", "band"), [(70, "healthy"), (69.99, "watch"), (40, "watch"),
                                             (39.9, "at_risk")])  # fmt: skip
def test_band_edges(score: float, band: str) -> None:
    assert health.band_of(score) == band
