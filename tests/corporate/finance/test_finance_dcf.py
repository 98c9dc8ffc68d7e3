"""DCF: published worked examples, hand-computed cases, conventions and refusals."""

from __future__ import annotations

import dataclasses
import re

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf, solve_price
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth


def small(**changes: object) -> DCFInputs:
    """The hand-computed two-year model of ``test_hand_computed_exit_multiple``."""
    base = DCFInputs(
        currency="USD",
        base_revenue=100.0,
        revenue_growth=(0.10, 0.10),
        ebitda_margin=0.30,
        da_pct_revenue=0.05,
        capex_pct_revenue=0.06,
        nwc_pct_revenue=0.10,
        tax_rate=0.25,
        wacc=0.10,
        terminal=ExitMultiple(8.0),
        mid_year=False,
        net_debt=50.0,
        shares=DilutedShares(10.0),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def steady(fcff_next: float, wacc: float, g: float, *, mid_year: bool = False) -> DCFInputs:
    """A business already in steady state: revenue grows at g in every explicit year and
    FCFF is a fixed share of revenue (no D&A, capex, NWC or tax), so FCFF grows at g and the
    whole DCF must collapse to the Gordon formula ``FCFF_1 / (WACC − g)``."""
    return DCFInputs(
        currency="USD",
        base_revenue=100.0,
        revenue_growth=(g,) * 5,
        ebitda_margin=fcff_next / (100.0 * (1 + g)),
        da_pct_revenue=0.0,
        capex_pct_revenue=0.0,
        nwc_pct_revenue=0.0,
        tax_rate=0.0,
        wacc=wacc,
        terminal=GordonGrowth(g),
        mid_year=mid_year,
        net_debt=0.0,
        shares=DilutedShares(1.0),
    )


def locs(exc: pytest.ExceptionInfo[Invalid]) -> list[list[str | int]]:
    return [e["loc"] for e in exc.value.errors]


# ------------------------------------------------------------------ published examples


def test_berk_demarzo_con_ed_constant_growth() -> None:
    # Berk, DeMarzo & Harford, *Fundamentals of Corporate Finance*, Example 7.2 "Valuing a
    # firm with constant dividend growth" (Eq. 7.6; the same example is in chapter 9 of
    # Berk & DeMarzo's *Corporate Finance*, where it is not numbered 7.2): Con Ed pays $2.30
    # next year, equity cost of capital 7 %, growth 2 % → P0 = 2.30 / (0.07 − 0.02) = $46.00.
    # A steady-state DCF must give the same value.
    result = dcf(steady(2.30, 0.07, 0.02))
    assert result.enterprise_value == pytest.approx(46.00, rel=1e-12)
    assert result.rows[0].fcff == pytest.approx(2.30, rel=1e-12)
    assert result.value_per_share == pytest.approx(46.00, rel=1e-12)


def test_damodaran_con_ed_stable_growth_ddm() -> None:
    # Damodaran, "The Dividend Discount Model" (Con Ed, 31 Dec 2000): DPS $2.18, g = 3 %,
    # cost of equity 5.1 % + 0.80 × 4 % = 8.30 % → 2.18 × 1.03 / (0.083 − 0.03) = $42.37.
    assert dcf(steady(2.18 * 1.03, 0.083, 0.03)).enterprise_value == pytest.approx(42.37, abs=5e-3)


def test_cfa_optiontech_treasury_stock_method() -> None:
    # CFA Program curriculum, diluted EPS example "OptionTech": 800,000 shares, 30,000
    # options at $35, average price $55 → the $1,050,000 exercise cash buys back
    # 19,091 shares: 30,000 − 19,091 = 10,909 incremental shares.
    shares = DilutedShares(800_000, options=((30_000, 35.0),))
    assert shares.at_price(55.0) - 800_000 == pytest.approx(10_909.09, abs=0.01)
    # and solving from the equity value returns that price and count (the fixed point)
    price, diluted = solve_price(shares, 55.0 * shares.at_price(55.0))
    assert price == pytest.approx(55.0, rel=1e-12)
    assert diluted == pytest.approx(810_909.09, abs=0.01)


# ------------------------------------------------------------------ hand-computed


def test_hand_computed_exit_multiple() -> None:
    # Year 1: revenue 110, EBITDA 33, D&A 5.5, EBIT 27.5, NOPAT 20.625, capex 6.6,
    #   ΔNWC 0.10 × (110 − 100) = 1.0, FCFF 20.625 + 5.5 − 6.6 − 1.0 = 18.525, PV /1.1.
    # Year 2: revenue 121, EBITDA 36.3, D&A 6.05, NOPAT 22.6875, capex 7.26, ΔNWC 1.1,
    #   FCFF 20.3775, PV /1.21. Both PVs are 16.840909... (growth = WACC).
    # TV = 36.3 × 8 = 290.4 at the end of year 2, PV 290.4 / 1.21 = 240.
    # EV = 33.681818... + 240 = 273.681818...; equity = EV − 50; per share / 10.
    r = dcf(small())
    y1, y2 = r.rows
    assert (y1.revenue, y1.ebitda, y1.da, y1.ebit) == pytest.approx((110, 33, 5.5, 27.5))
    assert (y1.nopat, y1.capex, y1.delta_nwc, y1.fcff) == pytest.approx((20.625, 6.6, 1, 18.525))
    assert (y2.revenue, y2.nopat, y2.delta_nwc, y2.fcff) == pytest.approx(
        (121, 22.6875, 1.1, 20.3775)
    )
    assert y1.discount_factor == pytest.approx(1 / 1.1)
    assert y1.pv == pytest.approx(16.8409090909) and y2.pv == pytest.approx(16.8409090909)
    assert r.terminal_value == pytest.approx(290.4)
    assert r.tv_discount_period == 2.0
    assert r.pv_terminal_value == pytest.approx(240.0)
    assert r.enterprise_value == pytest.approx(273.6818181818)
    assert r.equity_value == pytest.approx(223.6818181818)
    assert r.value_per_share == pytest.approx(22.36818181818)
    assert r.tv_share_of_ev == pytest.approx(240 / 273.6818181818)
    # implied perpetual growth: g = (TV·r − F)/(TV + F) = (29.04 − 20.3775)/310.7775
    assert r.implied_terminal_growth == pytest.approx(8.6625 / 310.7775)
    assert r.implied_exit_multiple is None
    assert r.currency == "USD" and r.terminal_method == "exit_multiple"


def test_bridge_items() -> None:
    # equity = EV − net debt − minority − preferred + non-operating assets
    r = dcf(small(minority_interest=7.0, preferred_equity=3.0, non_operating_assets=4.0))
    assert r.equity_value == pytest.approx(273.6818181818 - 50 - 7 - 3 + 4)


def test_per_year_margins_and_ebitda() -> None:
    r = dcf(small(ebitda_margin=(0.30, 0.40)))
    assert r.rows[1].ebitda == pytest.approx(121 * 0.40)
    assert r.terminal_value == pytest.approx(121 * 0.40 * 8)


def test_options_dilute_at_the_implied_price() -> None:
    # basic 100 + RSUs 5, tranches 10 @ 20 and 10 @ 60, equity 4,300.
    # f(P) = P·diluted(P): f(20) = 105·20 = 2,100 < 4,300 <= f(60) = 105·60 + 10·40 = 6,700,
    # so only the $20 tranche is in the money: P = (4,300 + 10·20) / (105 + 10) = 39.1304,
    # diluted = 115 − 200 / 39.1304 = 109.8889.
    shares = DilutedShares(100.0, options=((10.0, 20.0), (10.0, 60.0)), rsus=5.0)
    price, diluted = solve_price(shares, 4_300.0)
    assert price == pytest.approx(4_500 / 115)
    assert diluted == pytest.approx(115 - 200 / (4_500 / 115))
    assert price * diluted == pytest.approx(4_300.0)
    assert diluted == pytest.approx(shares.at_price(price))


def test_negative_equity_leaves_options_out_of_the_money() -> None:
    shares = DilutedShares(10.0, options=((5.0, 0.0),))
    assert solve_price(shares, -20.0) == pytest.approx((-2.0, 10.0))
    r = dcf(small(net_debt=400.0, shares=shares))
    assert r.value_per_share == pytest.approx((273.6818181818 - 400) / 10)
    assert any("equity value is negative" in w for w in r.warnings)


# ------------------------------------------------------------------ conventions


def test_mid_year_explicit_flows_at_t_minus_half() -> None:
    end, mid = dcf(small()), dcf(small(mid_year=True))
    assert [r.discount_period for r in mid.rows] == [0.5, 1.5]
    assert mid.rows[0].discount_factor == pytest.approx(1.1**-0.5)
    assert mid.sum_pv_fcff == pytest.approx(end.sum_pv_fcff * 1.1**0.5)


def test_mid_year_exit_multiple_tv_discounted_at_n() -> None:
    # A sale price at the end of year N: same PV in both conventions.
    mid = dcf(small(mid_year=True))
    assert mid.tv_discount_period == 2.0
    assert mid.pv_terminal_value == pytest.approx(240.0)


def test_mid_year_gordon_tv_discounted_at_n_minus_half() -> None:
    g = GordonGrowth(0.03)
    end, mid = dcf(small(terminal=g)), dcf(small(terminal=g, mid_year=True))
    # TV = 20.3775 × 1.03 / (0.10 − 0.03)
    assert end.terminal_value == pytest.approx(20.3775 * 1.03 / 0.07)
    assert mid.tv_discount_period == 1.5
    assert mid.pv_terminal_value == pytest.approx(end.terminal_value / 1.1**1.5)
    assert mid.enterprise_value == pytest.approx(end.enterprise_value * 1.1**0.5)
    # the Berk-DeMarzo perpetuity with flows mid-year is worth 46 × 1.07^0.5
    assert dcf(steady(2.30, 0.07, 0.02, mid_year=True)).enterprise_value == pytest.approx(
        46.0 * 1.07**0.5
    )


def test_gordon_implied_multiple() -> None:
    r = dcf(small(terminal=GordonGrowth(0.03)))
    assert r.implied_exit_multiple == pytest.approx(20.3775 * 1.03 / 0.07 / 36.3)
    assert r.implied_terminal_growth is None
    assert any(re.fullmatch(r"Gordon terminal value implies \d+\.\dx final-year EBITDA", w)
               for w in r.warnings)  # fmt: skip


def test_tv_share_warning() -> None:
    r = dcf(small())
    # 240 / 273.68 = 87.7 %
    assert "terminal value is 88% of enterprise value" in r.warnings
    low = dcf(small(terminal=ExitMultiple(1.0)))
    assert not any("of enterprise value" in w for w in low.warnings)


def test_exit_multiple_above_wacc_growth_flagged() -> None:
    r = dcf(small(terminal=ExitMultiple(40.0)))
    assert r.implied_terminal_growth is not None and r.implied_terminal_growth < 0.10
    hot = dcf(small(terminal=ExitMultiple(40.0), capex_pct_revenue=0.3))
    assert any("not sustainable" in w for w in hot.warnings)


# ------------------------------------------------------------------ refusals


def test_wacc_must_exceed_terminal_growth() -> None:
    for g in (0.10, 0.12):
        with pytest.raises(Invalid) as exc:
            dcf(small(terminal=GordonGrowth(g)))
        assert locs(exc) == [["terminal", "growth"]]
        assert "WACC must exceed the terminal growth rate" in exc.value.detail


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"shares": DilutedShares(-5.0)}, ["shares", "basic"]),
        ({"shares": DilutedShares(0.0)}, ["shares", "basic"]),
        ({"shares": DilutedShares(5.0, rsus=-1.0)}, ["shares", "rsus"]),
        ({"shares": DilutedShares(5.0, ((-1.0, 3.0),))}, ["shares", "options", 0, "count"]),
        ({"shares": DilutedShares(5.0, ((1.0, -3.0),))}, ["shares", "options", 0, "strike"]),
        ({"tax_rate": 1.0}, ["tax_rate"]),
        ({"tax_rate": -0.1}, ["tax_rate"]),
        ({"revenue_growth": ()}, ["revenue_growth"]),
        ({"revenue_growth": [0.1]}, ["revenue_growth"]),
        ({"revenue_growth": (0.1, -1.0)}, ["revenue_growth", 1]),
        ({"ebitda_margin": (0.3,)}, ["ebitda_margin"]),
        ({"ebitda_margin": 1.2}, ["ebitda_margin"]),
        ({"wacc": 0.0}, ["wacc"]),
        ({"wacc": float("nan")}, ["wacc"]),
        ({"base_revenue": 0.0}, ["base_revenue"]),
        ({"capex_pct_revenue": -0.01}, ["capex_pct_revenue"]),
        ({"terminal": ExitMultiple(0.0)}, ["terminal", "ev_ebitda"]),
        ({"net_debt": "12"}, ["net_debt"]),
        ({"mid_year": 1}, ["mid_year"]),
    ],
)  # fmt: skip
def test_refusals_name_the_field(changes: dict[str, object], loc: list[str | int]) -> None:
    with pytest.raises(Invalid) as exc:
        dcf(small(**changes))
    assert locs(exc) == [loc]
    assert exc.value.detail.startswith(".".join(map(str, loc)))


def test_currency_checked() -> None:
    with pytest.raises(Invalid) as exc:
        dcf(small(currency="usd"))
    assert locs(exc) == [["currency"]]


def test_every_bad_field_reported_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        dcf(small(tax_rate=2.0, shares=DilutedShares(-1.0), wacc=-0.1))
    assert locs(exc) == [["tax_rate"], ["wacc"], ["shares", "basic"]]
    assert exc.value.detail.endswith("(and 2 more)")
