"""Licence revenue recognition (pure): royalty schedules turned into revenue per period.

A licence's income has four parts, each recognised by its own rule:

    running royalty   % of net sales, by tiers (bands of cumulative net sales within a
                      contract year; marginal: each band's sales at that band's rate)
    minimum annual    if a contract year's royalties fall short of the guarantee, the
    guarantee (MAG)   shortfall is recognised in the period that ends the contract year
    upfront fee       straight-line over the term (by days), or all at the effective date
    milestones        in the period in which each was achieved

Contract years run from the term start's anniversaries (year 1 = the first 12 months);
the last one stops at the term end and its guarantee is prorated by days. Tiers restart
every contract year. A sales period must fall inside one contract year of the term.

Cents: a figure that accrues over several periods (royalty within a contract year, the
straight-line fee) is booked as the difference of its half-even-rounded running totals,
so periods add up exactly to the rounded whole instead of drifting by a cent per period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import Money

Recognition = Literal["straight_line", "point_in_time"]
HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Tier:
    """From ``from_sales`` of cumulative contract-year net sales on, ``rate_pct`` % applies."""

    from_sales: Decimal
    rate_pct: Decimal


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str
    amount: Decimal
    achieved_on: date | None = None


@dataclass(frozen=True, slots=True)
class Terms:
    currency: str
    term_start: date
    term_end: date
    tiers: tuple[Tier, ...]
    minimum_annual_guarantee: Decimal = ZERO
    upfront_fee: Decimal = ZERO
    upfront_recognition: Recognition = "straight_line"
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True, slots=True)
class SalesPeriod:
    start: date
    end: date
    net_sales: Decimal


@dataclass(frozen=True, slots=True)
class Row:
    """One reported period of the schedule; ``total`` is everything recognised in it."""

    start: date
    end: date
    contract_year: int
    net_sales: Decimal
    year_to_date_sales: Decimal
    royalty: Decimal
    upfront_fee: Decimal
    milestones: Decimal
    mag_true_up: Decimal
    total: Decimal
    milestone_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    currency: str
    rows: tuple[Row, ...]
    totals: dict[str, Decimal] = field(default_factory=dict)


def _invalid(loc: list[str | int], msg: str) -> Invalid:
    where = ".".join(str(p) for p in loc)
    return Invalid(f"{where}: {msg}", errors=[{"loc": loc, "msg": msg}])


# -- validation ------------------------------------------------------------------------------


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Tiers start at 0, rise strictly, and carry rates within 0–100 %."""
    if not tiers:
        raise _invalid(["royalty_tiers"], "at least one tier (from_sales 0) is needed")
    if tiers[0].from_sales != 0:
        raise _invalid(["royalty_tiers", 0, "from_sales"], "the first tier must start at 0")
    for index, tier in enumerate(tiers):
        if not ZERO <= tier.rate_pct <= HUNDRED:
            raise _invalid(["royalty_tiers", index, "rate_pct"], f"{tier.rate_pct} not in 0–100")
        if index and tier.from_sales <= tiers[index - 1].from_sales:
            raise _invalid(
                ["royalty_tiers", index, "from_sales"],
                f"{tier.from_sales} must be above the previous {tiers[index - 1].from_sales}",
            )


def validate_terms(terms: Terms) -> None:
    if terms.term_end < terms.term_start:
        raise _invalid(["term_end"], f"{terms.term_end} is before term_start {terms.term_start}")
    validate_tiers(terms.tiers)
    for name, value in (
        ("minimum_annual_guarantee", terms.minimum_annual_guarantee),
        ("upfront_fee", terms.upfront_fee),
    ):
        if value < 0:
            raise _invalid([name], f"{value} is negative")
    for index, milestone in enumerate(terms.milestones):
        if milestone.amount < 0:
            raise _invalid(["milestones", index, "amount"], f"{milestone.amount} is negative")


def validate_period(terms: Terms, period: SalesPeriod, others: Sequence[SalesPeriod]) -> None:
    """A new sales period: ordered dates, inside the term and one contract year, no
    overlap with ``others``, and non-negative sales (returns are netted in net sales)."""
    if period.end < period.start:
        raise _invalid(["period_end"], f"{period.end} is before period_start {period.start}")
    if period.start < terms.term_start:
        raise _invalid(["period_start"], f"{period.start} is before the term ({terms.term_start})")
    if period.end > terms.term_end:
        raise _invalid(["period_end"], f"{period.end} is after the term ({terms.term_end})")
    year, _, year_end = contract_year(terms, period.start)
    if period.end > year_end:
        raise _invalid(
            ["period_end"], f"{period.end} crosses the end of contract year {year} ({year_end})"
        )
    if period.net_sales < 0:
        raise _invalid(["net_sales"], f"{period.net_sales} is negative")
    for other in others:
        if period.start <= other.end and other.start <= period.end:
            raise _invalid(
                ["period_start"], f"overlaps the reported period {other.start}–{other.end}"
            )


# -- contract years ---------------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def contract_year(terms: Terms, day: date) -> tuple[int, date, date]:
    """(1-based number, first day, last day) of the contract year containing ``day``."""
    years = max(day.year - terms.term_start.year - 1, 0)
    while add_years(terms.term_start, years + 1) <= day:
        years += 1
    start = add_years(terms.term_start, years)
    end = min(add_years(terms.term_start, years + 1) - timedelta(days=1), terms.term_end)
    return years + 1, start, end


def prorated_guarantee(terms: Terms, year_start: date, year_end: date) -> Decimal:
    """The MAG for one contract year, by days when the term cuts the year short."""
    full = (add_years(year_start, 1) - year_start).days
    days = (year_end - year_start).days + 1
    return terms.minimum_annual_guarantee * days / full


# -- the parts -------------------------------------------------------------------------------


def royalty_between(before: Decimal, after: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """Royalty (unrounded) on the sales that take the year's cumulative total from
    ``before`` to ``after``: each tier's band charged at its own rate (marginal)."""
    result = ZERO
    for index, tier in enumerate(tiers):
        upper = tiers[index + 1].from_sales if index + 1 < len(tiers) else None
        low = max(before, tier.from_sales)
        high = after if upper is None else min(after, upper)
        if high > low:
            result += (high - low) * tier.rate_pct / HUNDRED
    return result


def fee_through(terms: Terms, day: date) -> Decimal:
    """Upfront fee recognised (unrounded) from the term start through ``day`` inclusive."""
    if terms.upfront_fee == 0 or day < terms.term_start:
        return ZERO
    if terms.upfront_recognition == "point_in_time":
        return terms.upfront_fee
    term_days = (terms.term_end - terms.term_start).days + 1
    elapsed = min((day - terms.term_start).days + 1, term_days)
    return terms.upfront_fee * elapsed / term_days


def _book(value: Decimal, currency: str) -> Decimal:
    return Money(value, currency).booked().amount


# -- the schedule ----------------------------------------------------------------------------


def schedule(terms: Terms, periods: Sequence[SalesPeriod]) -> Schedule:
    """Revenue recognised per reported period, in period order, with totals."""
    cur = terms.currency
    rows: list[Row] = []
    year_sales: dict[int, Decimal] = {}
    year_royalty: dict[int, Decimal] = {}
    nil = _book(ZERO, cur)
    for period in sorted(periods, key=lambda p: p.start):
        year, year_start, year_end = contract_year(terms, period.start)
        before = year_sales.get(year, ZERO)
        after = before + period.net_sales
        raw_before = year_royalty.get(year, ZERO)
        raw_after = raw_before + royalty_between(before, after, terms.tiers)
        year_sales[year], year_royalty[year] = after, raw_after
        royalty = _book(raw_after, cur) - _book(raw_before, cur)
        fee = _book(fee_through(terms, period.end), cur) - _book(
            fee_through(terms, period.start - timedelta(days=1)), cur
        )
        achieved = [
            m
            for m in terms.milestones
            if m.achieved_on is not None and period.start <= m.achieved_on <= period.end
        ]
        milestones = sum((_book(m.amount, cur) for m in achieved), nil)
        true_up = nil
        if period.end == year_end:
            guarantee = _book(prorated_guarantee(terms, year_start, year_end), cur)
            true_up = max(nil, guarantee - _book(raw_after, cur))
        rows.append(
            Row(
                start=period.start,
                end=period.end,
                contract_year=year,
                net_sales=_book(period.net_sales, cur),
                year_to_date_sales=_book(after, cur),
                royalty=royalty,
                upfront_fee=fee,
                milestones=milestones,
                mag_true_up=true_up,
                total=royalty + fee + milestones + true_up,
                milestone_names=tuple(m.name for m in achieved),
            )
        )
    keys = ("net_sales", "royalty", "upfront_fee", "milestones", "mag_true_up", "total")
    totals = {key: sum((getattr(row, key) for row in rows), _book(ZERO, cur)) for key in keys}
    return Schedule(currency=cur, rows=tuple(rows), totals=totals)
