"""Partner performance (pure): sourced and influenced pipeline and revenue, win rate and
average deal size, in total and per calendar quarter.

Pipeline is the value of *open* registrations (pending or approved) registered within
the period; revenue is the value of registrations *won* with a close date in the period.
Win rate is won / (won + lost) of the registrations closed in the period (None when
nothing closed). All amounts are in the partner's currency (registrations are refused
in any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from novacron.corporate.finance.money import Money

OPEN = frozenset({"pending", "approved"})


@dataclass(frozen=True, slots=True)
class Deal:
    motion: str
    """``sourced`` (the partner brought it) or ``influenced`` (the partner helped)."""
    status: str
    amount: Decimal
    registered_on: date
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class Figures:
    period: str
    start: date
    end: date
    sourced_pipeline: Decimal
    influenced_pipeline: Decimal
    sourced_revenue: Decimal
    influenced_revenue: Decimal
    won: int
    lost: int
    win_rate: float | None
    average_deal_size: Decimal | None


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarters(start: date, end: date) -> list[tuple[str, date, date]]:
    """The calendar quarters overlapping [start, end], clipped to it."""
    out: list[tuple[str, date, date]] = []
    year, q = start.year, (start.month - 1) // 3
    while True:
        q_start = date(year, q * 3 + 1, 1)
        if q_start > end:
            break
        nxt = date(year + (q == 3), ((q + 1) % 4) * 3 + 1, 1)
        q_end = date.fromordinal(nxt.toordinal() - 1)
        out.append((f"{year}-Q{q + 1}", max(q_start, start), min(q_end, end)))
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return out


def figures(deals: Iterable[Deal], start: date, end: date, label: str, currency: str) -> Figures:
    """Figures of ``deals`` for [start, end] (amounts booked to ``currency``'s cents)."""
    pipe = {"sourced": Decimal(0), "influenced": Decimal(0)}
    revenue = {"sourced": Decimal(0), "influenced": Decimal(0)}
    won = lost = 0
    for deal in deals:
        if deal.status in OPEN and start <= deal.registered_on <= end:
            pipe[deal.motion] += deal.amount
        if deal.closed_on is None or not start <= deal.closed_on <= end:
            continue
        if deal.status == "won":
            won += 1
            revenue[deal.motion] += deal.amount
        elif deal.status == "lost":
            lost += 1

    def book(x: Decimal) -> Decimal:
        return Money(x, currency).booked().amount

    total_won = revenue["sourced"] + revenue["influenced"]
    return Figures(
        period=label,
        start=start,
        end=end,
        sourced_pipeline=book(pipe["sourced"]),
        influenced_pipeline=book(pipe["influenced"]),
        sourced_revenue=book(revenue["sourced"]),
        influenced_revenue=book(revenue["influenced"]),
        won=won,
        lost=lost,
        win_rate=None if won + lost == 0 else round(won / (won + lost), 4),
        average_deal_size=book(total_won / won) if won else None,
    )


def report(
    deals: Iterable[Deal], start: date, end: date, currency: str
) -> tuple[Figures, list[Figures]]:
    """Totals for [start, end] and one ``Figures`` per calendar quarter in it."""
    items = list(deals)
    total = figures(items, start, end, f"{start.isoformat()}..{end.isoformat()}", currency)
    per = [figures(items, s, e, label, currency) for label, s, e in quarters(start, end)]
    return total, per
