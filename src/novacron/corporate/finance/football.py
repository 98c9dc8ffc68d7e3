"""The football field: each valuation method's range side by side, in one currency and
unit, with the current share price and the offer as lines (the chart bankers open with)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from novacron.corporate.finance.money import same_currency
from novacron.corporate.finance.tvm import as_number, invalid


@dataclass(frozen=True, slots=True)
class Bar:
    """One method's value range; ``currency`` (optional) must match the field's."""

    label: str
    low: float
    high: float
    midpoint: float | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class FootballField:
    currency: str
    unit: str
    bars: tuple[Bar, ...]
    min: float
    max: float
    current_price: float | None
    offer_price: float | None


def football_field(
    bars: Sequence[Bar],
    *,
    currency: str,
    unit: str = "per share",
    current_price: float | None = None,
    offer_price: float | None = None,
) -> FootballField:
    """Bars sorted by low then high, each with a midpoint (given, or halfway), the overall
    min/max of the bars and the optional current-price and offer lines, all in one
    currency and unit."""
    if not bars:
        raise invalid(["bars"], "at least one range is needed")
    tagged = [("currency", currency)]
    tagged += [(f"bars.{i}.currency", b.currency) for i, b in enumerate(bars) if b.currency]
    same_currency(tagged)
    out: list[Bar] = []
    for i, bar in enumerate(bars):
        low, high = as_number(bar.low, ["bars", i, "low"]), as_number(bar.high, ["bars", i, "high"])
        if low > high:
            raise invalid(["bars", i, "low"], f"low {low:g} is above high {high:g}")
        mid = (low + high) / 2 if bar.midpoint is None else bar.midpoint
        if not low <= as_number(mid, ["bars", i, "midpoint"]) <= high:
            raise invalid(["bars", i, "midpoint"], "must lie between low and high")
        out.append(Bar(bar.label, low, high, mid, currency))
    lines = {"current_price": current_price, "offer_price": offer_price}
    for name, value in lines.items():
        if value is not None:
            as_number(value, [name])
    out.sort(key=lambda b: (b.low, b.high))
    low = min(b.low for b in out)
    high = max(b.high for b in out)
    return FootballField(currency, unit, tuple(out), low, high, current_price, offer_price)
