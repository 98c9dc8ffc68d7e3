"""Pipeline and conversion maths of the executive dashboard (pure: no database, no HTTP).

M&A pipeline
    Targets grouped by stage with their count, total value and weighted value
    (value × probability of closing). Values are kept **per currency**: a EUR target and
    a USD target never add up to one figure, so every money figure is a
    ``{currency: Decimal}`` mapping.

Conversion
    From each target's stage history (every stage it entered, in order, including
    re-entries after a reopen): of the targets that *reached* stage X, the share that
    reached the next stage. "Reached" counts a target once however often it entered.

Days in stage
    Every visit of a stage lasts from entering it to entering the next one; a visit still
    open counts up to ``today`` (so a deal stuck in diligence shows as stuck). The average
    is over all visits, and ``open`` says how many are still running.

Partnership pipeline
    Deal registrations by status, and sourced versus influenced: the open pipeline
    (pending or approved) and the revenue won, per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from novacron.corporate.ma.stages import OPEN_STAGES, PIPELINE, Stage

STAGES: tuple[str, ...] = (*(s.value for s in PIPELINE), Stage.dropped.value)
"""Every stage the dashboard lists, pipeline order first, ``dropped`` last."""
OPEN: tuple[str, ...] = tuple(s.value for s in PIPELINE if s in OPEN_STAGES)
"""Stages of deals still being worked (what the weighted pipeline covers)."""
HUNDRED = Decimal(100)

REGISTRATION_STATUSES: tuple[str, ...] = (
    "pending",
    "approved",
    "rejected",
    "won",
    "lost",
    "expired",
)
OPEN_REGISTRATIONS = frozenset({"pending", "approved"})
MOTIONS: tuple[str, ...] = ("sourced", "influenced")

Amounts = dict[str, Decimal]
"""Money by currency code: ``{"USD": Decimal("1250000"), "EUR": Decimal("90000")}``."""


def add_to(amounts: Amounts, currency: str, amount: Decimal) -> None:
    amounts[currency] = amounts.get(currency, Decimal(0)) + amount


def sorted_amounts(amounts: Amounts) -> Amounts:
    return {cur: amounts[cur] for cur in sorted(amounts)}


# -- M&A pipeline -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageEvent:
    """The target entered ``stage`` at ``at``."""

    stage: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TargetFacts:
    id: str
    name: str
    stage: str
    category: str
    currency: str
    value: Decimal | None
    """Asking or indicative enterprise value; None when not known yet."""
    probability: int
    """Percent chance of closing (the target's own, or its stage default)."""
    history: tuple[StageEvent, ...] = ()
    """Every stage entered, oldest first (the creation row included)."""

    @property
    def weighted(self) -> Decimal | None:
        return None if self.value is None else self.value * self.probability / HUNDRED


@dataclass
class StageRow:
    stage: str
    count: int = 0
    unvalued: int = 0
    """Targets in the stage with no value yet (counted, not summed)."""
    value: Amounts = field(default_factory=dict)
    weighted: Amounts = field(default_factory=dict)


def pipeline_by_stage(targets: Iterable[TargetFacts]) -> list[StageRow]:
    """One row per stage (every stage, even empty ones, in pipeline order)."""
    rows = {stage: StageRow(stage) for stage in STAGES}
    for t in targets:
        row = rows.setdefault(t.stage, StageRow(t.stage))
        row.count += 1
        weighted = t.weighted
        if t.value is None or weighted is None:
            row.unvalued += 1
            continue
        add_to(row.value, t.currency, t.value)
        add_to(row.weighted, t.currency, weighted)
    for row in rows.values():
        row.value, row.weighted = sorted_amounts(row.value), sorted_amounts(row.weighted)
    return list(rows.values())


def weighted_pipeline(rows: Sequence[StageRow]) -> dict[str, Any]:
    """Open deals only (screening to negotiation): count, value and weighted value per
    currency."""
    value: Amounts = {}
    weighted: Amounts = {}
    count = 0
    for row in rows:
        if row.stage not in OPEN:
            continue
        count += row.count
        for cur, amount in row.value.items():
            add_to(value, cur, amount)
        for cur, amount in row.weighted.items():
            add_to(weighted, cur, amount)
    return {
        "deals": count,
        "value": sorted_amounts(value),
        "weighted": sorted_amounts(weighted),
    }


@dataclass(frozen=True, slots=True)
class Conversion:
    from_stage: str
    to_stage: str
    reached: int
    converted: int

    @property
    def rate_pct(self) -> float | None:
        return None if not self.reached else round(100 * self.converted / self.reached, 1)


def reached_stages(history: Iterable[StageEvent]) -> set[str]:
    return {e.stage for e in history}


def conversion(targets: Iterable[TargetFacts]) -> list[Conversion]:
    """Of the targets that reached each pipeline stage, how many reached the next one."""
    reached = [reached_stages(t.history) for t in targets]
    out: list[Conversion] = []
    for here, there in pairwise(PIPELINE):
        got_here = [r for r in reached if here.value in r]
        out.append(
            Conversion(
                here.value,
                there.value,
                len(got_here),
                sum(1 for r in got_here if there.value in r),
            )
        )
    return out


def _days(start: datetime, end: datetime) -> float:
    return max((end - start) / timedelta(days=1), 0.0)


@dataclass(frozen=True, slots=True)
class StageDuration:
    stage: str
    visits: int
    open: int
    """Visits still running on ``today``."""
    avg_days: float | None
    max_days: float | None


def stage_durations(targets: Iterable[TargetFacts], today: date) -> list[StageDuration]:
    """Average and longest days per stage visit; open visits run until the end of
    ``today``. ``closed``, ``integration`` and ``dropped`` are end states and have no
    meaningful duration, so only the open stages are listed."""
    now = datetime.combine(today, datetime.max.time())
    spans: dict[str, list[float]] = defaultdict(list)
    running: dict[str, int] = defaultdict(int)
    for t in targets:
        events = sorted(t.history, key=lambda e: e.at)
        for i, event in enumerate(events):
            if i + 1 < len(events):
                spans[event.stage].append(_days(event.at, events[i + 1].at))
            else:
                spans[event.stage].append(_days(event.at, now))
                running[event.stage] += 1
    out = []
    for stage in OPEN:
        days = spans.get(stage, [])
        out.append(
            StageDuration(
                stage,
                len(days),
                running.get(stage, 0),
                round(sum(days) / len(days), 1) if days else None,
                round(max(days), 1) if days else None,
            )
        )
    return out


def days_in_current_stage(target: TargetFacts, today: date) -> int | None:
    """Whole days since the target entered the stage it is in (None without history)."""
    entered = [e.at for e in target.history if e.stage == target.stage]
    if not entered:
        return None
    return max((today - max(entered).date()).days, 0)


def days_to_close(targets: Iterable[TargetFacts]) -> list[float]:
    """For each target that reached ``closed``: days from its first stage event (its
    creation) to the first time it closed."""
    out: list[float] = []
    for t in targets:
        events = sorted(t.history, key=lambda e: e.at)
        closed = next((e.at for e in events if e.stage == Stage.closed.value), None)
        if events and closed is not None:
            out.append(round(_days(events[0].at, closed), 1))
    return out


def average(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


# -- partnership pipeline ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistrationFacts:
    id: str
    partner: str
    customer: str
    product: str
    motion: str
    status: str
    """Effective status: an open registration past its expiry reads ``expired``."""
    amount: Decimal
    currency: str
    expires_at: datetime
    conflict: bool = False
    conflict_with: tuple[str, ...] = ()
    closed_on: date | None = None
    match_key: str = ""
    """What duplicates and conflicts are matched on (normalised customer and product);
    default: the customer and product in lower case."""

    @property
    def key(self) -> str:
        return self.match_key or f"{self.customer.lower()}|{self.product.lower()}"


@dataclass
class StatusRow:
    status: str
    count: int = 0
    amount: Amounts = field(default_factory=dict)


def registrations_by_status(regs: Iterable[RegistrationFacts]) -> list[StatusRow]:
    rows = {status: StatusRow(status) for status in REGISTRATION_STATUSES}
    for reg in regs:
        row = rows.setdefault(reg.status, StatusRow(reg.status))
        row.count += 1
        add_to(row.amount, reg.currency, reg.amount)
    for row in rows.values():
        row.amount = sorted_amounts(row.amount)
    return list(rows.values())


def by_motion(
    regs: Iterable[RegistrationFacts], won_since: date, today: date
) -> dict[str, dict[str, Any]]:
    """Sourced and influenced: open pipeline (count and amount) and revenue won in
    [``won_since``, ``today``], per currency."""
    out: dict[str, dict[str, Any]] = {
        m: {"open_count": 0, "open_pipeline": {}, "won_count": 0, "won_revenue": {}}
        for m in MOTIONS
    }
    for reg in regs:
        row = out.setdefault(
            reg.motion, {"open_count": 0, "open_pipeline": {}, "won_count": 0, "won_revenue": {}}
        )
        if reg.status in OPEN_REGISTRATIONS:
            row["open_count"] += 1
            add_to(row["open_pipeline"], reg.currency, reg.amount)
        elif reg.status == "won" and reg.closed_on and won_since <= reg.closed_on <= today:
            row["won_count"] += 1
            add_to(row["won_revenue"], reg.currency, reg.amount)
    for row in out.values():
        row["open_pipeline"] = sorted_amounts(row["open_pipeline"])
        row["won_revenue"] = sorted_amounts(row["won_revenue"])
    return out


def win_rate(regs: Iterable[RegistrationFacts], since: date, today: date) -> dict[str, Any]:
    """Won / (won + lost) of registrations closed in [``since``, ``today``] (a count
    ratio, so currencies don't matter)."""
    won = lost = 0
    for reg in regs:
        if reg.closed_on is None or not since <= reg.closed_on <= today:
            continue
        won += reg.status == "won"
        lost += reg.status == "lost"
    pct = None if won + lost == 0 else round(100 * won / (won + lost), 1)
    return {"won": won, "lost": lost, "pct": pct}


def expiring(
    regs: Iterable[RegistrationFacts], now: datetime, within_days: int
) -> list[RegistrationFacts]:
    """Open registrations expiring in the next ``within_days`` days, soonest first."""
    horizon = now + timedelta(days=within_days)
    found = [r for r in regs if r.status in OPEN_REGISTRATIONS and now < r.expires_at <= horizon]
    return sorted(found, key=lambda r: (r.expires_at, r.id))


def conflicts(regs: Iterable[RegistrationFacts]) -> list[list[RegistrationFacts]]:
    """Groups of open registrations flagged as conflicting for one customer and product
    (two partners claiming the same deal), largest first."""
    groups: dict[str, list[RegistrationFacts]] = defaultdict(list)
    for reg in regs:
        if reg.conflict and reg.status in OPEN_REGISTRATIONS:
            groups[reg.key].append(reg)
    found = [sorted(g, key=lambda r: r.id) for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: (-len(g), g[0].customer))
