"""Synergy valuation: what the combination is worth beyond the two standalone companies.

Per year ``y = 1..N`` (end-of-year discounting at ``discount_rate``):

    revenue synergies   = revenue run-rate × revenue phase-in[y]
    contribution        = revenue synergies × margin        (only the margin reaches profit)
    cost synergies      = cost run-rate × cost phase-in[y]
    pre-tax             = contribution + cost synergies − integration costs[y]
    after-tax           = pre-tax × (1 − tax rate)          (integration costs deductible)
    present value       = after-tax / (1 + r)^y

``N`` is the longest of the two phase-in schedules and the integration-cost schedule; a
phase-in schedule shorter than ``N`` stays at its last value. With a terminal growth
``g`` the recurring after-tax synergies of year N (integration costs excluded: they are
one-off) grow forever: TV = recurring_N × (1 + g) / (r − g), discounted by (1 + r)^N.
``r ≤ g`` has no finite value and is refused, naming ``terminal_growth``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import check_currency
from novacron.corporate.finance.tvm import as_number, finite, finite_sum, invalid, loc_of


def _invalid(field: str, msg: str) -> Invalid:
    return invalid(loc_of(field), msg)


def _finite(value: float, field: str) -> float:
    return as_number(value, loc_of(field))


@dataclass(frozen=True, slots=True)
class SynergyInputs:
    currency: str
    discount_rate: float
    tax_rate: float
    revenue_run_rate: float = 0.0
    revenue_phase_in: tuple[float, ...] = ()
    revenue_margin: float = 0.0
    cost_run_rate: float = 0.0
    cost_phase_in: tuple[float, ...] = ()
    integration_costs: tuple[float, ...] = ()
    terminal_growth: float | None = None


@dataclass(frozen=True, slots=True)
class SynergyYear:
    year: int
    revenue_synergies: float
    revenue_contribution: float
    cost_synergies: float
    integration_costs: float
    pre_tax: float
    after_tax: float
    discount_factor: float
    present_value: float


@dataclass(frozen=True, slots=True)
class SynergyResult:
    currency: str
    years: tuple[SynergyYear, ...]
    pv_synergies: float
    """Sum of the yearly present values (net of integration costs, after tax)."""
    terminal_value: float | None
    """Undiscounted, at the end of year N."""
    pv_terminal_value: float
    npv: float
    """``pv_synergies + pv_terminal_value``."""


def _check(inputs: SynergyInputs) -> None:
    check_currency(inputs.currency)
    _finite(inputs.discount_rate, "discount_rate")
    if inputs.discount_rate <= -1:
        raise _invalid("discount_rate", "must be above -100%")
    if not 0 <= _finite(inputs.tax_rate, "tax_rate") < 1:
        raise _invalid("tax_rate", "must be in [0, 1)")
    for name in ("revenue_run_rate", "revenue_margin", "cost_run_rate"):
        _finite(getattr(inputs, name), name)
    for name in ("revenue_phase_in", "cost_phase_in"):
        for i, share in enumerate(getattr(inputs, name)):
            if not 0 <= _finite(share, f"{name}.{i}") <= 1:
                raise _invalid(f"{name}.{i}", "a phase-in share must be in [0, 1]")
    for i, cost in enumerate(inputs.integration_costs):
        if _finite(cost, f"integration_costs.{i}") < 0:
            raise _invalid(f"integration_costs.{i}", "a cost is given as a positive amount")
    if inputs.revenue_run_rate and not inputs.revenue_phase_in:
        raise _invalid("revenue_phase_in", "give a phase-in schedule, e.g. [0.25, 0.5, 1.0]")
    if inputs.cost_run_rate and not inputs.cost_phase_in:
        raise _invalid("cost_phase_in", "give a phase-in schedule, e.g. [0.5, 1.0]")
    if inputs.terminal_growth is not None:
        g = _finite(inputs.terminal_growth, "terminal_growth")
        if g <= -1:  # (1 + g) <= 0 would turn a stream of gains into a loss
            raise _invalid("terminal_growth", "must be above -100%")
        if inputs.discount_rate <= g:
            raise _invalid(
                "terminal_growth",
                f"discount rate {inputs.discount_rate:g} must exceed terminal growth {g:g}",
            )


def _share(schedule: Sequence[float], year: int) -> float:
    """The phase-in share of ``year`` (1-based); the last share holds after the schedule."""
    if not schedule:
        return 0.0
    return schedule[min(year, len(schedule)) - 1]


def synergies(inputs: SynergyInputs) -> SynergyResult:
    """The per-year synergy table, its NPV and the terminal value (see the module doc)."""
    _check(inputs)
    n = max(len(inputs.revenue_phase_in), len(inputs.cost_phase_in), len(inputs.integration_costs))
    if n == 0:
        raise _invalid("revenue_phase_in", "no years: give a phase-in or integration schedule")
    r, t = inputs.discount_rate, inputs.tax_rate
    years: list[SynergyYear] = []
    for y in range(1, n + 1):
        revenue = inputs.revenue_run_rate * _share(inputs.revenue_phase_in, y)
        contribution = revenue * inputs.revenue_margin
        cost = inputs.cost_run_rate * _share(inputs.cost_phase_in, y)
        one_off = inputs.integration_costs[y - 1] if y <= len(inputs.integration_costs) else 0.0
        pre_tax = contribution + cost - one_off
        after_tax = pre_tax * (1 - t)
        factor = math.exp(-y * math.log1p(r))  # 1 / (1 + r)^y, never an OverflowError
        for value, field in (
            (revenue, "revenue_run_rate"),
            (cost, "cost_run_rate"),
            (contribution, "revenue_margin"),
            (pre_tax, "integration_costs"),
        ):
            finite(value, [field], f"year {y} synergies")  # fmt: skip
        years.append(
            SynergyYear(
                y, revenue, contribution, cost, one_off, pre_tax, after_tax, factor,
                after_tax * factor,
            )
        )  # fmt: skip
    pv = finite_sum((row.present_value for row in years), ["cost_run_rate"], "PV of synergies")
    terminal: float | None = None
    pv_terminal = 0.0
    if inputs.terminal_growth is not None:
        last = years[-1]
        recurring = (last.revenue_contribution + last.cost_synergies) * (1 - t)
        g = inputs.terminal_growth
        terminal = finite(recurring * (1 + g) / (r - g), ["terminal_growth"], "terminal value")
        pv_terminal = terminal * last.discount_factor
    total = finite(pv + pv_terminal, ["terminal_growth"], "NPV of synergies")
    return SynergyResult(inputs.currency, tuple(years), pv, terminal, pv_terminal, total)
