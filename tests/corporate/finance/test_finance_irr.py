"""IRR and XIRR: published worked examples, every root of multi-root series, and errors.

Sources (each test names its own):
- Microsoft Support, Excel "IRR function" and "XIRR function" help pages (example tables).
- numpy-financial 1.0.0, ``npf.irr`` docstring examples.
- Brealey, Myers & Allen, *Principles of Corporate Finance*, ch. 5, "Helmsley Iron" strip
  mine (-A$30bn, +A$10bn a year for 9 years, -A$65bn clean-up in year 10): IRRs 3.50 % and
  19.54 %.
- Lorie & Savage (1955), "Three problems in rationing capital", the oil-pump project
  (-1,600, +10,000, -10,000): IRRs 25 % and 400 %, reprinted in Brealey & Myers.
- Ross, Westerfield & Jaffe, *Corporate Finance*, "multiple rates of return"
  (-100, +230, -132): IRRs 10 % and 20 %.
The two-root examples are also checked by the quadratic formula in x = 1/(1+r).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance import IRRResult, irr, npv, xirr, xnpv
from novacron.corporate.finance.roots import POLY_MAX_DEGREE

# --- single-root examples -----------------------------------------------------------------


def test_irr_excel_example() -> None:
    # Excel "IRR function": -70,000, 12,000, 15,000, 18,000, 21,000, 26,000:
    # =IRR(A2:A6) = -2.1 % (four years), =IRR(A2:A7) = 8.7 % (five years),
    # =IRR(A2:A4, -10%) = -44.4 % (two years).
    flows = [-70000, 12000, 15000, 18000, 21000, 26000]
    assert irr(flows).rate == pytest.approx(0.0866309480, abs=5e-11)
    assert round(irr(flows).rate, 3) == 0.087
    assert round(irr(flows[:5]).rate, 3) == -0.021
    assert round(irr(flows[:3]).rate, 3) == -0.444
    assert all(not irr(f).ambiguous for f in (flows, flows[:5], flows[:3]))


def test_irr_numpy_financial_docstring_examples() -> None:
    # npf.irr docstring: round(npf.irr(x), 5) for each series below.
    assert round(irr([-100, 39, 59, 55, 20]).rate, 5) == 0.28095
    assert round(irr([-100, 0, 0, 74]).rate, 5) == -0.09550
    assert round(irr([-100, 100, 0, 7]).rate, 5) == 0.06206
    # The next two have more than one real root; numpy-financial prints just one. Ours is
    # the root closest to zero, which is the one it prints, and the others are reported.
    two = irr([-100, 100, 0, -7])
    assert round(two.rate, 5) == -0.08330
    assert two.ambiguous and len(two.roots) == 2
    three = irr([-5, 10.5, 1, -8, 1])
    assert round(three.rate, 5) == 0.08860
    assert three.ambiguous and len(three.roots) == 3
    for result, flows in ((two, [-100, 100, 0, -7]), (three, [-5, 10.5, 1, -8, 1])):
        for root in result.roots:
            assert npv(root, flows, timing="t0") == pytest.approx(0.0, abs=1e-10)


# --- multiple roots -----------------------------------------------------------------------


def test_irr_helmsley_iron_brealey_myers_allen() -> None:
    # BMA ch. 5: IRRs of 3.50 % and 19.54 %.
    result = irr([-30, *[10] * 9, -65])
    assert [round(r, 4) for r in result.roots] == [0.0350, 0.1954]
    assert result.rate == result.roots[0]
    assert result.ambiguous is True


def test_irr_lorie_savage_pump() -> None:
    # -1600 + 10000x - 10000x² = 0 ⇔ x² - x + 0.16 = 0 ⇔ x = 0.8 or 0.2 ⇔ r = 25 % or 400 %.
    result = irr([-1600, 10000, -10000])
    assert result.roots == pytest.approx((0.25, 4.0), rel=1e-14)
    assert result.rate == pytest.approx(0.25, rel=1e-14)
    assert result.ambiguous


def test_irr_ross_westerfield_jaffe_multiple_rates() -> None:
    # -100 + 230x - 132x² = 0 ⇔ x = (230 ± 10)/264 = 1/1.1 or 1/1.2 ⇔ r = 10 % or 20 %.
    result = irr([-100, 230, -132])
    assert result.roots == pytest.approx((0.10, 0.20), rel=1e-13)
    assert result.rate == pytest.approx(0.10, rel=1e-13)


def test_irr_three_roots_zero_one_two() -> None:
    # -1 + 6x - 11x² + 6x³ = (x - 1)(2x - 1)(3x - 1): x = 1, 1/2, 1/3 ⇔ r = 0 %, 100 %, 200 %.
    result = irr([-1, 6, -11, 6])
    assert result.roots == pytest.approx((0.0, 1.0, 2.0), abs=1e-13)
    assert result.rate == pytest.approx(0.0, abs=1e-13)
    assert result.ambiguous


def test_irr_rate_is_the_root_closest_to_zero() -> None:
    # Roots at -10 % and +12 %: x = 1/0.9 and 1/1.12, P(x) = (x - 1/0.9)(x - 1/1.12).
    result = irr(np.poly([1 / 0.9, 1 / 1.12])[::-1])
    assert result.roots == pytest.approx((-0.1, 0.12), rel=1e-12)
    assert result.rate == pytest.approx(-0.1, rel=1e-12)
    # Roots at -15 % and 12 %: now 12 % is closer to zero.
    result = irr(np.poly([1 / 0.85, 1 / 1.12])[::-1])
    assert result.rate == pytest.approx(0.12, rel=1e-12)


def test_irr_multiple_roots_of_even_and_odd_multiplicity() -> None:
    # 1 - 2x + x² = (1 - x)²: a double root at r = 0 where the NPV touches zero without
    # changing sign (a scan of sign changes alone would miss it).
    double = irr([1, -2, 1])
    assert double.roots == pytest.approx((0.0,), abs=1e-7)
    assert double.ambiguous is False
    # -(1 - x)³ and (1 - x)⁴: rounding scatters these into several nearby sign changes,
    # which must come back as one root.
    assert irr([-1, 3, -3, 1]).roots == pytest.approx((0.0,), abs=1e-5)
    assert irr([1, -4, 6, -4, 1]).roots == pytest.approx((0.0,), abs=1e-3)


def test_irr_two_close_roots_stay_apart() -> None:
    # Roots at 10 % and 10.01 %: one grid cell, told apart by the polynomial candidates.
    result = irr(np.poly([1 / 1.1, 1 / 1.1001])[::-1])
    assert result.roots == pytest.approx((0.1, 0.1001), abs=1e-9)


def test_irr_extreme_rates() -> None:
    # -1 then 1e7: r = 9,999,999 (beyond the scan grid, found through the polynomial).
    assert irr([-1, 1e7]).rate == pytest.approx(1e7 - 1, rel=1e-12)
    # Losing almost everything: -1 then 1e-8 ⇔ r = -0.99999999.
    assert irr([-1, 1e-8]).rate == pytest.approx(-0.99999999, rel=1e-14)


def test_irr_leading_and_trailing_zeros_do_not_change_the_roots() -> None:
    plain = irr([-1, 6, -11, 6])
    padded = irr([0, 0, -1, 6, -11, 6, 0, 0, 0])
    assert padded.roots == pytest.approx(plain.roots, abs=1e-13)
    assert irr([0, -100, 110]).rate == pytest.approx(0.1, rel=1e-14)
    # -100 now, 121 after three periods: (1 + r)³ = 1.21.
    assert irr([-100, 0, 0, 121, 0]).rate == pytest.approx(1.21 ** (1 / 3) - 1, rel=1e-14)


def test_irr_accepts_decimal_ints_and_numpy_arrays() -> None:
    assert irr([Decimal("-100"), Decimal("110.0")]).rate == pytest.approx(0.1, rel=1e-14)
    assert irr(np.array([-100.0, 110.0])).rate == pytest.approx(0.1, rel=1e-14)
    assert isinstance(irr([-1, 2]), IRRResult)


def test_irr_long_monthly_series_is_found_with_and_without_the_polynomial() -> None:
    # 30 years of level monthly payments on a 200,000 loan at 0.5 %/month: the IRR is 0.5 %.
    payment = 200000 * 0.005 / (1 - 1.005**-360)
    result = irr([-200000, *[payment] * 360])
    assert result.roots == pytest.approx((0.005,), rel=1e-12)
    long = [-200000, *[200000 * 0.005 / (1 - 1.005**-900)] * 900]
    assert len(long) - 1 > POLY_MAX_DEGREE  # the scan alone
    assert irr(long).roots == pytest.approx((0.005,), rel=1e-12)


# --- no root ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        ([100, 200, 300], "every cash flow has the same sign"),
        ([-100, -1, 0, -5], "every cash flow has the same sign"),
        ([0, 0, 0], "every cash flow is zero"),
        ([-100], "every cash flow has the same sign"),
        ([0], "every cash flow is zero"),
        # 1 - 3x + 3x²: discriminant 9 - 12 < 0, no real root although the signs alternate.
        ([1, -3, 3], "no rate makes NPV zero"),
    ],
)
def test_irr_without_a_root_is_invalid(flows: list[float], message: str) -> None:
    with pytest.raises(Invalid, match=message) as info:
        irr(flows)
    assert info.value.errors[0]["loc"] == ["cashflows"]
    assert info.value.detail.startswith("cashflows: no real IRR")


@pytest.mark.parametrize(
    ("flows", "loc"),
    [([], ["cashflows"]), ([-1, math.nan], ["cashflows", 1]), ([math.inf, 1], ["cashflows", 0])],
)
def test_irr_bad_input(flows: list[float], loc: list[object]) -> None:
    with pytest.raises(Invalid) as info:
        irr(flows)
    assert info.value.errors[0]["loc"] == loc


# --- XIRR ---------------------------------------------------------------------------------

EXCEL_FLOWS = [-10000, 2750, 4250, 3250, 2750]
EXCEL_DATES = [
    date(2008, 1, 1),
    date(2008, 3, 1),
    date(2008, 10, 30),
    date(2009, 2, 15),
    date(2009, 4, 1),
]


def test_xirr_excel_example() -> None:
    # Excel "XIRR function": =XIRR(A3:A7, B3:B7, 0.1) = 0.373362535 (37.34 %). Excel's
    # Newton iteration stops at a 1e-8 tolerance; brentq goes on to 0.3733625335188…,
    # where XNPV is zero to 1e-9 of 10,000 (below).
    rate = xirr(EXCEL_FLOWS, EXCEL_DATES, guess=0.1)
    assert rate == pytest.approx(0.373362535, abs=5e-9)
    assert round(rate, 4) == 0.3734
    assert xnpv(rate, EXCEL_FLOWS, EXCEL_DATES) == pytest.approx(0.0, abs=1e-9)


def test_xirr_by_hand() -> None:
    # -100 then 121 two years (730 days) later is 10 % a year.
    days = [date(2021, 1, 1), date(2023, 1, 1)]  # 730 days (2021, 2022 are not leap years)
    assert xirr([-100, 121], days) == pytest.approx(0.1, rel=1e-14)


def test_xirr_picks_the_root_nearest_the_guess() -> None:
    # Yearly dates 365 days apart make XNPV the polynomial NPV: roots 10 % and 20 %.
    days = [date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)]
    assert xirr([-100, 230, -132], days, guess=0.0) == pytest.approx(0.1, rel=1e-12)
    assert xirr([-100, 230, -132], days, guess=0.5) == pytest.approx(0.2, rel=1e-12)


def test_xirr_errors() -> None:
    days = [date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)]
    with pytest.raises(Invalid, match="same sign"):
        xirr([100, 10, 0], days)
    with pytest.raises(Invalid, match="no rate makes XNPV zero") as info:
        xirr([1, -3, 3], days)
    assert info.value.errors[0]["loc"] == ["cashflows"]
    with pytest.raises(Invalid) as info:
        xirr([-1, 2], days)
    assert info.value.errors[0]["loc"] == ["dates"]
    with pytest.raises(Invalid) as info:
        xirr([-1, 2], days[:2], guess=-1)
    assert info.value.errors[0]["loc"] == ["guess"]
