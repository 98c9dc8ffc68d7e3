"""Value creation across integration programmes (pure: no database, no HTTP).

Each programme reports its synergy realisation (plan to date against actual to date, by
category) and a per-quarter series in its own currency, quarters counted from its close.
Here they are rolled up **per currency** (never added across currencies) and the
quarters are put on one calendar: a programme's quarter counts in the calendar quarter
its last day falls in, so deals closed at different dates share one time axis for the
"synergies over time" chart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

CATEGORIES: tuple[str, ...] = ("revenue", "cost")


@dataclass(frozen=True, slots=True)
class Realised:
    planned_to_date: Decimal
    actual_to_date: Decimal
    planned_total: Decimal

    @property
    def pct(self) -> float | None:
        """actual / plan to date × 100; None while nothing is planned yet."""
        if self.planned_to_date == 0:
            return None
        return round(float(self.actual_to_date / self.planned_to_date * 100), 1)

    def __add__(self, other: Realised) -> Realised:
        return Realised(
            self.planned_to_date + other.planned_to_date,
            self.actual_to_date + other.actual_to_date,
            self.planned_total + other.planned_total,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned_to_date": self.planned_to_date,
            "actual_to_date": self.actual_to_date,
            "planned_total": self.planned_total,
            "realisation_pct": self.pct,
        }


ZERO = Realised(Decimal(0), Decimal(0), Decimal(0))


@dataclass(frozen=True, slots=True)
class Point:
    """One quarter of one programme's plan for one category."""

    category: str
    end: date
    planned: Decimal
    actual: Decimal | None
    """None until the quarter has ended or has an actual."""


@dataclass(frozen=True, slots=True)
class ProgrammeValue:
    id: str
    name: str
    target_id: str
    currency: str
    close_date: date
    by_category: dict[str, Realised]
    points: tuple[Point, ...] = ()

    @property
    def overall(self) -> Realised:
        total = ZERO
        for cat in CATEGORIES:
            total = total + self.by_category.get(cat, ZERO)
        return total


def quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass
class _Bucket:
    planned: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    known: bool = False


def calendar_series(points: Iterable[Point]) -> list[dict[str, Any]]:
    """Plan and actual per calendar quarter with running totals. A quarter's actual is
    None when no programme has reported or finished that quarter yet (the future)."""
    buckets: dict[str, _Bucket] = defaultdict(_Bucket)
    for p in points:
        bucket = buckets[quarter_label(p.end)]
        bucket.planned += p.planned
        if p.actual is not None:
            bucket.actual += p.actual
            bucket.known = True
    out: list[dict[str, Any]] = []
    plan_run = act_run = Decimal(0)
    for label in sorted(buckets):
        b = buckets[label]
        plan_run += b.planned
        if b.known:
            act_run += b.actual
        out.append(
            {
                "quarter": label,
                "planned": b.planned,
                "actual": b.actual if b.known else None,
                "planned_cumulative": plan_run,
                "actual_cumulative": act_run if b.known else None,
            }
        )
    return out


def roll_up(programmes: Sequence[ProgrammeValue]) -> dict[str, Any]:
    """Per currency: realisation overall and by category, and the calendar series
    (overall and per category); plus one row per programme."""
    groups: dict[str, list[ProgrammeValue]] = defaultdict(list)
    for p in programmes:
        groups[p.currency].append(p)
    by_currency: dict[str, Any] = {}
    for cur in sorted(groups):
        members = groups[cur]
        cats = {c: ZERO for c in CATEGORIES}
        for p in members:
            for c in CATEGORIES:
                cats[c] = cats[c] + p.by_category.get(c, ZERO)
        overall = ZERO
        for c in CATEGORIES:
            overall = overall + cats[c]
        points = [pt for p in members for pt in p.points]
        by_currency[cur] = {
            "programmes": len(members),
            "overall": overall.as_dict(),
            "by_category": {c: cats[c].as_dict() for c in CATEGORIES},
            "series": calendar_series(points),
            "series_by_category": {
                c: calendar_series(pt for pt in points if pt.category == c) for c in CATEGORIES
            },
        }
    return {
        "by_currency": by_currency,
        "programmes": [
            {
                "id": p.id,
                "name": p.name,
                "target_id": p.target_id,
                "currency": p.currency,
                "close_date": p.close_date,
                "overall": p.overall.as_dict(),
                "by_category": {c: p.by_category.get(c, ZERO).as_dict() for c in CATEGORIES},
            }
            for p in programmes
        ],
    }


def realisation_by_currency(programmes: Sequence[ProgrammeValue]) -> dict[str, float | None]:
    """The overall realisation % per currency (None where nothing is planned yet)."""
    totals: dict[str, Realised] = defaultdict(lambda: ZERO)
    for p in programmes:
        totals[p.currency] = totals[p.currency] + p.overall
    return {cur: totals[cur].pct for cur in sorted(totals)}
