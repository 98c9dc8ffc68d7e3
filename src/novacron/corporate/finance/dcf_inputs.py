"""The inputs of a DCF and their checks: the drivers (``DCFInputs``), the diluted share
count (``DilutedShares``, treasury stock method, solved exactly by ``solve_price``) and
``validate``, which names every inconsistent field at once.

Kept apart from ``dcf.py`` (the projection and the valuation) so each stays readable; the
Monte Carlo validates the unmoved inputs here and masks sampled paths against the same
rules. ``dcf`` re-exports every public name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from novacron.core.errors import Invalid

from .money import check_currency
from .terminal import ExitMultiple, GordonGrowth, Terminal

Num = Any  # float or NDArray[np.float64]: the projection runs on both


@dataclass(frozen=True, slots=True)
class DilutedShares:
    """Basic shares, option tranches ``((count, strike), ...)`` and RSUs (counted in full)."""

    basic: float
    options: tuple[tuple[float, float], ...] = ()
    rsus: float = 0.0

    def at_price(self, price: float) -> float:
        """Diluted count at ``price`` by the treasury stock method: an in-the-money option
        (strike < price) adds ``count × (1 − strike / price)`` shares, since the exercise
        cash buys back ``count × strike / price`` shares."""
        itm = sum(n * (1.0 - k / price) for n, k in self.options if price > 0 and k < price)
        return self.basic + self.rsus + itm


def solve_price(shares: DilutedShares, equity: Num) -> tuple[Num, Num]:
    """``(price, diluted shares)`` with ``price × diluted(price) = equity``, solved exactly.

    The dilution depends on the price it determines. Rather than iterate to a fixed point,
    note that ``f(P) = P × diluted(P) = (basic + rsus) P + Σ count × max(0, P − strike)``
    is continuous, piecewise linear and strictly increasing, so it has one solution: find
    the segment (how many tranches, by ascending strike, are in the money) where
    ``f(strike_k) < equity <= f(strike_{k+1})`` and solve the linear piece,
    ``P = (equity + Σ_{i<k} count_i strike_i) / (basic + rsus + Σ_{i<k} count_i)``.
    A non-positive equity leaves every option out of the money. Works on arrays.
    """
    tranches = sorted((k, n) for n, k in shares.options if n > 0)
    base = shares.basic + shares.rsus
    strikes = np.array([k for k, _ in tranches], dtype=np.float64)
    counts = np.array([n for _, n in tranches], dtype=np.float64)
    cum_n = np.concatenate(([0.0], np.cumsum(counts)))
    cum_nk = np.concatenate(([0.0], np.cumsum(counts * strikes)))
    thresholds = base * strikes + (cum_n[:-1] * strikes - cum_nk[:-1])  # f(strike_j)
    segment = np.searchsorted(thresholds, equity, side="left")
    price = (equity + cum_nk[segment]) / (base + cum_n[segment])
    safe = np.where(price == 0, 1.0, price)
    diluted = base + cum_n[segment] - cum_nk[segment] / safe
    if np.ndim(equity) == 0:
        return float(price), float(diluted)
    return price, diluted


@dataclass(frozen=True, slots=True, kw_only=True)
class DCFInputs:
    """Drivers of a DCF. Rates are fractions (0.25 = 25 %); money figures in ``currency``.

    ``revenue_growth`` has one rate per explicit year: its length is the horizon.
    ``ebitda_margin`` is one margin for every year or one per year. ``mid_year`` has no
    default on purpose: the convention moves the value by ``(1 + WACC)^0.5``.
    """

    currency: str
    base_revenue: float
    revenue_growth: tuple[float, ...]
    ebitda_margin: float | tuple[float, ...]
    da_pct_revenue: float
    capex_pct_revenue: float
    nwc_pct_revenue: float
    tax_rate: float
    wacc: float
    terminal: Terminal
    mid_year: bool
    net_debt: float
    shares: DilutedShares
    minority_interest: float = 0.0
    preferred_equity: float = 0.0
    non_operating_assets: float = 0.0

    @property
    def horizon(self) -> int:
        return len(self.revenue_growth)

    def margins(self) -> tuple[float, ...]:
        """The EBITDA margin of each explicit year."""
        if isinstance(self.ebitda_margin, tuple):
            return self.ebitda_margin
        return (self.ebitda_margin,) * self.horizon


class _Errors:
    """Collects field errors so one ``Invalid`` names every bad field."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: list[str | int], msg: str) -> None:
        self.items.append({"loc": loc, "msg": msg})

    def number(self, value: object, loc: list[str | int]) -> bool:
        """True when ``value`` is a finite real number; records an error otherwise."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(loc, "not a number")
            return False
        if not math.isfinite(value):
            self.add(loc, "must be finite")
            return False
        return True

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            path = ".".join(str(p) for p in first["loc"])
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise Invalid(f"{path}: {first['msg']}{more}", errors=self.items)


def _check_rates(inputs: DCFInputs, e: _Errors) -> None:
    if e.number(inputs.base_revenue, ["base_revenue"]) and inputs.base_revenue <= 0:
        e.add(["base_revenue"], "base revenue must be positive")
    if not isinstance(inputs.revenue_growth, tuple):
        e.add(["revenue_growth"], "a tuple of yearly growth rates")
    elif not inputs.revenue_growth:
        e.add(["revenue_growth"], "the forecast horizon is empty: give one growth rate a year")
    else:
        for i, g in enumerate(inputs.revenue_growth):
            if e.number(g, ["revenue_growth", i]) and g <= -1:
                e.add(["revenue_growth", i], "growth must be above -100%")
    margins = inputs.ebitda_margin
    if isinstance(margins, tuple):
        if isinstance(inputs.revenue_growth, tuple) and len(margins) != inputs.horizon:
            e.add(["ebitda_margin"], f"{len(margins)} margins for a {inputs.horizon}-year horizon")
        for i, m in enumerate(margins):
            if e.number(m, ["ebitda_margin", i]) and m > 1:
                e.add(["ebitda_margin", i], "EBITDA margin cannot exceed 100%")
    elif e.number(margins, ["ebitda_margin"]) and margins > 1:
        e.add(["ebitda_margin"], "EBITDA margin cannot exceed 100%")
    for name in ("da_pct_revenue", "capex_pct_revenue"):
        value = getattr(inputs, name)
        if e.number(value, [name]) and value < 0:
            e.add([name], "cannot be negative")
    e.number(inputs.nwc_pct_revenue, ["nwc_pct_revenue"])
    if e.number(inputs.tax_rate, ["tax_rate"]) and not 0 <= inputs.tax_rate < 1:
        e.add(["tax_rate"], "tax rate must be in [0, 1)")
    if e.number(inputs.wacc, ["wacc"]) and inputs.wacc <= 0:
        e.add(["wacc"], "WACC must be positive")


def _check_terminal(inputs: DCFInputs, e: _Errors) -> None:
    term = inputs.terminal
    if isinstance(term, GordonGrowth):
        if not e.number(term.growth, ["terminal", "growth"]):
            return
        if term.growth <= -1:
            e.add(["terminal", "growth"], "terminal growth must be above -100%")
        elif isinstance(inputs.wacc, int | float) and inputs.wacc <= term.growth:
            e.add(
                ["terminal", "growth"],
                f"WACC must exceed the terminal growth rate "
                f"(WACC {inputs.wacc:.2%} <= growth {term.growth:.2%})",
            )
    elif isinstance(term, ExitMultiple):
        if e.number(term.ev_ebitda, ["terminal", "ev_ebitda"]) and term.ev_ebitda <= 0:
            e.add(["terminal", "ev_ebitda"], "exit multiple must be positive")
    else:
        e.add(["terminal"], "GordonGrowth(growth) or ExitMultiple(ev_ebitda)")
    if not isinstance(inputs.mid_year, bool):
        e.add(["mid_year"], "true or false")


def _check_bridge(inputs: DCFInputs, e: _Errors) -> None:
    for name in ("net_debt", "minority_interest", "preferred_equity", "non_operating_assets"):
        e.number(getattr(inputs, name), [name])
    shares = inputs.shares
    if not isinstance(shares, DilutedShares):
        e.add(["shares"], "DilutedShares(basic, options, rsus)")
        return
    if e.number(shares.basic, ["shares", "basic"]):
        if shares.basic < 0:
            e.add(["shares", "basic"], "share count cannot be negative")
        elif shares.basic == 0:
            e.add(["shares", "basic"], "basic shares must be positive")
    if e.number(shares.rsus, ["shares", "rsus"]) and shares.rsus < 0:
        e.add(["shares", "rsus"], "share count cannot be negative")
    for i, option in enumerate(shares.options):
        if not (isinstance(option, tuple) and len(option) == 2):
            e.add(["shares", "options", i], "(count, strike)")
            continue
        for j, field in enumerate(("count", "strike")):
            loc: list[str | int] = ["shares", "options", i, field]
            if e.number(option[j], loc) and option[j] < 0:
                e.add(loc, f"{field} cannot be negative")


def validate(inputs: DCFInputs) -> None:
    """``Invalid`` naming every inconsistent field (WACC <= g, negative shares, ...)."""
    if not isinstance(inputs, DCFInputs):
        raise Invalid("a DCFInputs is required", errors=[{"loc": [], "msg": "not DCFInputs"}])
    check_currency(inputs.currency)
    e = _Errors()
    _check_rates(inputs, e)
    _check_terminal(inputs, e)
    _check_bridge(inputs, e)
    e.raise_if_any()
