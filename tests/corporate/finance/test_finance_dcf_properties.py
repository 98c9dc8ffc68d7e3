"""DCF properties (hypothesis): monotonicity, conventions, terminal cross-checks, TSM."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf, solve_price
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth

rate = st.floats


@st.composite
def models(draw: st.DrawFn, gordon: bool | None = None) -> DCFInputs:
    """Healthy businesses: positive FCFF every year (margin after tax beats capex and the
    NWC build), so value must fall as the discount rate rises."""
    years = draw(st.integers(1, 8))
    use_gordon = draw(st.booleans()) if gordon is None else gordon
    wacc = draw(rate(0.05, 0.15))
    terminal = (
        GordonGrowth(draw(rate(-0.02, 0.04))) if use_gordon else ExitMultiple(draw(rate(3.0, 20.0)))
    )
    options = draw(st.lists(st.tuples(rate(0.0, 50.0), rate(0.0, 100.0)), max_size=3).map(tuple))
    return DCFInputs(
        currency="EUR",
        base_revenue=draw(rate(10.0, 10_000.0)),
        revenue_growth=tuple(draw(st.lists(rate(0.0, 0.10), min_size=years, max_size=years))),
        ebitda_margin=draw(rate(0.20, 0.40)),
        da_pct_revenue=draw(rate(0.02, 0.05)),
        capex_pct_revenue=draw(rate(0.02, 0.05)),
        nwc_pct_revenue=draw(rate(0.0, 0.10)),
        tax_rate=draw(rate(0.15, 0.30)),
        wacc=wacc,
        terminal=terminal,
        mid_year=draw(st.booleans()),
        net_debt=draw(rate(-100.0, 100.0)),
        shares=DilutedShares(draw(rate(1.0, 1_000.0)), options=options, rsus=draw(rate(0, 10))),
    )


@given(models(), rate(0.001, 0.05))
def test_ev_decreases_in_wacc(inputs: DCFInputs, step: float) -> None:
    higher = dataclasses.replace(inputs, wacc=inputs.wacc + step)
    assert dcf(higher).enterprise_value < dcf(inputs).enterprise_value


@given(models())
def test_mid_year_scales_explicit_pvs_by_half_a_year(inputs: DCFInputs) -> None:
    end = dcf(dataclasses.replace(inputs, mid_year=False))
    mid = dcf(dataclasses.replace(inputs, mid_year=True))
    assert mid.sum_pv_fcff == pytest.approx(end.sum_pv_fcff * (1 + inputs.wacc) ** 0.5, rel=1e-12)
    if isinstance(inputs.terminal, GordonGrowth):  # TV at N − 0.5: the whole EV scales
        ev = end.enterprise_value * (1 + inputs.wacc) ** 0.5
        assert mid.enterprise_value == pytest.approx(ev, rel=1e-12)
    else:  # exit value at N in both conventions
        assert mid.pv_terminal_value == pytest.approx(end.pv_terminal_value, rel=1e-12)


@given(models(gordon=False))
def test_exit_multiple_and_its_implied_growth_agree(inputs: DCFInputs) -> None:
    exit_result = dcf(inputs)
    g = exit_result.implied_terminal_growth
    assert g is not None
    if g >= inputs.wacc - 1e-6:
        return  # the multiple implies an unsustainable growth: no Gordon twin
    gordon = dcf(dataclasses.replace(inputs, terminal=GordonGrowth(g)))
    assert gordon.enterprise_value == pytest.approx(exit_result.enterprise_value, rel=1e-9)
    assert gordon.implied_exit_multiple == pytest.approx(inputs.terminal.ev_ebitda, rel=1e-9)  # type: ignore[union-attr]


@given(rate(0.01, 0.2), rate(-0.03, 0.05), rate(0.1, 1000.0))
def test_steady_state_collapses_to_gordon(wacc: float, g: float, fcff: float) -> None:
    if wacc - g < 0.005:
        return
    inputs = DCFInputs(
        currency="USD",
        base_revenue=100.0,
        revenue_growth=(g,) * 4,
        ebitda_margin=0.5,
        da_pct_revenue=0.1,
        capex_pct_revenue=0.1,
        nwc_pct_revenue=0.2,
        tax_rate=0.25,
        wacc=wacc,
        terminal=GordonGrowth(g),
        mid_year=False,
        net_debt=0.0,
        shares=DilutedShares(1.0),
    )
    r = dcf(inputs)
    assert r.enterprise_value == pytest.approx(r.rows[0].fcff / (wacc - g), rel=1e-9)


@settings(max_examples=200)
@given(
    rate(0.5, 1e6),
    st.lists(st.tuples(rate(0.0, 1e5), rate(0.0, 500.0)), max_size=5),
    rate(0.0, 1e3),
    rate(-1e6, 1e8),
)
def test_treasury_stock_fixed_point(
    basic: float, options: list[tuple[float, float]], rsus: float, equity: float
) -> None:
    shares = DilutedShares(basic, options=tuple(options), rsus=rsus)
    price, diluted = solve_price(shares, equity)
    assert price * diluted == pytest.approx(equity, rel=1e-9, abs=1e-6)
    if price > 0:
        assert diluted == pytest.approx(shares.at_price(price), rel=1e-9)
    assert diluted >= basic + rsus - 1e-9
