"""Time value of money: NPV, XNPV, MIRR, annuities (PMT/PV/FV/NPER) and payback.

Conventions (every one is tested against a published worked example):

- Rates are per period, as fractions (0.08 is 8 %), and must exceed -1: at -1 money
  vanishes and every discount factor divides by zero.
- ``npv(..., timing="t0")`` discounts the first flow at t = 0 (numpy-financial's ``npv``);
  ``timing="end"`` puts every flow at the end of its period (Excel's ``NPV``). The timing
  is a required keyword because the two differ by a factor (1 + rate) and mixing them up is
  the most common spreadsheet error.
- ``xnpv`` follows Excel: actual/365 years from the first date, which no date may precede.
- Annuities follow Excel's sign convention: money paid out is negative, money received
  positive, so ``pv + pmt·annuity factor + fv`` discounted to one date sums to zero.
- Inputs may be ``float``, ``int`` or ``Decimal`` (converted to float: valuation math runs
  in floats; ledgers use ``Money``). Bad input raises ``Invalid`` naming the argument.

The IRR family (``irr``, ``xirr``) lives in ``roots.py``; it shares the validation below.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import accumulate
from numbers import Real
from typing import Literal, TypeAlias

import numpy as np

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import loc_of

Number: TypeAlias = float | int | Decimal
Timing = Literal["t0", "end"]
When = Literal["end", "begin"]

__all__ = [
    "Number",
    "discounted_payback",
    "fv",
    "mirr",
    "nper",
    "npv",
    "payback",
    "pmt",
    "pv",
    "xnpv",
]


# --- validation shared by tvm, roots and rates -------------------------------------------


def invalid(loc: list[str | int], msg: str) -> Invalid:
    """An ``Invalid`` whose detail starts with the dotted field path, so the CLI's one
    line and the API's ``errors[*].loc`` both name the argument."""
    path = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in loc)
    return Invalid(f"{path.replace('.[', '[')}: {msg}", errors=[{"loc": loc, "msg": msg}])


def as_number(value: object, loc: list[str | int]) -> float:
    """A finite float from an int, float or Decimal (bools and strings are refused: a
    cash flow of ``True`` or ``"100"`` is a bug upstream, not a number)."""
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        raise invalid(loc, f"{value!r} is not a number")
    result = float(value)
    if not math.isfinite(result):
        raise invalid(loc, f"{value!r} is not a finite number")
    return result


def as_rate(value: object, field: str = "rate") -> float:
    """A per-period rate > -1 (a rate of -100 % or less has no discount factor);
    ``field`` may be a dotted path (``acquirer.interest_rate_on_cash``)."""
    rate = as_number(value, loc_of(field))
    if rate <= -1.0:
        raise invalid(loc_of(field), f"{rate!r} must be greater than -1 (-100 %)")
    return rate


def as_cashflows(values: Iterable[Number], field: str = "cashflows") -> list[float]:
    """The flows as floats, refusing an empty series and naming the bad index."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise invalid([field], "must be a list of numbers")
    flows = [as_number(value, [field, index]) for index, value in enumerate(values)]
    if not flows:
        raise invalid([field], "at least one cash flow is needed")
    return flows


def _as_when(when: object) -> int:
    """1 for payments at the beginning of each period, 0 at the end (Excel's ``type``)."""
    if when not in ("end", "begin"):
        raise invalid(["when"], f"{when!r} is not 'end' or 'begin'")
    return 1 if when == "begin" else 0


# --- discounting --------------------------------------------------------------------------


def present_values(rate: float, flows: Sequence[float], times: Sequence[float]) -> np.ndarray:
    """Each flow discounted to t = 0: ``flow / (1 + rate) ** time``."""
    cf = np.asarray(flows, dtype=float)
    t = np.asarray(times, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return cf * np.exp(-t * math.log1p(rate))


def finite(value: float, loc: list[str | int], what: str) -> float:
    """``value`` when it is finite; otherwise ``Invalid`` at ``loc``: extreme inputs (a
    rate near -100 %, figures near 1e308) overflow a float, which is a refusal naming the
    input, never an ``inf`` in a result or an ``OverflowError`` escaping."""
    if not math.isfinite(value):
        raise invalid(loc, f"{what} overflows a float: the figures are too large")
    return value


def finite_sum(values: Iterable[float], loc: list[str | int], what: str) -> float:
    """``math.fsum`` (exact rounding) of ``values``, refusing an overflow like ``finite``
    (``fsum`` itself raises ``OverflowError`` on an intermediate overflow)."""
    try:
        return finite(math.fsum(values), loc, what)
    except OverflowError:
        raise invalid(loc, f"{what} overflows a float: the figures are too large") from None


def npv(rate: Number, cashflows: Iterable[Number], *, timing: Timing) -> float:
    """Net present value of evenly spaced flows.

    ``timing="t0"``: ``sum(cf[t] / (1 + rate) ** t)`` for t = 0, 1, … (numpy-financial).
    ``timing="end"``: ``sum(cf[t] / (1 + rate) ** (t + 1))`` (Excel's ``NPV``), i.e. the
    "t0" value divided by (1 + rate).
    """
    r = as_rate(rate)
    flows = as_cashflows(cashflows)
    if timing not in ("t0", "end"):
        raise invalid(["timing"], f"{timing!r} is not 't0' or 'end'")
    offset = 1 if timing == "end" else 0
    times = [t + offset for t in range(len(flows))]
    return finite_sum(present_values(r, flows, times), ["rate"], "NPV")


def year_fractions(dates: Sequence[date], count: int, field: str = "dates") -> list[float]:
    """Excel's XNPV/XIRR clock: actual days from the first date over 365."""
    if isinstance(dates, str | bytes) or not isinstance(dates, Iterable):
        raise invalid([field], "must be a list of dates")
    days = list(dates)
    if len(days) != count:
        raise invalid([field], f"{len(days)} dates for {count} cash flows")
    for index, day in enumerate(days):
        if not isinstance(day, date):
            raise invalid([field, index], f"{day!r} is not a date")
    first = days[0].toordinal()
    fractions = []
    for index, day in enumerate(days):
        if day.toordinal() < first:
            raise invalid([field, index], f"{day} precedes the first date {days[0]}")
        fractions.append((day.toordinal() - first) / 365.0)
    return fractions


def xnpv(rate: Number, cashflows: Iterable[Number], dates: Sequence[date]) -> float:
    """Excel's ``XNPV``: ``sum(cf[i] / (1 + rate) ** ((dates[i] - dates[0]).days / 365))``."""
    r = as_rate(rate)
    flows = as_cashflows(cashflows)
    times = year_fractions(dates, len(flows))
    return finite_sum(present_values(r, flows, times), ["rate"], "XNPV")


def mirr(cashflows: Iterable[Number], finance_rate: Number, reinvest_rate: Number) -> float:
    """Excel's ``MIRR``: outflows discounted to t = 0 at ``finance_rate``, inflows
    compounded to the last period at ``reinvest_rate``, and the rate that links the two
    over ``len(cashflows) - 1`` periods. Needs at least one inflow and one outflow."""
    flows = as_cashflows(cashflows)
    fin = as_rate(finance_rate, "finance_rate")
    reinvest = as_rate(reinvest_rate, "reinvest_rate")
    if not (any(cf > 0 for cf in flows) and any(cf < 0 for cf in flows)):
        raise invalid(["cashflows"], "MIRR needs at least one positive and one negative flow")
    last = len(flows) - 1
    times = range(len(flows))
    outflows = present_values(fin, [min(cf, 0.0) for cf in flows], times)
    inflows = present_values(reinvest, [max(cf, 0.0) for cf in flows], [t - last for t in times])
    future = finite_sum(inflows, ["reinvest_rate"], "the future value of the inflows")
    present = -finite_sum(outflows, ["finance_rate"], "the present value of the outflows")
    if present == 0.0 or future == 0.0:  # underflow: flows of 1e-300 compounded away
        raise invalid(["cashflows"], "the flows are too small to compound at these rates")
    ratio = future / present
    return finite(ratio ** (1.0 / last) - 1.0, ["finance_rate"], "MIRR")


# --- annuities (Excel PMT / PV / FV / NPER) ---------------------------------------------


def _annuity_factor(rate: float, nper: float, when: int) -> tuple[float, float]:
    """``(growth, payment factor)``: (1 + r)^n and the future value of a payment of 1 per
    period, i.e. (1 + r·when)·((1 + r)^n - 1)/r, or n at a zero rate.

    The factor is evaluated as ``n · (e^x - 1)/x · log(1 + r)/r`` with x = n·log(1 + r):
    both ratios tend to 1, so a rate of 1e-300 or a fraction of a period gives ~n instead
    of expm1(0)/r = 0 (a division by zero in PMT)."""
    if rate == 0.0:
        return 1.0, nper
    log_growth = math.log1p(rate)
    exponent = nper * log_growth
    if exponent > 700.0:
        raise invalid(["nper"], "(1 + rate) ** nper overflows a float")
    growth_ratio = math.expm1(exponent) / exponent if exponent != 0.0 else 1.0
    rate_ratio = log_growth / rate if log_growth != 0.0 else 1.0
    return math.exp(exponent), (1 + rate * when) * nper * growth_ratio * rate_ratio


def pmt(rate: Number, nper: Number, pv: Number, fv: Number = 0, when: When = "end") -> float:
    """Excel's ``PMT``: the level payment that takes ``pv`` to ``fv`` in ``nper`` periods
    (negative when ``pv`` is money received, e.g. a loan)."""
    r, n = as_rate(rate), as_number(nper, ["nper"])
    if n <= 0:
        raise invalid(["nper"], "the number of periods must be positive")
    growth, factor = _annuity_factor(r, n, _as_when(when))
    present, future = as_number(pv, ["pv"]), as_number(fv, ["fv"])
    if factor == 0.0:  # n of 5e-324 periods
        raise invalid(["nper"], "too few periods to spread a payment over")
    return finite(-(future + present * growth) / factor, ["nper"], "PMT")


def fv(rate: Number, nper: Number, pmt: Number, pv: Number = 0, when: When = "end") -> float:
    """Excel's ``FV``: the balance after ``nper`` payments of ``pmt`` on a start of ``pv``."""
    r, n = as_rate(rate), as_number(nper, ["nper"])
    if n < 0:
        raise invalid(["nper"], "the number of periods must not be negative")
    growth, factor = _annuity_factor(r, n, _as_when(when))
    payment, present = as_number(pmt, ["pmt"]), as_number(pv, ["pv"])
    return finite(-(present * growth + payment * factor), ["nper"], "FV")


def pv(rate: Number, nper: Number, pmt: Number, fv: Number = 0, when: When = "end") -> float:
    """Excel's ``PV``: what ``nper`` payments of ``pmt`` plus a final ``fv`` are worth now."""
    r, n = as_rate(rate), as_number(nper, ["nper"])
    if n < 0:
        raise invalid(["nper"], "the number of periods must not be negative")
    growth, factor = _annuity_factor(r, n, _as_when(when))
    payment, future = as_number(pmt, ["pmt"]), as_number(fv, ["fv"])
    return finite(-(future + payment * factor) / growth, ["nper"], "PV")


def nper(rate: Number, pmt: Number, pv: Number, fv: Number = 0, when: When = "end") -> float:
    """Excel's ``NPER``: periods of ``pmt`` that take ``pv`` to ``fv``. Like Excel it can be
    negative (the balance would have been reached that many periods ago); ``Invalid`` when
    no number of periods works (e.g. payments smaller than the interest)."""
    r = as_rate(rate)
    payment, present = as_number(pmt, ["pmt"]), as_number(pv, ["pv"])
    future, kind = as_number(fv, ["fv"]), _as_when(when)
    if r == 0.0:
        if payment == 0.0:
            raise invalid(["pmt"], "a zero payment at a zero rate never changes the balance")
        return finite(-(present + future) / payment, ["pmt"], "NPER")
    per_period = payment * (1 + r * kind)
    numerator, denominator = per_period - future * r, per_period + present * r
    if denominator == 0.0 or numerator / denominator <= 0.0:
        raise invalid(["pmt"], "no number of periods takes pv to fv with this payment")
    return finite(math.log(numerator / denominator) / math.log1p(r), ["pmt"], "NPER")


# --- payback ------------------------------------------------------------------------------


def _recovery_time(flows: Sequence[float]) -> float | None:
    """Periods from t = 0 until the running total, once negative, first climbs back to
    >= 0, interpolating linearly within the recovering period. 0.0 when the total is never
    negative (nothing to recover), ``None`` when it is still negative at the end."""
    running = list(accumulate(flows))
    if not all(math.isfinite(total) for total in running):
        raise invalid(["cashflows"], "the running total overflows a float: figures too large")
    start = next((t for t, total in enumerate(running) if total < 0), None)
    if start is None:
        return 0.0
    for t in range(start + 1, len(running)):
        if running[t] >= 0:
            return (t - 1) + (-running[t - 1]) / flows[t]
    return None


def payback(cashflows: Iterable[Number]) -> float | None:
    """Simple payback period, flows at t = 0, 1, …: see ``_recovery_time``. A dip below
    zero after the first recovery (e.g. a decommissioning cost) is not looked at."""
    return _recovery_time(as_cashflows(cashflows))


def discounted_payback(rate: Number, cashflows: Iterable[Number]) -> float | None:
    """Payback of the flows discounted at ``rate`` (the "t0" timing: the first flow is not
    discounted), interpolating linearly on the discounted flows."""
    r = as_rate(rate)
    flows = as_cashflows(cashflows)
    discounted = present_values(r, flows, range(len(flows)))
    if not np.all(np.isfinite(discounted)):
        raise invalid(["rate"], "discounted flows overflow a float at this rate")
    return _recovery_time([float(value) for value in discounted])
