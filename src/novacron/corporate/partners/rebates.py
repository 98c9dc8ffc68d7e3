"""Volume rebates by tier (pure).

A schedule is a list of volume bands, each with a rate: ``0-1,000,000 at 2%, above at
3%``. Two named methods:

* ``marginal``: each band's rate applies only to the part of the volume inside it
  (like income-tax brackets): 1.5M → 1M × 2% + 0.5M × 3% = 35,000.
* ``whole_volume``: the rate of the band the total volume reaches applies to all of
  it (a "retroactive" rebate): 1.5M → 1.5M × 3% = 45,000.

Band limits are nominal amounts in the volume's currency. Results are ``Money`` booked
half-even to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import Money

METHODS: tuple[str, ...] = ("marginal", "whole_volume")


@dataclass(frozen=True, slots=True)
class Band:
    up_to: Decimal | None
    """Upper limit of the band (inclusive); None for the last, open-ended band."""
    rate: Decimal
    """A fraction: 0.02 is 2%."""


@dataclass(frozen=True, slots=True)
class Schedule:
    tier: str
    method: str
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class RebateLine:
    band_from: Decimal
    band_to: Decimal | None
    base: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Rebate:
    volume: Money
    method: str
    lines: list[RebateLine]
    amount: Money
    """Booked (rounded half-even to the currency's minor unit)."""

    @property
    def effective_rate(self) -> Decimal:
        return Decimal(0) if not self.volume.amount else self.amount.amount / self.volume.amount


def _pct(rate: str) -> Decimal:
    return Decimal(rate) / 100


def _default(tier: str, low: str, high: str) -> Schedule:
    return Schedule(tier, "marginal", (Band(Decimal(1_000_000), _pct(low)), Band(None, _pct(high))))


DEFAULT_SCHEDULES: dict[str, Schedule] = {
    s.tier: s
    for s in (
        _default("bronze", "2", "2.5"),
        _default("silver", "3", "3.5"),
        _default("gold", "4", "4.5"),
        _default("platinum", "5", "6"),
    )
}


def validate(method: str, bands: Sequence[Band]) -> None:
    """``Invalid`` naming the field when the schedule cannot be applied."""
    if method not in METHODS:
        raise Invalid(
            f"method: {method!r} is not one of {', '.join(METHODS)}",
            errors=[{"loc": ["method"], "msg": f"one of {', '.join(METHODS)}"}],
        )
    if not bands:
        raise Invalid("bands: at least one band", errors=[{"loc": ["bands"], "msg": "empty"}])
    previous = Decimal(0)
    for i, band in enumerate(bands):
        if band.rate < 0 or band.rate > 1:
            raise Invalid(
                f"bands[{i}].rate must be a fraction between 0 and 1",
                errors=[{"loc": ["bands", i, "rate"], "msg": "between 0 and 1"}],
            )
        last = i == len(bands) - 1
        if band.up_to is None and not last:
            raise Invalid(
                f"bands[{i}].up_to: only the last band may be open-ended",
                errors=[{"loc": ["bands", i, "up_to"], "msg": "required (not the last band)"}],
            )
        if last and band.up_to is not None:
            raise Invalid(
                f"bands[{i}].up_to: the last band must be open-ended (null)",
                errors=[{"loc": ["bands", i, "up_to"], "msg": "must be null on the last band"}],
            )
        if band.up_to is not None:
            if band.up_to <= previous:
                raise Invalid(
                    f"bands[{i}].up_to must be above the previous band's limit {previous}",
                    errors=[{"loc": ["bands", i, "up_to"], "msg": "bands must ascend"}],
                )
            previous = band.up_to


def compute(volume: Money, schedule: Schedule) -> Rebate:
    """The rebate on ``volume`` (won revenue of a period) under ``schedule``."""
    validate(schedule.method, schedule.bands)
    if volume.amount <= 0:
        return Rebate(volume, schedule.method, [], Money.zero(volume.currency))
    lines = (
        _marginal(volume.amount, schedule.bands)
        if schedule.method == "marginal"
        else _whole(volume.amount, schedule.bands)
    )
    amount = Money(sum((line.amount for line in lines), Decimal(0)), volume.currency).booked()
    return Rebate(volume, schedule.method, lines, amount)


def _marginal(volume: Decimal, bands: Sequence[Band]) -> list[RebateLine]:
    lines: list[RebateLine] = []
    lower = Decimal(0)
    for band in bands:
        upper = band.up_to
        top = volume if upper is None else min(volume, upper)
        base = top - lower
        if base <= 0:
            break
        lines.append(RebateLine(lower, upper, base, band.rate, base * band.rate))
        if upper is None or volume <= upper:
            break
        lower = upper
    return lines


def _whole(volume: Decimal, bands: Sequence[Band]) -> list[RebateLine]:
    lower = Decimal(0)
    for band in bands:
        if band.up_to is None or volume <= band.up_to:
            return [RebateLine(lower, band.up_to, volume, band.rate, volume * band.rate)]
        lower = band.up_to
    raise AssertionError("validated schedules end with an open band")  # pragma: no cover
