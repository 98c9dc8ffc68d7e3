"""Property tests (hypothesis) for the TVM functions and the IRR root finder.

- NPV at every IRR root is zero (to 1e-9 of the flows' discounted gross size);
- a series built from known roots gets exactly those roots back, no more, no fewer;
- on integer series the number of roots equals the exact count from Sturm's theorem;
- XNPV at the XIRR is zero;
- PMT, PV, FV and NPER invert one another;
- payback never grows when an inflow grows, and discounting never shortens it;
- the "end" NPV is the "t0" NPV over (1 + r); MIRR at r/r is r for a conventional project.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.finance import (
    discounted_payback,
    fv,
    irr,
    mirr,
    nper,
    npv,
    payback,
    pmt,
    pv,
    xirr,
    xnpv,
)

FAST = settings(max_examples=150, deadline=None)

amounts = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
inflows = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
outlays = st.floats(min_value=-1e6, max_value=-1, allow_nan=False, allow_infinity=False)
rates = st.floats(min_value=-0.5, max_value=2.0, allow_nan=False, allow_infinity=False)


def gross(rate: float, flows: list[float]) -> float:
    return math.fsum(abs(cf) / (1 + rate) ** t for t, cf in enumerate(flows))


def assert_is_root(rate: float, flows: list[float]) -> None:
    """NPV(rate) is zero to 1e-9 of the flows' size, or, where floats are too coarse for
    that (next to -100 % the spacing of r is 1e-16 but 1 + r may be 1e-8), the NPV changes
    sign within a few floats of ``rate``. Roots within 1e-12 of -100 % or above 1e12 (a
    flow of 1e-160 next to one of 47) are beyond what a float NPV can check."""
    if 1 + rate < 1e-12 or rate > 1e12:
        return
    if abs(npv(rate, flows, timing="t0")) <= 1e-9 * gross(rate, flows):
        return
    ulp = math.ulp(rate)
    low = max(rate - 4 * ulp, math.nextafter(-1.0, 0.0))
    high = rate + 4 * ulp
    assert npv(low, flows, timing="t0") * npv(high, flows, timing="t0") <= 0


@FAST
@given(st.lists(amounts, min_size=2, max_size=15))
def test_npv_is_zero_at_every_irr_root(flows: list[float]) -> None:
    try:
        result = irr(flows)
    except Invalid as error:
        # Only refused when there truly is no sign change or no root.
        assert error.errors[0]["loc"] == ["cashflows"]
        return
    assert result.rate in result.roots
    assert list(result.roots) == sorted(result.roots)
    assert result.ambiguous == (len(result.roots) > 1)
    assert all(r > -1 for r in result.roots)
    for root in result.roots:
        assert_is_root(root, flows)


@st.composite
def series_with_known_roots(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    """Flows whose NPV polynomial in x = 1/(1+r) is scale · Π(x - x_i) · extras, where
    the extras have no root x > 0 (a complex pair, or x + a with a > 0)."""
    grid = [round(-0.8 + 0.05 * i, 2) for i in range(60)]  # -80 % … 215 %, 5 points apart
    chosen = sorted(draw(st.lists(st.sampled_from(grid), min_size=1, max_size=4, unique=True)))
    poly = np.poly([1 / (1 + r) for r in chosen])
    if draw(st.booleans()):  # a complex-conjugate pair: x² + b·x + c with b² < 4c
        b = draw(st.floats(min_value=-2, max_value=2))
        c = draw(st.floats(min_value=b * b / 4 + 0.05, max_value=b * b / 4 + 3))
        poly = np.polymul(poly, [1.0, b, c])
    if draw(st.booleans()):  # a root at x < 0, i.e. r < -1: not a rate
        poly = np.polymul(poly, [1.0, draw(st.floats(min_value=0.1, max_value=5))])
    scale = draw(st.sampled_from([-1000.0, -1.0, 1.0, 250.0]))
    return [float(v) for v in scale * poly[::-1]], chosen


@FAST
@given(series_with_known_roots())
def test_irr_finds_exactly_the_roots_a_series_was_built_from(
    case: tuple[list[float], list[float]],
) -> None:
    flows, expected = case
    result = irr(flows)
    assert result.roots == pytest.approx(expected, abs=1e-9)
    nearest = min(abs(r) for r in expected)
    assert abs(result.rate) == pytest.approx(nearest, abs=1e-9)
    if nearest > 0 and -nearest in expected and nearest in expected:  # a tie: positive wins
        assert result.rate > 0


def _remainder(a: list[Fraction], b: list[Fraction]) -> list[Fraction]:
    """a mod b for ascending coefficient lists, exactly."""
    a = list(a)
    while len(a) >= len(b) and a:
        q, k = a[-1] / b[-1], len(a) - len(b)
        for i, c in enumerate(b):
            a[i + k] -= q * c
        a.pop()
        while a and a[-1] == 0:
            a.pop()
    return a


def sturm_positive_roots(flows: list[int]) -> int:
    """Distinct real roots x > 0 of Σ flows[t]·x^t (i.e. IRRs r > -1), counted exactly with
    a Sturm sequence over the rationals: the sign changes just right of 0 minus those at +∞."""
    p = [Fraction(c) for c in flows]
    while p and p[-1] == 0:
        p.pop()
    if len(p) <= 1:
        return 0
    chain = [p, [i * c for i, c in enumerate(p)][1:]]
    while True:
        rest = _remainder(chain[-2], chain[-1])
        if not rest:
            break
        chain.append([-c for c in rest])

    def changes(signs: list[int]) -> int:
        nonzero = [s for s in signs if s]
        return sum(1 for a, b in itertools.pairwise(nonzero) if a != b)

    near_zero = [next((1 if c > 0 else -1 for c in q if c != 0), 0) for q in chain]
    at_infinity = [1 if q[-1] > 0 else -1 for q in chain]
    return changes(near_zero) - changes(at_infinity)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=14))
def test_irr_root_count_matches_sturms_theorem(flows: list[int]) -> None:
    expected = sturm_positive_roots(flows[next((i for i, c in enumerate(flows) if c), 0) :])
    try:
        found = len(irr(flows).roots)
    except Invalid:
        found = 0
    assert found == expected


@FAST
@given(st.lists(amounts, min_size=2, max_size=10), st.integers(0, 3), st.integers(0, 3))
def test_irr_ignores_scale_and_zero_padding(flows: list[float], lead: int, trail: int) -> None:
    try:
        plain = irr(flows)
    except Invalid:
        return
    padded = irr([0.0] * lead + [cf * 3.5 for cf in flows] + [0.0] * trail)
    assert padded.roots == pytest.approx(plain.roots, rel=1e-7, abs=1e-9)


@FAST
@given(
    outlays,
    st.lists(inflows, min_size=1, max_size=10),
    st.lists(st.integers(30, 400), min_size=10, max_size=10),
)
def test_xnpv_is_zero_at_the_xirr(first: float, rest: list[float], gaps: list[int]) -> None:
    # Inflows within 1/5 … 5 times the outlay, a month or more apart: the XIRR then lies
    # between -1 + 3e-9 and 3e8 (returns of -2 → +1 a day later are -100 % to 110 digits).
    assume(-first / 5 <= sum(rest) <= -first * 5)
    flows = [first, *rest]
    days = [date(2020, 1, 1)]
    for gap in gaps[: len(rest)]:
        days.append(days[-1] + timedelta(days=gap))
    rate = xirr(flows, days)
    years = [(d - days[0]).days / 365 for d in days]
    size = math.fsum(abs(cf) / (1 + rate) ** t for cf, t in zip(flows, years, strict=True))
    assert abs(xnpv(rate, flows, days)) <= 1e-9 * size


@FAST
@given(
    st.one_of(st.just(0.0), st.floats(min_value=1e-4, max_value=0.2)),
    st.integers(1, 480),
    st.floats(min_value=-1e6, max_value=1e6),
    st.floats(min_value=-1e5, max_value=1e5),
    st.sampled_from(["end", "begin"]),
)
def test_annuity_functions_invert_one_another(
    rate: float, periods: int, present: float, future: float, when: str
) -> None:
    payment = pmt(rate, periods, present, future, when)  # type: ignore[arg-type]
    size = abs(present) * (1 + rate) ** periods + abs(future) + 1.0
    assert fv(rate, periods, payment, present, when) == pytest.approx(  # type: ignore[arg-type]
        future, abs=1e-9 * size
    )
    assert pv(rate, periods, payment, future, when) == pytest.approx(  # type: ignore[arg-type]
        present, abs=1e-9 * size
    )
    # NPER is ill-conditioned when the payment barely moves the balance.
    assume(abs(payment) * periods > 1e-3 * size)
    assert nper(rate, payment, present, future, when) == pytest.approx(  # type: ignore[arg-type]
        periods, rel=1e-6
    )


@FAST
@given(
    outlays,
    st.lists(amounts, min_size=1, max_size=12),
    st.data(),
    st.floats(min_value=0, max_value=1e6),
)
def test_payback_never_grows_when_an_inflow_grows(
    first: float, rest: list[float], data: st.DataObject, extra: float
) -> None:
    flows = [first, *rest]
    index = data.draw(st.integers(1, len(flows) - 1))
    better = list(flows)
    better[index] += extra
    before, after = payback(flows), payback(better)
    if before is not None:
        assert after is not None
        assert after <= before + 1e-12
    if after is not None:
        assert 0 < after <= len(flows) - 1


@FAST
@given(outlays, st.lists(inflows, min_size=1, max_size=12), st.floats(0, 0.5))
def test_discounting_never_shortens_a_conventional_payback(
    first: float, rest: list[float], rate: float
) -> None:
    flows = [first, *rest]
    simple, discounted = payback(flows), discounted_payback(rate, flows)
    if discounted is not None:
        assert simple is not None
        assert simple <= discounted + 1e-9


@FAST
@given(rates, st.lists(amounts, min_size=1, max_size=20))
def test_end_timing_is_t0_timing_discounted_one_period(rate: float, flows: list[float]) -> None:
    t0, end = npv(rate, flows, timing="t0"), npv(rate, flows, timing="end")
    assert end == pytest.approx(t0 / (1 + rate), rel=1e-9, abs=1e-9 * gross(rate, flows))


@FAST
@given(outlays, st.lists(inflows, min_size=1, max_size=10))
def test_mirr_at_the_irr_is_the_irr_for_a_conventional_project(
    first: float, rest: list[float]
) -> None:
    assume(sum(rest) > 1e-3 and rest[-1] > 1e-6 * sum(rest))
    flows = [first, *rest]
    rate = irr(flows).rate
    assume(rate > -0.99)
    assert mirr(flows, rate, rate) == pytest.approx(rate, rel=1e-7, abs=1e-9)
