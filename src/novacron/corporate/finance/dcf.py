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
from typing import Literal

import numpy as np

from novacron.core.errors import Invalid

from . import terminal as tv
from .dcf_inputs import DCFInputs, DilutedShares, Num, solve_price, validate
from .terminal import GordonGrowth

__all__ = [
    "METRICS",
    "DCFInputs",
    "DCFResult",
    "DCFRow",
    "DilutedShares",
    "Projection",
    "bridge",
    "dcf",
    "project",
    "shifted",
    "solve_price",
    "validate",
]

Metric = Literal["value_per_share", "enterprise_value", "equity_value"]
METRICS: tuple[str, ...] = ("value_per_share", "enterprise_value", "equity_value")


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


_CAUSE: tuple[tuple[str, str], ...] = (
    ("revenue", "revenue_growth"),
    ("ebitda", "ebitda_margin"),
    ("da", "da_pct_revenue"),
    ("capex", "capex_pct_revenue"),
    ("delta_nwc", "nwc_pct_revenue"),
    ("fcff", "base_revenue"),
    ("pv", "wacc"),
)
"""Row items in projection order, each with the driver that scales it: the first item
that overflows names the field to blame."""


def _check_finite(inputs: DCFInputs, p: Projection, equity: float, price: float) -> None:
    """``Invalid`` naming the driver when a figure overflows a float (a base revenue of
    1e300, a growth of 1e200 % …): an ``inf`` EV is no valuation, and JSON has no inf."""
    for row in p.rows:
        for item, field in _CAUSE:
            if not math.isfinite(row[item]):
                loc: list[str | int] = [field]
                if field == "revenue_growth":
                    loc = [field, int(row["year"]) - 1]
                raise Invalid(
                    f"{field}: year {row['year']} {item} overflows a float",
                    errors=[{"loc": loc, "msg": f"year {row['year']} {item} overflows a float"}],
                )
    method = "growth" if isinstance(inputs.terminal, GordonGrowth) else "ev_ebitda"
    checks = (
        (p.terminal_value, ["terminal", method], "the terminal value"),
        (p.enterprise_value, ["terminal", method], "the enterprise value"),
        (equity, ["net_debt"], "the equity value"),
        (price, ["shares", "basic"], "the value per share"),
    )
    for value, where, what in checks:
        if not math.isfinite(float(value)):
            msg = f"{what} overflows a float"
            raise Invalid(f"{'.'.join(where)}: {msg}", errors=[{"loc": where, "msg": msg}])


def dcf(inputs: DCFInputs) -> DCFResult:
    """Value a business from its drivers; ``Invalid`` when the model is inconsistent."""
    validate(inputs)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
        p = project(inputs)
        ev = float(p.enterprise_value)
        equity = float(bridge(inputs, ev))
        price, diluted = solve_price(inputs.shares, equity)
    _check_finite(inputs, p, equity, price)
    rows = tuple(_row(r) for r in p.rows)
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
