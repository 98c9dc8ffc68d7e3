"""Regressions found in the finance engine review: one test per bug, each saying what it
did before. Overflow cases use figures near the float limits (1e308, 5e-324): they used
to escape as ``OverflowError`` / ``ZeroDivisionError`` / ``ValueError`` (a 500 from the
calc API) or as an ``inf`` that JSON turned into a silent null."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance import (
    AccretionInputs,
    AcquiredCompany,
    Acquirer,
    Consideration,
    Peer,
    SynergyInputs,
    Target,
    accretion_dilution,
    comps,
    irr,
    mirr,
    npv,
    payback,
    pmt,
    synergies,
    xirr,
)
from novacron.corporate.finance.comps import NM
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf
from novacron.corporate.finance.montecarlo import LogNormal, Normal, Uniform, monte_carlo
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth


def loc(exc: pytest.ExceptionInfo[Invalid]) -> list[object]:
    return list(exc.value.errors[0]["loc"])


# ------------------------------------------------------------------ IRR


@pytest.mark.parametrize("gap", [1e-5, 1e-6])
def test_irr_keeps_two_genuine_close_roots_apart(gap: float) -> None:
    # Roots at 10 % and 10 % + gap: the NPV dips below zero between them by ~1e-13 of the
    # flows' size, 1,000x rounding noise. A flat 1e-11 "same root" threshold merged them
    # into one and reported ambiguous=False.
    result = irr(np.poly([1 / 1.1, 1 / (1.1 + gap)])[::-1])
    assert result.roots == pytest.approx((0.1, 0.1 + gap), abs=1e-9)
    assert result.ambiguous is True


def test_irr_of_flows_near_the_float_limit() -> None:
    # math.fsum raised OverflowError on 1e308 - 1e308 sums; the flows are now scaled.
    assert irr([1e308, -1e308]).roots == (0.0,)
    # -1 + x + x² = 0 ⇔ x = (√5 − 1)/2 ⇔ r = the golden ratio − 1
    assert irr([-1e308, 1e308, 1e308]).rate == pytest.approx((1 + 5**0.5) / 2 - 1, rel=1e-12)


def test_xirr_of_flows_near_the_float_limit() -> None:
    from datetime import date

    days = [date(2021, 1, 1), date(2022, 1, 1)]
    assert xirr([-1e308, 1.1e308], days) == pytest.approx(0.1, rel=1e-12)


# ------------------------------------------------------------------ TVM


def test_npv_and_mirr_overflow_is_invalid_not_overflow_error() -> None:
    with pytest.raises(Invalid) as exc:
        npv(0.1, [1e308, 1e308], timing="t0")
    assert loc(exc) == ["rate"]
    with pytest.raises(Invalid) as exc:
        mirr([-1e308, 1e308, 1e308], 0.1, 0.1)
    assert loc(exc) == ["reinvest_rate"]


def test_pmt_at_a_vanishing_rate_is_the_zero_rate_payment() -> None:
    # expm1(n·log1p(r)) / r was expm1(0) / 5e-324 = 0, then a ZeroDivisionError.
    assert pmt(5e-324, 0.025, 1000) == pytest.approx(-1000 / 0.025, rel=1e-12)
    assert pmt(1e-300, 12, 1200) == pytest.approx(-100.0, rel=1e-12)
    # and the stable form still matches the closed form at ordinary rates (Excel PMT help)
    assert pmt(0.08 / 12, 10, 10000) == pytest.approx(-1037.03, abs=5e-3)
    # at 1e-9 a period the payment is the zero-rate one plus half a period of interest
    assert pmt(1e-9, 12, 1200) == pytest.approx(-100 * (1 + 6.5e-9), rel=1e-12)
    with pytest.raises(Invalid) as exc:
        pmt(0.01, 5e-324, 1000)
    assert loc(exc) == ["nper"]


def test_payback_running_total_overflow_is_invalid() -> None:
    # the running total reached -inf and the answer was None ("never recovered")
    with pytest.raises(Invalid) as exc:
        payback([-1e308, -1e308, 1e308, 1e308])
    assert loc(exc) == ["cashflows"]


# ------------------------------------------------------------------ DCF


def model(**changes: object) -> DCFInputs:
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


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"base_revenue": 1e300, "revenue_growth": (1e10, 0.1)}, ["revenue_growth", 0]),
        ({"ebitda_margin": -1e308}, ["ebitda_margin"]),
        ({"terminal": ExitMultiple(1e308)}, ["terminal", "ev_ebitda"]),
        ({"shares": DilutedShares(5e-324)}, ["shares", "basic"]),
        ({"net_debt": -1e308, "non_operating_assets": 1e308}, ["net_debt"]),
    ],
)
def test_dcf_overflow_names_the_driver(changes: dict[str, object], where: list[object]) -> None:
    # these gave an inf enterprise value or price, which JSON turned into a null
    with pytest.raises(Invalid) as exc:
        dcf(model(**changes))
    assert loc(exc) == where


# ------------------------------------------------------------------ Monte Carlo


def test_monte_carlo_refuses_a_negative_seed_by_name() -> None:
    # numpy's default_rng raised a bare ValueError
    with pytest.raises(Invalid) as exc:
        monte_carlo(model(), {"wacc": Normal(0.1, 0.01)}, paths=10, seed=-1)
    assert loc(exc) == ["seed"]


def test_monte_carlo_accepts_a_negative_zero_spread() -> None:
    # -0.0 passed the "sd >= 0" check, then numpy raised ValueError("scale < 0")
    result = monte_carlo(
        model(), {"wacc": Normal(0.1, -0.0), "exit_multiple": LogNormal(2.0, -0.0)}, paths=10
    )
    ev = dcf(model(wacc=0.1, terminal=ExitMultiple(math.exp(2.0)))).enterprise_value
    assert result.enterprise_value.mean == pytest.approx(ev, rel=1e-12)


def test_monte_carlo_excludes_and_counts_overflowing_paths() -> None:
    # EV ≈ 30 × the multiple, so exp(N(700, 5)) overflows it when the draw passes
    # log(1.8e308 / 30) = 706.4, i.e. Z > 1.28: on ~10 % of the paths. Those are invalid
    # paths, counted with their reason, not infs in the percentiles, nor an inf mean.
    result = monte_carlo(model(), {"exit_multiple": LogNormal(700.0, 5.0)}, paths=2000)
    reasons = dict(result.invalid_reasons)
    assert reasons["the valuation overflows a float"] == result.invalid_paths
    assert 150 < result.invalid_paths < 260
    assert result.valid_paths + result.invalid_paths == 2000
    ev = result.enterprise_value
    assert all(math.isfinite(x) for x in (ev.mean, ev.std, ev.max, *dict(ev.percentiles).values()))


def test_monte_carlo_distribution_parameters_and_percentiles() -> None:
    # EV is affine in the exit multiple: EV = Σ PV(FCFF) + EBITDA_N × m / 1.1², so the EV
    # percentiles are the multiple's. Uniform(8, 12): mean 10, sd 4/√12, p25 9, p75 11.
    m = model()
    at = {k: dcf(model(terminal=ExitMultiple(k))).enterprise_value for k in (0.0 + 1, 2.0)}
    slope, intercept = at[2.0] - at[1.0], 2 * at[1.0] - at[2.0]
    ev = monte_carlo(m, {"exit_multiple": Uniform(8.0, 12.0)}, paths=400_000, seed=3)
    s = ev.enterprise_value
    assert (s.mean - intercept) / slope == pytest.approx(10.0, abs=0.01)
    assert s.std / slope == pytest.approx(4 / 12**0.5, rel=0.005)
    assert (s.percentile(25) - intercept) / slope == pytest.approx(9.0, abs=0.02)
    assert (s.percentile(75) - intercept) / slope == pytest.approx(11.0, abs=0.02)
    # LogNormal(mu, sigma) is exp(Normal(mu, sigma)): the median multiple is e^mu
    ln = monte_carlo(m, {"exit_multiple": LogNormal(math.log(9.0), 0.2)}, paths=400_000)
    assert (ln.enterprise_value.percentile(50) - intercept) / slope == pytest.approx(9, rel=3e-3)
    # Gordon-growth models are untouched by an exit-multiple draw: refused by name
    with pytest.raises(Invalid) as exc:
        monte_carlo(model(terminal=GordonGrowth(0.02)), {"exit_multiple": Uniform(8, 12)})
    assert loc(exc) == ["distributions", "exit_multiple"]


# ------------------------------------------------------------------ synergies


SYNERGY = SynergyInputs(
    "USD", 0.09, 0.25, cost_run_rate=50, cost_phase_in=(0.5, 1.0), terminal_growth=0.02
)


def test_synergies_at_an_absurd_discount_rate_are_worth_nothing() -> None:
    # 1 / (1 + r) ** y raised OverflowError for r = 1e308
    result = synergies(dataclasses.replace(SYNERGY, discount_rate=1e308, terminal_growth=None))
    assert result.npv == pytest.approx(0.0, abs=1e-300)


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"terminal_growth": -2.0}, ["terminal_growth"]),  # (1 + g) < 0 flipped the TV's sign
        ({"cost_run_rate": 1e308}, ["terminal_growth"]),  # TV overflowed to inf
        ({"revenue_run_rate": -1e308, "revenue_margin": 1e10, "revenue_phase_in": (1.0,)},
         ["revenue_margin"]),
    ],
)  # fmt: skip
def test_synergy_refusals_name_the_field(changes: dict[str, object], where: list[str]) -> None:
    with pytest.raises(Invalid) as exc:
        synergies(dataclasses.replace(SYNERGY, **changes))  # type: ignore[arg-type]
    assert loc(exc) == where


# ------------------------------------------------------------------ accretion / comps

DEAL = AccretionInputs(
    Acquirer("USD", 500, 100, 50, 0.25),
    AcquiredCompany("USD", 100, purchase_price=1500),
    Consideration(0.0, 0.5, 0.5),
    debt_interest_rate=0.06,
)


@pytest.mark.parametrize(
    ("inputs", "where"),
    [
        # 750 / 5e-324 new shares was inf: an accretion of -100 % and break-even of inf
        (dataclasses.replace(DEAL, acquirer=Acquirer("USD", 500, 100, 5e-324, 0.25)),
         ["acquirer", "share_price"]),
        (dataclasses.replace(DEAL, debt_interest_rate=1e308), ["synergies"]),
        # a rate of -150 % was accepted
        (dataclasses.replace(DEAL, debt_interest_rate=-1.5), ["debt_interest_rate"]),
        (dataclasses.replace(DEAL, acquirer=Acquirer("USD", 500, 100, 50, 0.25,
                                                     interest_rate_on_cash=-1)),
         ["acquirer", "interest_rate_on_cash"]),
    ],
)  # fmt: skip
def test_accretion_refusals_name_the_field(inputs: AccretionInputs, where: list[str]) -> None:
    with pytest.raises(Invalid) as exc:
        accretion_dilution(inputs)
    assert loc(exc) == where


def test_comps_overflowing_multiple_is_nm_and_counted() -> None:
    # 100 / 5e-324 = inf was kept as a multiple (and broke the mean and the max)
    result = comps(
        [Peer("A", "EUR", 100, ebitda=5e-324), Peer("B", "EUR", 120, ebitda=10)],
        Target("EUR", ebitda=5),
    )
    assert result.peers[0].ev_ebitda == NM
    assert (result.summary["ev_ebitda"].n, result.summary["ev_ebitda"].nm_count) == (1, 1)
    assert result.summary["ev_ebitda"].max == 12.0
    with pytest.raises(Invalid) as exc:
        comps([Peer("B", "EUR", 120, ebitda=1e-300)], Target("EUR", ebitda=1e300))
    assert loc(exc) == ["target", "ebitda"]


def test_comps_bool_is_not_a_number() -> None:
    # True passed the old isinstance(int | float) check as an EBITDA of 1
    with pytest.raises(Invalid) as exc:
        comps([Peer("A", "EUR", 100, ebitda=True)])  # type: ignore[arg-type]
    assert loc(exc) == ["peers", 0, "ebitda"]
