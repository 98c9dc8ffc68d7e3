"""Discounted cash flow: FCFF from drivers, a terminal value, the bridge to equity and the
value per diluted share.

    revenue_t = revenue_{t−1} × (1 + growth_t)          (revenue_0 = base_revenue, last actual)
    EBITDA_t  = revenue_t × margin_t;  D&A_t = revenue_t × da%;  EBIT_t = EBITDA_t − D&A_t
    NOPAT_t   = EBIT_t × (1 − tax)                       (a negative EBIT earns a tax credit)
    ΔNWC_t    = nwc% × (revenue_t − revenue_{t−1})       (NWC_0 = nwc% × base_revenue)
    FCFF_t    = NOPAT_t + D&A_t − capex% × revenue_t − ΔNWC_t
    PV_t      = FCFF_t / (1 + WACC)^(t, or t − 0.5 under the mid-year convention)
    EV        = Σ PV_t + PV(TV)                          (TV timing: see ``terminal``)
    equity    = EV − net debt − minority interest − preferred equity + non-operating assets

Valuation math is float (the model is an estimate; ledgers use ``money.Money``), every
figure is in ``DCFInputs.currency``. One projection function, :func:`project`, serves the
single DCF and the Monte Carlo: it accepts numpy arrays for the drivers, so the paths are
array math. Bad inputs raise ``Invalid`` with every offending field's path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from novacron.core.errors import Invalid

from . import terminal as tv
from .money import check_currency
from .terminal import ExitMultiple, GordonGrowth, Terminal

Num = Any  # float or NDArray[np.float64]: the projection runs on both
Metric = Literal["value_per_share", "enterprise_value", "equity_value"]
METRICS: tuple[str, ...] = ("value_per_share", "enterprise_value", "equity_value")


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


@dataclass(frozen=True, slots=True)
class DCFRow:
    """One explicit forecast year."""

    year: int
    revenue: float
    ebitda: float
    da: float
    ebit: float
    nopat: float
    capex: float
    delta_nwc: float
    fcff: float
    discount_period: float
    discount_factor: float
    pv: float


@dataclass(frozen=True, slots=True)
class DCFResult:
    currency: str
    mid_year: bool
    terminal_method: Literal["gordon", "exit_multiple"]
    rows: tuple[DCFRow, ...]
    sum_pv_fcff: float
    terminal_value: float
    """As the method computes it: Gordon ``FCFF_N(1+g)/(WACC−g)`` or ``EBITDA_N × multiple``."""
    tv_discount_period: float
    pv_terminal_value: float
    enterprise_value: float
    equity_value: float
    diluted_shares: float
    value_per_share: float
    tv_share_of_ev: float | None
    """PV(TV) / EV; None when EV is not positive."""
    implied_exit_multiple: float | None
    implied_terminal_growth: float | None
    warnings: tuple[str, ...]

    def metric(self, name: str) -> float:
        """``value_per_share``, ``enterprise_value`` or ``equity_value``."""
        if name not in METRICS:
            raise Invalid(
                f"metric: unknown metric {name!r} (one of {', '.join(METRICS)})",
                errors=[{"loc": ["metric"], "msg": f"one of {', '.join(METRICS)}"}],
            )
        return float(getattr(self, name))


# ------------------------------------------------------------------ validation


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


# ------------------------------------------------------------------ projection


def shifted(values: tuple[float, ...], first: Num) -> list[Num]:
    """``values`` moved in parallel so that the first year equals ``first``.

    The driver "ebitda_margin" (or "revenue_growth") is the first year's figure; setting it
    shifts every year by the same amount and keeps the profile (a flat path stays flat).
    """
    return [first, *(v + (first - values[0]) for v in values[1:])]


@dataclass(frozen=True, slots=True)
class Projection:
    """The explicit years and the terminal value, as floats or arrays (one per path)."""

    rows: tuple[dict[str, Num], ...]
    sum_pv: Num
    terminal_value: Num
    tv_at_horizon: Num
    pv_terminal_value: Num
    enterprise_value: Num


def project(inputs: DCFInputs, drivers: Mapping[str, Num] | None = None) -> Projection:
    """FCFF, discounting and terminal value; ``drivers`` override inputs with arrays.

    Driver names as in :data:`novacron.corporate.finance.sensitivity.DRIVERS` (``net_debt`` is a
    bridge item and ignored here). Runs one year at a time so no (paths × years) array is
    built; the caller validates (scalars) or masks invalid paths (arrays).
    """
    d = dict(drivers or {})
    wacc = d.get("wacc", inputs.wacc)
    tax = d.get("tax_rate", inputs.tax_rate)
    da_pct = d.get("da_pct_revenue", inputs.da_pct_revenue)
    capex_pct = d.get("capex_pct_revenue", inputs.capex_pct_revenue)
    nwc_pct = d.get("nwc_pct_revenue", inputs.nwc_pct_revenue)
    growths: list[Num] = list(inputs.revenue_growth)
    if "revenue_growth" in d:
        growths = shifted(inputs.revenue_growth, d["revenue_growth"])
    margins: list[Num] = list(inputs.margins())
    if "ebitda_margin" in d:
        m = d["ebitda_margin"]
        flat = not isinstance(inputs.ebitda_margin, tuple)
        margins = [m] * inputs.horizon if flat else shifted(inputs.margins(), m)
    one_plus = 1.0 + wacc
    half_step = one_plus**0.5 if inputs.mid_year else 1.0
    rows: list[dict[str, Num]] = []
    prev_revenue: Num = inputs.base_revenue
    df_end: Num = 1.0
    sum_pv: Num = 0.0
    for year, (growth, margin) in enumerate(zip(growths, margins, strict=True), start=1):
        revenue = prev_revenue * (1.0 + growth)
        ebitda = revenue * margin
        da = revenue * da_pct
        ebit = ebitda - da
        nopat = ebit * (1.0 - tax)
        capex = revenue * capex_pct
        delta_nwc = nwc_pct * (revenue - prev_revenue)
        fcff = nopat + da - capex - delta_nwc
        df_end = df_end / one_plus
        factor = df_end * half_step
        pv = fcff * factor
        sum_pv = sum_pv + pv
        period = year - 0.5 if inputs.mid_year else float(year)
        rows.append(
            dict(year=year, revenue=revenue, ebitda=ebitda, da=da, ebit=ebit, nopat=nopat,
                 capex=capex, delta_nwc=delta_nwc, fcff=fcff, discount_period=period,
                 discount_factor=factor, pv=pv)
        )  # fmt: skip
        prev_revenue = revenue
    last = rows[-1]
    term = inputs.terminal
    if isinstance(term, GordonGrowth):
        growth = d.get("terminal_growth", term.growth)
        value = tv.gordon_value(last["fcff"] * (1.0 + growth), wacc, growth)
        pv_tv = value * df_end * half_step  # discounted at N − 0.5 under mid-year
    else:
        value = last["ebitda"] * d.get("exit_multiple", term.ev_ebitda)
        pv_tv = value * df_end  # a sale price at the end of year N
    at_horizon = tv.value_at_horizon(value, wacc, term, inputs.mid_year)
    return Projection(tuple(rows), sum_pv, value, at_horizon, pv_tv, sum_pv + pv_tv)


def bridge(inputs: DCFInputs, enterprise_value: Num, net_debt: Num | None = None) -> Num:
    """Equity value from enterprise value."""
    debt = inputs.net_debt if net_debt is None else net_debt
    return (
        enterprise_value
        - debt
        - inputs.minority_interest
        - inputs.preferred_equity
        + inputs.non_operating_assets
    )


# ------------------------------------------------------------------ the DCF


def _row(values: dict[str, Num]) -> DCFRow:
    fields = {k: float(v) for k, v in values.items() if k != "year"}
    return DCFRow(year=int(values["year"]), **fields)


def dcf(inputs: DCFInputs) -> DCFResult:
    """Value a business from its drivers; ``Invalid`` when the model is inconsistent."""
    validate(inputs)
    p = project(inputs)
    rows = tuple(_row(r) for r in p.rows)
    ev = float(p.enterprise_value)
    equity = float(bridge(inputs, ev))
    price, diluted = solve_price(inputs.shares, equity)
    share = float(p.pv_terminal_value) / ev if ev > 0 else None
    last = rows[-1]
    at_horizon = float(p.tv_at_horizon)
    gordon = isinstance(inputs.terminal, GordonGrowth)
    multiple = tv.implied_multiple(at_horizon, last.ebitda) if gordon else None
    growth = None
    if not gordon and at_horizon + last.fcff != 0:
        growth = tv.implied_growth(at_horizon, last.fcff, inputs.wacc, inputs.mid_year)
    return DCFResult(
        currency=inputs.currency,
        mid_year=inputs.mid_year,
        terminal_method="gordon" if gordon else "exit_multiple",
        rows=rows,
        sum_pv_fcff=float(p.sum_pv),
        terminal_value=float(p.terminal_value),
        tv_discount_period=tv.tv_discount_period(inputs.terminal, inputs.horizon, inputs.mid_year),
        pv_terminal_value=float(p.pv_terminal_value),
        enterprise_value=ev,
        equity_value=equity,
        diluted_shares=float(diluted),
        value_per_share=float(price),
        tv_share_of_ev=share,
        implied_exit_multiple=multiple,
        implied_terminal_growth=growth,
        warnings=tv.plausibility_warnings(
            inputs.terminal, inputs.wacc, last.fcff, last.ebitda, share, multiple, growth, equity
        ),
    )
