"""Terminal value of a DCF: Gordon growth or exit multiple, and where each is discounted.

Conventions (tested in ``tests/corporate/finance/test_finance_dcf.py``):

- **Gordon growth**: ``TV_N = FCFF_N × (1 + g) / (WACC − g)``, the value at the end of the
  last explicit year N of a perpetuity growing at ``g`` whose first flow is one year later.
  WACC must exceed ``g``.
- **Exit multiple**: ``TV_N = EBITDA_N × multiple``, a sale price at the end of year N.
- **Mid-year convention** (the banker's convention, e.g. Rosenbaum & Pearl, *Investment
  Banking*, DCF chapter): explicit-year flows are discounted at ``t − 0.5``. The Gordon TV
  is discounted at ``N − 0.5`` too, because the perpetuity's flows also arrive mid-year
  (equivalently: its value at N is ``TV_N × (1 + WACC)^0.5``, discounted at N). The exit
  multiple TV is a price at a date, so it is discounted at ``N`` in both conventions.
  Consequence (a property test): with Gordon growth the whole mid-year EV is exactly the
  end-year EV × ``(1 + WACC)^0.5``.

The implied figures cross-check one method against the other *at the same present value*:
the implied multiple of a Gordon TV is its value at N over ``EBITDA_N``, and the implied
growth of an exit-multiple TV is the ``g`` whose Gordon TV (same timing convention) has the
same present value. So an exit-multiple model and a Gordon model at its implied growth give
the same EV.

Every function accepts floats or numpy arrays (the Monte Carlo runs them on paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .rates import gordon_terminal_value

Num = TypeVar("Num", float, NDArray[np.float64])

TV_SHARE_WARNING = 0.75
"""Warn when the terminal value is more than this share of enterprise value."""


@dataclass(frozen=True, slots=True)
class GordonGrowth:
    """Perpetual growth of FCFF after the explicit horizon (e.g. 0.025 for 2.5 %)."""

    growth: float


@dataclass(frozen=True, slots=True)
class ExitMultiple:
    """Terminal value as a multiple of the last explicit year's EBITDA (e.g. 9.5)."""

    ev_ebitda: float


Terminal = GordonGrowth | ExitMultiple


def gordon_value(cash_flow_next: Any, discount_rate: Any, growth: Any) -> Any:
    """``CF_{N+1} / (r − g)``: the perpetuity value one period before its first flow.

    Scalars go through :func:`rates.gordon_terminal_value` (the one Gordon formula of the
    engine, which refuses r <= g); arrays (Monte Carlo paths) use the same expression
    element-wise, the caller masking the paths where r <= g.
    """
    if all(np.ndim(x) == 0 for x in (cash_flow_next, discount_rate, growth)):
        return gordon_terminal_value(float(cash_flow_next), float(discount_rate), float(growth))
    return cash_flow_next / (discount_rate - growth)


def tv_discount_period(terminal: Terminal, horizon: int, mid_year: bool) -> float:
    """Years from today at which the terminal value is discounted (see module docstring)."""
    if mid_year and isinstance(terminal, GordonGrowth):
        return horizon - 0.5
    return float(horizon)


def value_at_horizon(pv_timing_tv: Num, wacc: Num, terminal: Terminal, mid_year: bool) -> Num:
    """The TV restated as a value at the end of year N (undoes the half-year shift)."""
    if mid_year and isinstance(terminal, GordonGrowth):
        return pv_timing_tv * (1.0 + wacc) ** 0.5
    return pv_timing_tv


def implied_growth(tv_at_horizon: float, fcff_last: float, wacc: float, mid_year: bool) -> float:
    """The perpetual growth whose Gordon TV (same convention) has the same present value.

    Solves ``A = F (1 + g) / (r − g)`` for g, with A the TV at N expressed on the Gordon
    timing (÷ (1 + r)^0.5 under mid-year): ``g = (A r − F) / (A + F)``.
    """
    a = tv_at_horizon / (1.0 + wacc) ** 0.5 if mid_year else tv_at_horizon
    return (a * wacc - fcff_last) / (a + fcff_last)


def implied_multiple(tv_at_horizon: float, ebitda_last: float) -> float | None:
    """TV at the end of year N over that year's EBITDA; None when EBITDA is not positive."""
    return tv_at_horizon / ebitda_last if ebitda_last > 0 else None


def plausibility_warnings(
    terminal: Terminal,
    wacc: float,
    fcff_last: float,
    ebitda_last: float,
    tv_share: float | None,
    multiple: float | None,
    growth: float | None,
    equity: float,
) -> tuple[str, ...]:
    """Notes a reviewer would raise: the numbers stand, the warnings say why to look twice."""
    out: list[str] = []
    if tv_share is None:
        out.append("enterprise value is not positive")
    elif tv_share > TV_SHARE_WARNING:
        out.append(f"terminal value is {tv_share:.0%} of enterprise value")
    if isinstance(terminal, GordonGrowth):
        if fcff_last <= 0:
            out.append("final-year FCFF is not positive: the Gordon terminal value is not positive")
        if multiple is not None:
            out.append(f"Gordon terminal value implies {multiple:.1f}x final-year EBITDA")
    else:
        if ebitda_last <= 0:
            out.append("final-year EBITDA is not positive: the exit value is not positive")
        if growth is not None:
            note = f"exit multiple implies {growth:.2%} perpetual growth"
            if growth >= wacc:
                note += " (at or above WACC: the multiple is not sustainable)"
            out.append(note)
    if equity < 0:
        out.append("equity value is negative: net debt and claims exceed enterprise value")
    return tuple(out)
