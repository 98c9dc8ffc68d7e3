"""Partner health score (pure), explainable: 0-100 from weighted components.

Every component has a value (the raw fact), a score in [0, 1], a weight, its
contribution in points (score × weight × 100) and a sentence, so a reader can see
exactly why a partner is "watch" and what would move it.

Bands: ``healthy`` ≥ 70, ``watch`` ≥ 40, else ``at_risk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WEIGHTS: dict[str, float] = {
    "revenue_vs_target": 0.30,
    "win_rate": 0.20,
    "pipeline_coverage": 0.15,
    "mdf_utilisation": 0.10,
    "engagement_recency": 0.15,
    "certification": 0.10,
}
HEALTHY = 70.0
WATCH = 40.0
COVERAGE_GOAL = 3.0
"""Open pipeline worth 3× a quarter's revenue target scores full marks."""
RECENT_DAYS = 30
STALE_DAYS = 180


@dataclass(frozen=True, slots=True)
class HealthInputs:
    revenue_12m: Decimal
    revenue_target: Decimal
    """The current tier's (or next tier's, for bronze) annual revenue threshold."""
    won: int
    lost: int
    open_pipeline: Decimal
    mdf_approved: Decimal
    mdf_claimed: Decimal
    last_activity: date | None
    today: date
    certified_engineers: int
    certified_target: int


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    value: float | None
    score: float
    weight: float
    contribution: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Health:
    score: float
    band: str
    components: list[Component]


def band_of(score: float) -> str:
    return "healthy" if score >= HEALTHY else "watch" if score >= WATCH else "at_risk"


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _revenue(i: HealthInputs) -> tuple[float | None, float, str]:
    if i.revenue_target <= 0:
        return None, 1.0, "no revenue target at this tier: full marks"
    ratio = float(i.revenue_12m / i.revenue_target)
    return ratio, _clamp(ratio), f"12-month revenue is {ratio:.0%} of the tier target"


def _win_rate(i: HealthInputs) -> tuple[float | None, float, str]:
    decided = i.won + i.lost
    if decided == 0:
        return None, 0.5, "no deals won or lost yet: neutral"
    rate = i.won / decided
    return rate, rate, f"won {i.won} of {decided} decided deals ({rate:.0%})"


def _coverage(i: HealthInputs) -> tuple[float | None, float, str]:
    quarter = i.revenue_target / 4
    if quarter <= 0:
        score = 1.0 if i.open_pipeline > 0 else 0.5
        return None, score, "no revenue target: open pipeline scored as present or neutral"
    cover = float(i.open_pipeline / quarter)
    return (
        cover,
        _clamp(cover / COVERAGE_GOAL),
        f"open pipeline covers {cover:.1f}× a quarter's target (goal {COVERAGE_GOAL:.0f}×)",
    )


def _mdf(i: HealthInputs) -> tuple[float | None, float, str]:
    if i.mdf_approved <= 0:
        return None, 0.5, "no MDF approved: neutral"
    used = float(i.mdf_claimed / i.mdf_approved)
    return used, _clamp(used), f"claimed {used:.0%} of approved MDF"


def _recency(i: HealthInputs) -> tuple[float | None, float, str]:
    if i.last_activity is None:
        return None, 0.0, "no recorded activity"
    days = (i.today - i.last_activity).days
    score = _clamp((STALE_DAYS - days) / (STALE_DAYS - RECENT_DAYS))
    return float(days), score, f"last activity {days} days ago (full marks within {RECENT_DAYS})"


def _certification(i: HealthInputs) -> tuple[float | None, float, str]:
    if i.certified_target <= 0:
        score = 1.0 if i.certified_engineers > 0 else 0.5
        return (
            float(i.certified_engineers),
            score,
            (f"{i.certified_engineers} certified engineers (no tier requirement)"),
        )
    ratio = i.certified_engineers / i.certified_target
    return (
        float(i.certified_engineers),
        _clamp(ratio),
        (f"{i.certified_engineers} of {i.certified_target} certified engineers the tier expects"),
    )


_RULES = {
    "revenue_vs_target": _revenue,
    "win_rate": _win_rate,
    "pipeline_coverage": _coverage,
    "mdf_utilisation": _mdf,
    "engagement_recency": _recency,
    "certification": _certification,
}


def score(inputs: HealthInputs) -> Health:
    """The weighted score, its band and every component's explanation."""
    components: list[Component] = []
    for name, rule in _RULES.items():
        value, sub, sentence = rule(inputs)
        weight = WEIGHTS[name]
        points = round(sub * weight * 100, 2)
        components.append(Component(name, value, round(sub, 4), weight, points, sentence))
    total = round(sum(c.contribution for c in components), 2)
    return Health(total, band_of(total), components)
