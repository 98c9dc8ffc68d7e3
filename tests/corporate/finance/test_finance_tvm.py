"""NPV, XNPV, MIRR, annuities and payback against published worked examples.

Sources (each test names its own):
- Microsoft Support, Excel function help pages "NPV function", "XNPV function",
  "MIRR function", "PMT function", "PV function", "FV function", "NPER function"
  (support.microsoft.com, the example tables at the bottom of each page).
- numpy-financial 1.0.0 docstrings (numpy.org/numpy-financial/latest): npf.npv, npf.pmt,
  npf.fv, npf.pv, npf.nper examples.
- Ross, Westerfield & Jaffe, *Corporate Finance*, the payback-period example
  (-50,000 then 30,000, 20,000, 10,000: payback exactly 2 years).
Where a figure is derived by hand instead, the comment shows the arithmetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance import (
    discounted_payback,
    fv,
    mirr,
    nper,
    npv,
    payback,
    pmt,
    pv,
    xnpv,
)

# --- NPV ----------------------------------------------------------------------------------


def test_npv_excel_example_1_end_of_period() -> None:
    # Excel "NPV function", example 1: =NPV(10%, -10000, 3000, 4200, 6800) = $1,188.44
    # (the -10,000 is paid at the end of the first period).
    assert npv(0.10, [-10000, 3000, 4200, 6800], timing="end") == pytest.approx(1188.44, abs=5e-3)


def test_npv_excel_example_2_initial_cost_added_outside() -> None:
    # Excel "NPV function", example 2: rate 8 %, initial cost 40,000 at the start,
    # =NPV(A2, A4:A8) + A3 = $1,922.06 and, with a 9,000 loss in year 6,
    # =NPV(A2, A4:A8, -9000) + A3 = -$3,749.47.
    returns = [8000, 9200, 10000, 12000, 14500]
    assert npv(0.08, returns, timing="end") - 40000 == pytest.approx(1922.06, abs=5e-3)
    assert npv(0.08, [*returns, -9000], timing="end") - 40000 == pytest.approx(-3749.47, abs=5e-3)
    # The same figure with the outlay at t = 0 in the numpy-financial convention.
    assert npv(0.08, [-40000, *returns], timing="t0") == pytest.approx(1922.06, abs=5e-3)


def test_npv_numpy_financial_docstring_examples() -> None:
    # npf.npv docstring: np.round(npf.npv(0.08, [-40_000, 5_000, 8_000, 12_000, 30_000]), 5)
    # = 3065.22267; npf.irr docstring: npf.npv(0.281, [-100, 39, 59, 55, 20])
    # = -0.0084785916384548798.
    assert npv(0.08, [-40_000, 5_000, 8_000, 12_000, 30_000], timing="t0") == pytest.approx(
        3065.22267, abs=5e-6
    )
    assert npv(0.281, [-100, 39, 59, 55, 20], timing="t0") == pytest.approx(
        -0.0084785916384548798, rel=1e-9
    )


def test_npv_timings_differ_by_one_period_of_discounting() -> None:
    flows = [-100.0, 50.0, 60.0]
    t0 = npv(0.1, flows, timing="t0")
    # by hand: -100 + 50/1.1 + 60/1.21 = -100 + 45.4545… + 49.5867… = -4.9587…
    assert t0 == pytest.approx(-100 + 50 / 1.1 + 60 / 1.21, rel=1e-15)
    assert npv(0.1, flows, timing="end") == pytest.approx(t0 / 1.1, rel=1e-15)


def test_npv_at_zero_rate_is_the_sum_and_accepts_decimal_and_int() -> None:
    assert npv(0, [Decimal("-100.5"), 40, 60.5], timing="t0") == 0.0
    assert npv(Decimal("0.1"), [Decimal("110")], timing="end") == pytest.approx(100.0)


def test_npv_timing_is_required_and_checked() -> None:
    with pytest.raises(TypeError):
        npv(0.1, [1.0, 2.0])  # type: ignore[call-arg]
    with pytest.raises(Invalid) as info:
        npv(0.1, [1.0, 2.0], timing="begin")  # type: ignore[arg-type]
    assert info.value.errors[0]["loc"] == ["timing"]


@pytest.mark.parametrize(
    ("rate", "flows", "loc"),
    [
        (-1.0, [1.0], ["rate"]),
        (-1.5, [1.0], ["rate"]),
        (float("nan"), [1.0], ["rate"]),
        (float("inf"), [1.0], ["rate"]),
        ("0.1", [1.0], ["rate"]),
        (0.1, [], ["cashflows"]),
        (0.1, [1.0, float("nan")], ["cashflows", 1]),
        (0.1, [1.0, 2.0, float("-inf")], ["cashflows", 2]),
        (0.1, [1.0, True], ["cashflows", 1]),
        (0.1, [1.0, "2"], ["cashflows", 1]),
        (0.1, "123", ["cashflows"]),
    ],
)
def test_npv_bad_input_names_the_field(rate: object, flows: object, loc: list[object]) -> None:
    with pytest.raises(Invalid) as info:
        npv(rate, flows, timing="t0")  # type: ignore[arg-type]
    assert info.value.errors[0]["loc"] == loc
    assert str(info.value).startswith(str(loc[0]))


def test_npv_overflow_is_an_error_not_inf() -> None:
    with pytest.raises(Invalid, match="overflows"):
        npv(-0.999999, [1.0] * 200, timing="t0")


# --- XNPV ---------------------------------------------------------------------------------

EXCEL_X_FLOWS = [-10000, 2750, 4250, 3250, 2750]
EXCEL_X_DATES = [
    date(2008, 1, 1),
    date(2008, 3, 1),
    date(2008, 10, 30),
    date(2009, 2, 15),
    date(2009, 4, 1),
]


def test_xnpv_excel_example() -> None:
    # Excel "XNPV function": =XNPV(0.09, A2:A6, B2:B6) = 2,086.65 (2086.647602 unrounded).
    assert xnpv(0.09, EXCEL_X_FLOWS, EXCEL_X_DATES) == pytest.approx(2086.647602, abs=5e-7)


def test_xnpv_one_year_apart_is_one_period_of_discounting() -> None:
    # 2021-01-01 → 2022-01-01 is 365 days: exactly one year on Excel's actual/365 clock.
    value = xnpv(0.1, [-100, 110], [date(2021, 1, 1), date(2022, 1, 1)])
    assert value == pytest.approx(0.0, abs=1e-12)
    # 2024 is a leap year: 366 days is 366/365 years, so slightly more discounting.
    leap = xnpv(0.1, [0, 110], [date(2024, 1, 1), date(2025, 1, 1)])
    assert leap == pytest.approx(110 / 1.1 ** (366 / 365), rel=1e-14)


def test_xnpv_bad_dates() -> None:
    with pytest.raises(Invalid) as info:
        xnpv(0.1, [1, 2], [date(2021, 1, 1)])
    assert info.value.errors[0]["loc"] == ["dates"]
    with pytest.raises(Invalid) as info:
        xnpv(0.1, [1, 2, 3], [date(2021, 1, 2), date(2021, 3, 1), date(2021, 1, 1)])
    assert info.value.errors[0]["loc"] == ["dates", 2]
    assert "precedes" in info.value.detail
    with pytest.raises(Invalid) as info:
        xnpv(0.1, [1, 2], [date(2021, 1, 2), "2021-03-01"])  # type: ignore[list-item]
    assert info.value.errors[0]["loc"] == ["dates", 1]


# --- MIRR ---------------------------------------------------------------------------------


def test_mirr_excel_example() -> None:
    # Excel "MIRR function": loan 10 %, reinvestment 12 %, flows -120,000, 39,000, 30,000,
    # 21,000, 37,000, 46,000: five-year MIRR 12.61 %, three-year (first four flows) -4.80 %,
    # five-year at a 14 % reinvestment rate 13.48 %.
    flows = [-120000, 39000, 30000, 21000, 37000, 46000]
    assert mirr(flows, 0.10, 0.12) == pytest.approx(0.1261, abs=5e-5)
    assert mirr(flows[:4], 0.10, 0.12) == pytest.approx(-0.0480, abs=5e-5)
    assert mirr(flows, 0.10, 0.14) == pytest.approx(0.1348, abs=5e-5)


def test_mirr_by_hand_and_equal_rates_of_a_simple_project() -> None:
    # -100 now, 121 in two years: FV of inflows 121, PV of outflows 100, (121/100)^(1/2) - 1.
    assert mirr([-100, 0, 121], 0.05, 0.07) == pytest.approx(0.10, rel=1e-14)
    # -100, +60, +60 at 10 %/10 %: FV = 60·1.1 + 60 = 126 → (126/100)^(1/2) - 1.
    assert mirr([-100, 60, 60], 0.1, 0.1) == pytest.approx(1.26**0.5 - 1, rel=1e-14)


def test_mirr_needs_both_signs_and_valid_rates() -> None:
    with pytest.raises(Invalid) as info:
        mirr([100, 200], 0.1, 0.1)
    assert info.value.errors[0]["loc"] == ["cashflows"]
    with pytest.raises(Invalid) as info:
        mirr([-100, 200], -1, 0.1)
    assert info.value.errors[0]["loc"] == ["finance_rate"]
    with pytest.raises(Invalid) as info:
        mirr([-100, 200], 0.1, float("nan"))
    assert info.value.errors[0]["loc"] == ["reinvest_rate"]


# --- annuities ----------------------------------------------------------------------------


def test_pmt_excel_examples() -> None:
    # Excel "PMT function": =PMT(8%/12, 10, 10000) = -$1,037.03;
    # =PMT(8%/12, 10, 10000, 0, 1) = -$1,030.16; =PMT(6%/12, 18*12, 0, 50000) = -$129.08.
    assert pmt(0.08 / 12, 10, 10000) == pytest.approx(-1037.03, abs=5e-3)
    assert pmt(0.08 / 12, 10, 10000, 0, "begin") == pytest.approx(-1030.16, abs=5e-3)
    assert pmt(0.06 / 12, 18 * 12, 0, 50000) == pytest.approx(-129.08, abs=5e-3)


def test_pmt_numpy_financial_docstring() -> None:
    # npf.pmt docstring: npf.pmt(0.075/12, 12*15, 200000) = -1854.0247200054619
    assert pmt(0.075 / 12, 12 * 15, 200000) == pytest.approx(-1854.0247200054619, rel=1e-12)


def test_pv_excel_and_numpy_financial_examples() -> None:
    # Excel "PV function": annuity paying $500 a month for 20 years at 8 %:
    # =PV(0.08/12, 12*20, 500, , 0) = -$59,777.15.
    assert pv(0.08 / 12, 12 * 20, 500) == pytest.approx(-59777.15, abs=5e-3)
    # npf.pv docstring: npf.pv(0.05/12, 10*12, -100, 15692.93) = -100.00067131625819
    assert pv(0.05 / 12, 10 * 12, -100, 15692.93) == pytest.approx(-100.00067131625819, rel=1e-12)


def test_fv_excel_and_numpy_financial_examples() -> None:
    # Excel "FV function": =FV(6%/12, 10, -200, -500, 1) = $2,581.40;
    # =FV(12%/12, 12, -1000) = $12,682.50; =FV(11%/12, 35, -2000, , 1) = $82,846.25.
    assert fv(0.06 / 12, 10, -200, -500, "begin") == pytest.approx(2581.40, abs=5e-3)
    assert fv(0.12 / 12, 12, -1000) == pytest.approx(12682.50, abs=5e-3)
    assert fv(0.11 / 12, 35, -2000, 0, "begin") == pytest.approx(82846.25, abs=5e-3)
    # npf.fv docstring: npf.fv(0.05/12, 10*12, -100, -100) = 15692.928894335748
    assert fv(0.05 / 12, 10 * 12, -100, -100) == pytest.approx(15692.928894335748, rel=1e-12)


def test_nper_excel_and_numpy_financial_examples() -> None:
    # Excel "NPER function": rate 12 %/12, payment -100, pv -1,000, fv 10,000:
    # =NPER(A2/12, A3, A4, A5, 1) = 59.6738657; =NPER(A2/12, A3, A4, A5) = 60.0821229;
    # =NPER(A2/12, A3, A4) = -9.57859404 (Excel answers negative periods too).
    assert nper(0.01, -100, -1000, 10000, "begin") == pytest.approx(59.6738657, abs=5e-8)
    assert nper(0.01, -100, -1000, 10000) == pytest.approx(60.0821229, abs=5e-8)
    assert nper(0.01, -100, -1000) == pytest.approx(-9.57859404, abs=5e-9)
    # npf.nper docstring: npf.nper(0.07/12, -150, 8000) = 64.07334877066185
    assert nper(0.07 / 12, -150, 8000) == pytest.approx(64.07334877066185, rel=1e-12)


def test_annuities_at_a_zero_rate_are_plain_sums() -> None:
    assert pmt(0, 10, 1000) == -100.0
    assert pmt(0, 4, 0, 100, "begin") == -25.0
    assert fv(0, 12, -50, -400) == 1000.0
    assert pv(0, 12, -50, 400) == 200.0
    assert nper(0, -50, 1000) == 20.0
    assert nper(0, -50, 1000, -500) == 10.0  # 500 of the 1,000 still owed after 10


def test_annuity_errors_name_the_field() -> None:
    cases = [
        (lambda: pmt(0.1, 0, 100), ["nper"]),
        (lambda: pmt(0.1, 10, 100, when="middle"), ["when"]),  # type: ignore[arg-type]
        (lambda: pmt(-1, 10, 100), ["rate"]),
        (lambda: pmt(0.1, 10, float("nan")), ["pv"]),
        (lambda: fv(0.1, -1, 10), ["nper"]),
        (lambda: fv(0.1, 10, 10, Decimal("NaN")), ["pv"]),
        (lambda: pv(0.1, 10, "x"), ["pmt"]),
        (lambda: pv(0.1, 10, 10, float("inf")), ["fv"]),
        (lambda: nper(0, 0, 1000), ["pmt"]),
        # 1 % a month on 10,000 is 100 of interest: a payment of 50 never repays it.
        (lambda: nper(0.01, -50, 10000), ["pmt"]),
        (lambda: fv(0.5, 5000, -1), ["nper"]),
    ]
    for call, loc in cases:
        with pytest.raises(Invalid) as info:
            call()
        assert info.value.errors[0]["loc"] == loc, loc


# --- payback ------------------------------------------------------------------------------


def test_payback_ross_westerfield_jaffe_example() -> None:
    # RWJ, Corporate Finance, "The Payback Period Method": -50,000 then 30,000, 20,000,
    # 10,000 → the investment is paid back in exactly 2 years.
    assert payback([-50000, 30000, 20000, 10000]) == 2.0


def test_payback_interpolates_within_the_recovery_period() -> None:
    # cumulative -100, -70, -30, +20: 2 periods plus 30/50 of the third.
    assert payback([-100, 30, 40, 50]) == pytest.approx(2.6, rel=1e-15)
    # Leading zeros are periods before the outlay: they count from t = 0.
    assert payback([0, -100, 60, 60]) == pytest.approx(2 + 40 / 60, rel=1e-15)
    # Recovery exactly at a period end lands on the integer.
    assert payback([-100, 50, 50, 50]) == 2.0


def test_payback_edge_cases() -> None:
    assert payback([-100, 30, 30]) is None  # never recovered
    assert payback([100, 20]) == 0.0  # nothing to recover
    assert payback([0, 0]) == 0.0
    # The first recovery counts; a later dip (decommissioning) is not looked at.
    assert payback([-100, 150, -200, 10]) == pytest.approx(100 / 150, rel=1e-15)
    with pytest.raises(Invalid) as info:
        payback([])
    assert info.value.errors[0]["loc"] == ["cashflows"]


def test_discounted_payback_by_hand() -> None:
    # At 10 %: discounted flows -100, 60/1.1 = 54.5454…, 60/1.21 = 49.5867…:
    # cumulative after year 1 is -45.4545…, recovered 45.4545…/49.5867… into year 2.
    expected = 1 + (100 - 60 / 1.1) / (60 / 1.21)
    assert discounted_payback(0.1, [-100, 60, 60]) == pytest.approx(expected, rel=1e-14)
    assert payback([-100, 60, 60]) == pytest.approx(1 + 40 / 60, rel=1e-15)
    # Undiscounted the project pays back; at 25 % it never does (-100 + 48 + 38.4 < 0).
    assert discounted_payback(0.25, [-100, 60, 60]) is None
    assert discounted_payback(0, [-100, 30, 40, 50]) == pytest.approx(2.6, rel=1e-15)
    with pytest.raises(Invalid) as info:
        discounted_payback(-2, [-100, 60])
    assert info.value.errors[0]["loc"] == ["rate"]
