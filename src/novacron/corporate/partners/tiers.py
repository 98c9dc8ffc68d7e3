"""Partner tiers evaluated from criteria (pure: no database, no HTTP).

A partner holds the highest tier whose every criterion it meets; bronze has none, so
every partner is at least bronze. The evaluation also says what the next tier up still
needs ("gold: needs 3 more certified engineers"), because a tier a partner cannot see
how to reach motivates nobody.

Revenue thresholds are nominal amounts in the partner's own currency: a partner's
revenue is only ever compared with thresholds in that one currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")
"""Lowest first."""


@dataclass(frozen=True, slots=True)
class TierCriteria:
    """What a tier requires; every criterion must pass."""

    min_revenue_12m: Decimal
    """Trailing-12-month sourced revenue (won registrations)."""
    min_certified_engineers: int
    min_closed_deals_12m: int
    min_csat: float
    """Customer satisfaction, 0-5."""


DEFAULT_CRITERIA: dict[str, TierCriteria] = {
    "bronze": TierCriteria(Decimal(0), 0, 0, 0.0),
    "silver": TierCriteria(Decimal(250_000), 2, 3, 3.5),
    "gold": TierCriteria(Decimal(1_000_000), 5, 10, 4.0),
    "platinum": TierCriteria(Decimal(5_000_000), 10, 25, 4.5),
}


@dataclass(frozen=True, slots=True)
class TierMetrics:
    revenue_12m: Decimal
    certified_engineers: int
    closed_deals_12m: int
    csat: float | None
    """None when no survey has been recorded (fails any non-zero minimum)."""


@dataclass(frozen=True, slots=True)
class CriterionCheck:
    criterion: str
    required: str
    actual: str
    passed: bool
    gap: str
    """What is missing, in words ("" when passed)."""


@dataclass(frozen=True, slots=True)
class TierEvaluation:
    tier: str
    next_tier: str | None
    next_tier_checks: list[CriterionCheck] = field(default_factory=list)
    """Every criterion of the next tier up, passed or failed."""

    @property
    def gaps(self) -> list[str]:
        return [c.gap for c in self.next_tier_checks if not c.passed]

    @property
    def summary(self) -> str:
        """``gold: needs 3 more certified engineers; needs 1.5 more CSAT points`` or the top."""
        if self.next_tier is None:
            return f"{self.tier}: the top tier"
        return f"{self.next_tier}: " + "; ".join(self.gaps)


def tier_rank(tier: str) -> int:
    return TIERS.index(tier)


def _plural(n: int | Decimal, word: str) -> str:
    return f"{n} more {word}" if n == 1 else f"{n} more {word}s"


def check(metrics: TierMetrics, criteria: TierCriteria) -> list[CriterionCheck]:
    """Each criterion of ``criteria`` against ``metrics``, with the gap in words."""
    out: list[CriterionCheck] = []
    need_rev = criteria.min_revenue_12m - metrics.revenue_12m
    out.append(
        CriterionCheck(
            "revenue_12m",
            f"{criteria.min_revenue_12m:,.2f}",
            f"{metrics.revenue_12m:,.2f}",
            need_rev <= 0,
            "" if need_rev <= 0 else f"needs {need_rev:,.2f} more sourced revenue (12 months)",
        )
    )
    need_eng = criteria.min_certified_engineers - metrics.certified_engineers
    out.append(
        CriterionCheck(
            "certified_engineers",
            str(criteria.min_certified_engineers),
            str(metrics.certified_engineers),
            need_eng <= 0,
            "" if need_eng <= 0 else "needs " + _plural(need_eng, "certified engineer"),
        )
    )
    need_deals = criteria.min_closed_deals_12m - metrics.closed_deals_12m
    out.append(
        CriterionCheck(
            "closed_deals_12m",
            str(criteria.min_closed_deals_12m),
            str(metrics.closed_deals_12m),
            need_deals <= 0,
            "" if need_deals <= 0 else "needs " + _plural(need_deals, "closed deal"),
        )
    )
    out.append(_csat_check(metrics.csat, criteria.min_csat))
    return out


def _csat_check(csat: float | None, minimum: float) -> CriterionCheck:
    if minimum <= 0:
        return CriterionCheck("csat", "-", "-" if csat is None else f"{csat:.2f}", True, "")
    if csat is None:
        gap = f"needs a customer satisfaction score of at least {minimum:.2f} (none recorded)"
        return CriterionCheck("csat", f"{minimum:.2f}", "-", False, gap)
    passed = csat >= minimum
    gap = "" if passed else f"needs customer satisfaction {minimum:.2f} (has {csat:.2f})"
    return CriterionCheck("csat", f"{minimum:.2f}", f"{csat:.2f}", passed, gap)


def evaluate(
    metrics: TierMetrics, criteria: dict[str, TierCriteria] | None = None
) -> TierEvaluation:
    """The highest tier whose criteria all pass (tiers are cumulative: a partner that
    fails silver is bronze even if it would pass gold's revenue), and the next tier's
    checks."""
    criteria = criteria or DEFAULT_CRITERIA
    tier = TIERS[0]
    for candidate in TIERS[1:]:
        if all(c.passed for c in check(metrics, criteria[candidate])):
            tier = candidate
        else:
            break
    rank = tier_rank(tier)
    if rank == len(TIERS) - 1:
        return TierEvaluation(tier, None, [])
    nxt = TIERS[rank + 1]
    return TierEvaluation(tier, nxt, check(metrics, criteria[nxt]))


def change_reason(old: str | None, new: str, evaluation: TierEvaluation, trigger: str) -> str:
    """Why a tier changed, for the history: the trigger and the deciding facts."""
    if old is None:
        return f"initial evaluation ({trigger}): {new}"
    direction = "promoted" if tier_rank(new) > tier_rank(old) else "demoted"
    if direction == "demoted":
        return f"{direction} from {old} to {new} ({trigger}): criteria of {old} no longer met"
    return f"{direction} from {old} to {new} ({trigger}): all {new} criteria met"
