"""Screening scorecards and the diligence risk matrix (pure: no database, no HTTP).

A scorecard is a weighted sum: each criterion scores 0..scale (10 or 100) and carries a
weight; the weights sum to 1, so the total lands on 0–100 and every criterion's share of
it (its *contribution*) explains the result. Risks score severity × likelihood on a 5×5
matrix, rated as the usual bands: 1–4 low, 5–9 medium, 10–16 high, 20–25 critical.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from novacron.core.errors import Invalid

WEIGHT_TOLERANCE = 1e-9
SCALES = (10, 100)


@dataclass(frozen=True, slots=True)
class CriterionScore:
    name: str
    weight: float
    score: float
    rationale: str = ""


@dataclass(frozen=True, slots=True)
class Contribution:
    name: str
    weight: float
    score: float
    points: float
    """The criterion's share of the 0–100 total: weight × score / scale × 100."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weight": self.weight,
            "score": self.score,
            "points": round(self.points, 6),
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    total: float
    contributions: tuple[Contribution, ...]
    """Strongest first."""
    summary: str

    def explanation(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "contributions": [c.as_dict() for c in self.contributions],
        }


def _error(loc: list[str | int], msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}


def validate(criteria: Sequence[CriterionScore], scale: int) -> None:
    """Refuse an inconsistent scorecard, naming every field that is wrong."""
    if scale not in SCALES:
        raise Invalid(
            f"scale must be 10 or 100, not {scale}", errors=[_error(["scale"], "not 10 or 100")]
        )
    if not criteria:
        raise Invalid("a scorecard needs criteria", errors=[_error(["criteria"], "empty")])
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, c in enumerate(criteria):
        if not c.name.strip():
            errors.append(_error(["criteria", i, "name"], "empty name"))
        elif c.name in seen:
            errors.append(_error(["criteria", i, "name"], f"{c.name!r} appears twice"))
        seen.add(c.name)
        if not math.isfinite(c.weight) or c.weight < 0 or c.weight > 1:
            errors.append(_error(["criteria", i, "weight"], "must be between 0 and 1"))
        if not math.isfinite(c.score) or c.score < 0 or c.score > scale:
            errors.append(_error(["criteria", i, "score"], f"must be between 0 and {scale}"))
    if errors:
        raise Invalid("inconsistent scorecard", errors=errors)
    weight_sum = math.fsum(c.weight for c in criteria)
    if abs(weight_sum - 1.0) > WEIGHT_TOLERANCE:
        raise Invalid(
            f"criteria: weights sum to {weight_sum:.12g}, must sum to 1",
            errors=[_error(["criteria"], f"weights sum to {weight_sum:.12g}, must sum to 1")],
        )


def score(criteria: Sequence[CriterionScore], scale: int = 10) -> ScoreResult:
    """The 0–100 total and its explanation; ``Invalid`` when the scorecard is inconsistent."""
    validate(criteria, scale)
    contributions = [
        Contribution(c.name, c.weight, c.score, c.weight * c.score / scale * 100) for c in criteria
    ]
    # Rounded once, so the stored total and the sentence explaining it print the same
    # figure (80.449999… would read 80.4 in one and 80.5 in the other).
    total = round(min(100.0, max(0.0, math.fsum(c.points for c in contributions))), 6)
    ordered = tuple(sorted(contributions, key=lambda c: (-c.points, c.name)))
    return ScoreResult(total, ordered, _summary(total, ordered, scale))


def _summary(total: float, ordered: Sequence[Contribution], scale: int) -> str:
    strongest, weakest = ordered[0], ordered[-1]
    text = f"Scores {total:.1f}/100. Strongest: {strongest.name} ({strongest.score:g}/{scale}, "
    text += f"{strongest.points:.1f} points)"
    if len(ordered) > 1:
        # Weakest relative to what it could have given: the most points left on the table.
        lost = max(ordered, key=lambda c: (c.weight * 100 - c.points, c.name))
        text += (
            f"; weakest: {weakest.name} ({weakest.score:g}/{scale}, {weakest.points:.1f} points)"
        )
        if lost.name != weakest.name:
            text += f"; most points lost on {lost.name} ({lost.weight * 100 - lost.points:.1f})"
    return text + "."


# -- risk matrix ----------------------------------------------------------------------------

RATINGS = ("low", "medium", "high", "critical")


def risk_score(severity: int, likelihood: int) -> int:
    """Severity × likelihood on a 5×5 matrix (1–25)."""
    for field, value in (("severity", severity), ("likelihood", likelihood)):
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise Invalid(
                f"{field} must be an integer from 1 to 5",
                errors=[_error([field], "must be from 1 to 5")],
            )
    return severity * likelihood


def risk_rating(score_value: int) -> str:
    """The band of a 1–25 risk score: 1–4 low, 5–9 medium, 10–16 high, 17–25 critical."""
    if score_value <= 4:
        return "low"
    if score_value <= 9:
        return "medium"
    if score_value <= 16:
        return "high"
    return "critical"


def heat_map(cells: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Counts of (severity, likelihood) pairs as a 5×5 grid: row ``i`` is severity ``5 - i``
    (worst on top), column ``j`` is likelihood ``j + 1``."""
    grid = [[0] * 5 for _ in range(5)]
    for severity, likelihood in cells:
        grid[5 - severity][likelihood - 1] += 1
    return grid
