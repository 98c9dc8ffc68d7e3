"""CAPM, WACC, Hamada betas and the Gordon-growth terminal value.

The formulas are the textbook ones (Brealey, Myers & Allen, *Principles of Corporate
Finance*, ch. 9 and 19; Damodaran, *Investment Valuation*, ch. 8 for levered betas;
Gordon 1959 for the growing perpetuity). Every expected figure below is recomputed by hand
in its comment rather than copied from a book.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance import (
    WACCResult,
    capm,
    gordon_terminal_value,
    levered_beta,
    unlevered_beta,
    wacc,
    wacc_capm,
)


def test_capm_by_hand() -> None:
    # 3 % + 1.2 × 5.5 % = 3 % + 6.6 % = 9.6 %
    assert capm(0.03, 1.2, 0.055) == pytest.approx(0.096, rel=1e-15)
    # beta 0 earns the risk-free rate; a negative beta earns less than it.
    assert capm(0.04, 0, 0.06) == 0.04
    assert capm(0.04, -0.5, 0.06) == pytest.approx(0.01, rel=1e-14)
    assert capm(Decimal("0.03"), 1, Decimal("0.05")) == pytest.approx(0.08, rel=1e-15)


def test_wacc_sangria_inputs_recomputed_by_hand() -> None:
    # Inputs of BMA's "Sangria Corporation" (ch. 19): debt 125, equity 375 (market values),
    # rD 6 %, rE 12.4 %, tax 35 %. By hand: weights 0.25 / 0.75;
    # after-tax rD = 6 % × 0.65 = 3.9 %; WACC = 0.25 × 3.9 % + 0.75 × 12.4 % = 10.275 %.
    result = wacc(375, 125, 0.124, 0.06, 0.35)
    assert isinstance(result, WACCResult)
    assert result.equity_weight == 0.75
    assert result.debt_weight == 0.25
    assert result.after_tax_cost_of_debt == pytest.approx(0.039, rel=1e-14)
    assert result.wacc == pytest.approx(0.10275, rel=1e-14)
    assert (result.cost_of_equity, result.cost_of_debt, result.tax_rate) == (0.124, 0.06, 0.35)


def test_wacc_all_equity_and_all_debt() -> None:
    assert wacc(1000, 0, 0.11, 0.05, 0.25).wacc == pytest.approx(0.11, rel=1e-15)
    assert wacc(0, 1000, 0.11, 0.08, 0.25).wacc == pytest.approx(0.06, rel=1e-15)


def test_wacc_capm_chains_the_cost_of_equity() -> None:
    # rE = 4 % + 1.1 × 5 % = 9.5 %; weights 600/1000 and 400/1000; rD after tax 7 % × 0.79
    # = 5.53 %; WACC = 0.6 × 9.5 % + 0.4 × 5.53 % = 5.7 % + 2.212 % = 7.912 %.
    result = wacc_capm(600, 400, 0.04, 1.1, 0.05, 0.07, 0.21)
    assert result.cost_of_equity == pytest.approx(0.095, rel=1e-14)
    assert result.wacc == pytest.approx(0.07912, rel=1e-14)


@pytest.mark.parametrize(
    ("args", "loc"),
    [
        ((-1, 100, 0.1, 0.05, 0.2), ["equity_value"]),
        ((100, -1, 0.1, 0.05, 0.2), ["debt_value"]),
        ((0, 0, 0.1, 0.05, 0.2), ["equity_value"]),
        ((100, 100, -1, 0.05, 0.2), ["cost_of_equity"]),
        ((100, 100, 0.1, float("nan"), 0.2), ["cost_of_debt"]),
        ((100, 100, 0.1, 0.05, 1), ["tax_rate"]),
        ((100, 100, 0.1, 0.05, -0.01), ["tax_rate"]),
        ((100, "100", 0.1, 0.05, 0.2), ["debt_value"]),
    ],
)
def test_wacc_bad_input_names_the_field(args: tuple[object, ...], loc: list[str]) -> None:
    with pytest.raises(Invalid) as info:
        wacc(*args)  # type: ignore[arg-type]
    assert info.value.errors[0]["loc"] == loc
    assert info.value.detail.startswith(loc[0])


def test_capm_bad_input() -> None:
    with pytest.raises(Invalid) as info:
        capm(0.03, float("inf"), 0.05)
    assert info.value.errors[0]["loc"] == ["beta"]
    with pytest.raises(Invalid) as info:
        capm(0.03, -30, 0.05)  # 3 % - 150 % is below -100 %
    assert info.value.errors[0]["loc"] == ["beta"]
    with pytest.raises(Invalid) as info:
        wacc_capm(100, 100, 0.03, 1, None, 0.05, 0.2)  # type: ignore[arg-type]
    assert info.value.errors[0]["loc"] == ["market_premium"]


def test_hamada_betas_by_hand_and_round_trip() -> None:
    # βU = 1.2 / (1 + 0.75 × 0.5) = 1.2 / 1.375 = 0.872727…
    assert unlevered_beta(1.2, 0.5, 0.25) == pytest.approx(1.2 / 1.375, rel=1e-15)
    # βL = 0.8 × (1 + 0.79 × 0.25) = 0.8 × 1.1975 = 0.958
    assert levered_beta(0.8, 0.25, 0.21) == pytest.approx(0.958, rel=1e-14)
    assert levered_beta(unlevered_beta(1.3, 0.7, 0.3), 0.7, 0.3) == pytest.approx(1.3)
    with pytest.raises(Invalid) as info:
        levered_beta(0.8, -0.1, 0.2)
    assert info.value.errors[0]["loc"] == ["debt_to_equity"]


def test_gordon_terminal_value_by_hand() -> None:
    # 105 / (10 % - 5 %) = 2,100; negative growth (a shrinking business) is allowed.
    assert gordon_terminal_value(105, 0.10, 0.05) == pytest.approx(2100.0, rel=1e-14)
    assert gordon_terminal_value(90, 0.08, -0.02) == pytest.approx(900.0, rel=1e-14)
    assert gordon_terminal_value(Decimal("50"), Decimal("0.09"), 0) == pytest.approx(555.5555556)


@pytest.mark.parametrize("growth", [0.09, 0.10, 0.25])
def test_gordon_rejects_growth_at_or_above_the_discount_rate(growth: float) -> None:
    with pytest.raises(Invalid, match="WACC must exceed the growth rate") as info:
        gordon_terminal_value(100, 0.09, growth)
    assert info.value.errors[0]["loc"] == ["growth"]
    assert info.value.detail.startswith("growth: ")


def test_gordon_other_bad_input() -> None:
    with pytest.raises(Invalid) as info:
        gordon_terminal_value(float("nan"), 0.1, 0.02)
    assert info.value.errors[0]["loc"] == ["cash_flow_next"]
    with pytest.raises(Invalid) as info:
        gordon_terminal_value(100, -1, -2)
    assert info.value.errors[0]["loc"] == ["discount_rate"]
