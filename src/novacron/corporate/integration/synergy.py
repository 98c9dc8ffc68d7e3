"""Synergy realisation: the deal's synergy plan spread over quarters, against actuals.

Periods are **quarters after close**: period 1 runs from the close date for three calendar
months, period 5 starts on the first anniversary, and so on. A plan line's ``phase_in`` gives
the share of its annual run-rate reached in each year after close, so the planned amount of a
quarter in year *y* is ``run_rate × phase_in[y] / 4``; the plan ends with the last year of
``phase_in``. Quarters (not months) because synergy run-rates are reviewed quarterly by
steering committees and monthly actuals are too noisy to steer by.

Realisation compares actuals with the plan **to date**: the quarters that have ended by the
as-of date, plus any later quarter that already has an actual (so early reporting can't
inflate the percentage). Amounts are ``Decimal`` and every line of a programme is in one
currency; a different currency raises ``CurrencyMismatch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from novacron.corporate.finance.money import percent, same_currency
from novacron.corporate.integration.plan import add_months

CATEGORIES = ("revenue", "cost")
PERIODS_PER_YEAR = 4
MONTHS_PER_PERIOD = 12 // PERIODS_PER_YEAR
_CENT = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Period:
    index: int
    """1-based quarter after close."""
    start: date
    end: date


def period(close: date, index: int) -> Period:
    start = add_months(close, (index - 1) * MONTHS_PER_PERIOD)
    end = add_months(close, index * MONTHS_PER_PERIOD) - timedelta(days=1)
    return Period(index, start, end)


def periods(close: date, count: int) -> list[Period]:
    return [period(close, i) for i in range(1, count + 1)]


def elapsed_periods(close: date, as_of: date) -> int:
    """How many quarters have ended before ``as_of``."""
    count = 0
    while period(close, count + 1).end < as_of:
        count += 1
    return count


def planned_amounts(run_rate: Decimal, phase_in: Sequence[Decimal]) -> list[Decimal]:
    """Planned amount of each quarter: ``run_rate × phase_in[year] / 4``."""
    return [
        (run_rate * share / PERIODS_PER_YEAR).quantize(_CENT)
        for share in phase_in
        for _ in range(PERIODS_PER_YEAR)
    ]


@dataclass(frozen=True, slots=True)
class LineFacts:
    category: str
    currency: str
    planned: list[Decimal]
    actuals: dict[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Realisation:
    planned_to_date: Decimal
    actual_to_date: Decimal
    planned_total: Decimal
    pct: float | None
    """actual / plan to date × 100; None while nothing is planned yet."""


def realisation(lines: Sequence[LineFacts], elapsed: int) -> Realisation:
    """Plan to date against actual to date over ``lines``."""
    planned = actual = total = Decimal(0)
    for line in lines:
        counted = set(range(1, elapsed + 1)) | set(line.actuals)
        planned += sum(
            (amt for i, amt in enumerate(line.planned, 1) if i in counted), start=Decimal(0)
        )
        actual += sum(line.actuals.values(), start=Decimal(0))
        total += sum(line.planned, start=Decimal(0))
    return Realisation(planned, actual, total, percent(actual, planned))


@dataclass(frozen=True, slots=True)
class RealisationReport:
    currency: str | None
    overall: Realisation
    by_category: dict[str, Realisation]


def report(lines: Sequence[LineFacts], elapsed: int) -> RealisationReport:
    """Realisation overall and per category; the lines must share one currency."""
    currency = (
        same_currency((f"synergy_plan.{i}.currency", ln.currency) for i, ln in enumerate(lines))
        if lines
        else None
    )
    by_category = {
        cat: realisation([ln for ln in lines if ln.category == cat], elapsed) for cat in CATEGORIES
    }
    return RealisationReport(currency, realisation(lines, elapsed), by_category)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    period: int
    start: date
    end: date
    planned: Decimal
    actual: Decimal | None
    """None until the quarter has ended or has an actual."""
    planned_cumulative: Decimal
    actual_cumulative: Decimal | None


def cumulative_series(
    lines: Sequence[LineFacts], close: date, elapsed: int, category: str | None = None
) -> list[SeriesPoint]:
    """Plan vs actual per quarter with running totals, for the realisation chart."""
    chosen = [ln for ln in lines if category is None or ln.category == category]
    count = max((len(ln.planned) for ln in chosen), default=0)
    points: list[SeriesPoint] = []
    plan_run = act_run = Decimal(0)
    last_reported = max((i for ln in chosen for i in ln.actuals), default=0)
    for p in periods(close, count):
        planned = sum(
            (ln.planned[p.index - 1] for ln in chosen if p.index <= len(ln.planned)),
            start=Decimal(0),
        )
        plan_run += planned
        known = p.index <= max(elapsed, last_reported)
        actual = (
            sum((ln.actuals.get(p.index, Decimal(0)) for ln in chosen), start=Decimal(0))
            if known
            else None
        )
        if actual is not None:
            act_run += actual
        points.append(
            SeriesPoint(
                p.index, p.start, p.end, planned, actual, plan_run, act_run if known else None
            )
        )
    return points
