"""Cost of capital: CAPM, WACC with market-value weights, Gordon-growth terminal value.

- ``capm``: cost of equity = risk-free rate + beta × equity market risk premium.
- ``wacc``: E/(D+E)·rE + D/(D+E)·rD·(1 - t), with *market* values of equity and debt (book
  values understate equity for any profitable company and so understate the WACC).
- ``gordon_terminal_value``: CF(n+1) / (r - g), the value at the end of year n of a flow
  growing at g forever; refused when r ≤ g, where the series does not converge.

Rates are fractions (0.08 is 8 %). Bad input raises ``Invalid`` naming the argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from novacron.corporate.finance.tvm import Number, as_number, as_rate, invalid

__all__ = [
    "WACCResult",
    "capm",
    "gordon_terminal_value",
    "levered_beta",
    "unlevered_beta",
    "wacc",
    "wacc_capm",
]


@dataclass(frozen=True, slots=True)
class WACCResult:
    """The weighted average cost of capital and its parts, for display and audit."""

    equity_weight: float
    debt_weight: float
    cost_of_equity: float
    cost_of_debt: float
    after_tax_cost_of_debt: float
    tax_rate: float
    wacc: float


def _tax(value: Number, field: str = "tax_rate") -> float:
    rate = as_number(value, [field])
    if not 0.0 <= rate < 1.0:
        raise invalid([field], f"{rate!r} must be in [0, 1)")
    return rate


def _non_negative(value: Number, field: str) -> float:
    amount = as_number(value, [field])
    if amount < 0:
        raise invalid([field], f"{amount!r} must not be negative (a market value)")
    return amount


def capm(risk_free: Number, beta: Number, market_premium: Number) -> float:
    """Cost of equity by the CAPM: ``risk_free + beta * market_premium``. A negative beta
    is allowed (a hedge-like asset); the result must still be a rate above -100 %."""
    rf = as_rate(risk_free, "risk_free")
    result = rf + as_number(beta, ["beta"]) * as_number(market_premium, ["market_premium"])
    if result <= -1.0:
        raise invalid(["beta"], "the CAPM cost of equity would be -100 % or less")
    return result


def wacc(
    equity_value: Number,
    debt_value: Number,
    cost_of_equity: Number,
    cost_of_debt: Number,
    tax_rate: Number,
) -> WACCResult:
    """WACC with market-value weights; interest is tax-deductible at ``tax_rate``."""
    equity = _non_negative(equity_value, "equity_value")
    debt = _non_negative(debt_value, "debt_value")
    if equity + debt == 0:
        raise invalid(["equity_value"], "equity and debt are both zero: no weights")
    r_equity = as_rate(cost_of_equity, "cost_of_equity")
    r_debt = as_rate(cost_of_debt, "cost_of_debt")
    tax = _tax(tax_rate)
    we, wd = equity / (equity + debt), debt / (equity + debt)
    after_tax = r_debt * (1 - tax)
    return WACCResult(
        equity_weight=we,
        debt_weight=wd,
        cost_of_equity=r_equity,
        cost_of_debt=r_debt,
        after_tax_cost_of_debt=after_tax,
        tax_rate=tax,
        wacc=we * r_equity + wd * after_tax,
    )


def wacc_capm(
    equity_value: Number,
    debt_value: Number,
    risk_free: Number,
    beta: Number,
    market_premium: Number,
    cost_of_debt: Number,
    tax_rate: Number,
) -> WACCResult:
    """``wacc`` with the cost of equity from ``capm``."""
    return wacc(
        equity_value, debt_value, capm(risk_free, beta, market_premium), cost_of_debt, tax_rate
    )


def unlevered_beta(levered: Number, debt_to_equity: Number, tax_rate: Number) -> float:
    """Hamada: βU = βL / (1 + (1 - t)·D/E), the beta of the business without its debt
    (used to take comparables' betas to a target's own capital structure)."""
    ratio = _non_negative(debt_to_equity, "debt_to_equity")
    return as_number(levered, ["levered"]) / (1 + (1 - _tax(tax_rate)) * ratio)


def levered_beta(unlevered: Number, debt_to_equity: Number, tax_rate: Number) -> float:
    """Hamada: βL = βU·(1 + (1 - t)·D/E)."""
    ratio = _non_negative(debt_to_equity, "debt_to_equity")
    return as_number(unlevered, ["unlevered"]) * (1 + (1 - _tax(tax_rate)) * ratio)


def gordon_terminal_value(cash_flow_next: Number, discount_rate: Number, growth: Number) -> float:
    """Gordon growth: ``cash_flow_next / (discount_rate - growth)``, valued one period
    before ``cash_flow_next`` is received. ``Invalid`` at ``growth`` when the discount
    rate (the WACC in a DCF) does not exceed it: the perpetuity would be infinite."""
    flow = as_number(cash_flow_next, ["cash_flow_next"])
    rate = as_rate(discount_rate, "discount_rate")
    g = as_rate(growth, "growth")
    if rate <= g:
        raise invalid(
            ["growth"],
            f"WACC must exceed the growth rate (discount rate {rate:.4%} <= growth {g:.4%})",
        )
    return flow / (rate - g)
