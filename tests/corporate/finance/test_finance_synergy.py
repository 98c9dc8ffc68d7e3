"""Synergy valuation: a hand-computed case with the arithmetic shown, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.finance.synergy import SynergyInputs, synergies

CASE = SynergyInputs(
    currency="USD",
    discount_rate=0.10,
    tax_rate=0.25,
    revenue_run_rate=100,
    revenue_phase_in=(0.25, 0.5, 1.0),
    revenue_margin=0.2,
    cost_run_rate=50,
    cost_phase_in=(0.5, 1.0),
    integration_costs=(30, 10),
    terminal_growth=0.02,
)


def test_hand_computed_table() -> None:
    result = synergies(CASE)
    y1, y2, y3 = result.years
    # Y1: revenue 100×0.25 = 25 → ×0.2 = 5; cost 50×0.5 = 25; − 30 integration = 0 pre-tax
    assert (y1.revenue_synergies, y1.revenue_contribution, y1.cost_synergies) == (25, 5, 25)
    assert y1.pre_tax == pytest.approx(0)
    # Y2: 10 + 50 − 10 = 50 pre-tax → 37.5 after tax → / 1.1² = 30.991735…
    assert y2.after_tax == pytest.approx(37.5)
    assert y2.present_value == pytest.approx(30.99173553719)
    # Y3: 20 + 50 (cost phase-in holds at 1.0) = 70 → 52.5 → / 1.1³ = 39.444027…
    assert (y3.cost_synergies, y3.after_tax) == (50, pytest.approx(52.5))
    assert y3.present_value == pytest.approx(39.44402704733)
    assert result.pv_synergies == pytest.approx(70.43576258452)
    # TV = 52.5 × 1.02 / (0.10 − 0.02) = 669.375 at end of year 3 → / 1.331 = 502.911345…
    assert result.terminal_value == pytest.approx(669.375)
    assert result.pv_terminal_value == pytest.approx(502.91134485349)
    assert result.npv == pytest.approx(573.34710743802)
    assert result.currency == "USD"


def test_no_terminal_value() -> None:
    result = synergies(SynergyInputs("EUR", 0.1, 0.25, cost_run_rate=40, cost_phase_in=(1.0,)))
    # one year: 40 × 0.75 / 1.1 = 27.2727…
    assert result.terminal_value is None and result.pv_terminal_value == 0
    assert result.npv == pytest.approx(27.272727272727)


def test_wacc_not_above_growth_is_refused() -> None:
    bad = SynergyInputs(
        "USD", 0.03, 0.25, cost_run_rate=10, cost_phase_in=(1,), terminal_growth=0.03
    )
    with pytest.raises(Invalid) as err:
        synergies(bad)
    assert err.value.errors[0]["loc"] == ["terminal_growth"]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"tax_rate": 1.2}, ["tax_rate"]),
        ({"revenue_phase_in": (0.5, 1.5)}, ["revenue_phase_in", 1]),
        ({"integration_costs": (-5,)}, ["integration_costs", 0]),
        ({"cost_phase_in": ()}, ["cost_phase_in"]),
        ({"currency": "usd"}, ["currency"]),
    ],
)
def test_bad_inputs_name_the_field(changes: dict[str, object], loc: list[object]) -> None:
    """List indices in a loc are ints, as in pydantic's paths and the rest of the engine
    (they were the strings "1", "0")."""
    from dataclasses import replace

    with pytest.raises(Invalid) as err:
        synergies(replace(CASE, **changes))  # type: ignore[arg-type]
    assert err.value.errors[0]["loc"] == loc


@given(
    st.floats(min_value=1, max_value=1e6),
    st.floats(min_value=0.01, max_value=0.5),
    st.floats(min_value=0, max_value=0.6),
)
def test_full_run_rate_with_zero_growth_is_a_perpetuity(
    run_rate: float, rate: float, tax: float
) -> None:
    """One year at full run-rate, then TV with g = 0: A/(1+r) + (A/r)/(1+r) = A/r."""
    result = synergies(
        SynergyInputs(
            "USD", rate, tax, cost_run_rate=run_rate, cost_phase_in=(1.0,), terminal_growth=0
        )
    )
    assert result.npv == pytest.approx(run_rate * (1 - tax) / rate, rel=1e-9)


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=10))
def test_npv_grows_with_faster_phase_in(schedule: list[float]) -> None:
    slow = synergies(
        SynergyInputs("USD", 0.1, 0.2, cost_run_rate=100, cost_phase_in=tuple(schedule))
    )
    full = synergies(
        SynergyInputs("USD", 0.1, 0.2, cost_run_rate=100, cost_phase_in=(1.0,) * len(schedule))
    )
    assert slow.npv <= full.npv + 1e-9
