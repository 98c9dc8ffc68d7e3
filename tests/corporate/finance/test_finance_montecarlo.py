"""Monte Carlo: agreement with the single DCF path by path, reproducibility, invalid paths."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf
from novacron.corporate.finance.montecarlo import (
    Distribution,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    monte_carlo,
)
from novacron.corporate.finance.sensitivity import DRIVERS, with_drivers
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth


def model(terminal: GordonGrowth | ExitMultiple | None = None) -> DCFInputs:
    return DCFInputs(
        currency="USD",
        base_revenue=1_000.0,
        revenue_growth=(0.12, 0.10, 0.08, 0.06, 0.04),
        ebitda_margin=(0.20, 0.21, 0.22, 0.23, 0.24),
        da_pct_revenue=0.03,
        capex_pct_revenue=0.04,
        nwc_pct_revenue=0.10,
        tax_rate=0.25,
        wacc=0.09,
        terminal=terminal or GordonGrowth(0.025),
        mid_year=True,
        net_debt=300.0,
        shares=DilutedShares(100.0, options=((5.0, 10.0), (5.0, 20.0), (3.0, 40.0)), rsus=2.0),
    )


def test_zero_variance_equals_the_deterministic_dcf() -> None:
    m = model()
    result = monte_carlo(
        m,
        {
            "wacc": Normal(0.09, 0.0),
            "terminal_growth": Triangular(0.025, 0.025, 0.025),
            "ebitda_margin": Uniform(0.20, 0.20),
            "revenue_growth": LogNormal(math.log(0.12), 0.0),
            "net_debt": Normal(300.0, 0.0),
        },
        paths=1_001,
    )
    base = dcf(m)
    assert result.valid_paths == 1_001 and result.invalid_paths == 0
    ev, vps = result.enterprise_value, result.value_per_share
    assert ev.percentile(50) == pytest.approx(base.enterprise_value, rel=1e-12)
    assert vps.percentile(50) == pytest.approx(base.value_per_share, rel=1e-12)
    assert result.equity_value.mean == pytest.approx(base.equity_value, rel=1e-12)
    assert ev.std == pytest.approx(0.0, abs=1e-9)


def test_seeded_runs_are_reproducible_and_percentiles_ordered() -> None:
    dists: dict[str, Distribution] = {
        "wacc": Normal(0.09, 0.01),
        "ebitda_margin": Triangular(0.15, 0.2, 0.24),
    }
    a = monte_carlo(model(), dists, paths=20_000, seed=7)
    b = monte_carlo(model(), dists, paths=20_000, seed=7)
    c = monte_carlo(model(), dists, paths=20_000, seed=8)
    assert a == b
    assert a.enterprise_value.mean != c.enterprise_value.mean
    for summary in (a.enterprise_value, a.equity_value, a.value_per_share):
        values = [v for _, v in summary.percentiles]
        assert values == sorted(values)
        assert summary.min <= values[0] and values[-1] <= summary.max
    assert [p for p, _ in a.enterprise_value.percentiles] == [5, 10, 25, 50, 75, 90, 95]


def test_every_path_matches_a_single_dcf() -> None:
    # Re-draw the samples as documented (one default_rng(seed), a full vector per driver in
    # the mapping's order) and run the ordinary DCF on each path: same validity, same values.
    m = model()
    dists: dict[str, Distribution] = {
        "wacc": Normal(0.05, 0.02),  # often below the 2.5 % growth: invalid paths
        "terminal_growth": Uniform(0.0, 0.04),
        "tax_rate": Normal(0.25, 0.5),  # sometimes outside [0, 1)
    }
    paths = 301
    result = monte_carlo(m, dists, paths=paths, seed=3, percentiles=(0, 50, 100))
    rng = np.random.default_rng(3)
    w = rng.normal(0.05, 0.02, paths)
    g = rng.uniform(0.0, 0.04, paths)
    t = rng.normal(0.25, 0.5, paths)
    evs = []
    for i in range(paths):
        try:
            evs.append(dcf(with_drivers(m, wacc=w[i], terminal_growth=g[i], tax_rate=t[i])))
        except Invalid:
            continue
    assert result.valid_paths == len(evs) and 0 < len(evs) < paths
    assert result.invalid_paths == paths - len(evs)
    assert result.invalid_share == pytest.approx((paths - len(evs)) / paths)
    reasons = dict(result.invalid_reasons)
    assert reasons["WACC must exceed the terminal growth rate"] == int(np.sum(w <= g))
    assert reasons["tax rate must be in [0, 1)"] == int(np.sum((t < 0) | (t >= 1)))
    ev = sorted(r.enterprise_value for r in evs)
    vps = sorted(r.value_per_share for r in evs)
    assert result.enterprise_value.min == pytest.approx(ev[0], rel=1e-12)
    assert result.enterprise_value.max == pytest.approx(ev[-1], rel=1e-12)
    assert result.enterprise_value.mean == pytest.approx(float(np.mean(ev)), rel=1e-12)
    assert result.enterprise_value.percentile(50) == pytest.approx(float(np.median(ev)), rel=1e-12)
    assert result.value_per_share.percentile(50) == pytest.approx(float(np.median(vps)), rel=1e-12)


def test_median_of_a_monotone_driver_maps_through() -> None:
    # EV is increasing in the exit multiple, so with an odd path count the median EV is the
    # EV at the median sampled multiple (order statistics are preserved).
    m = model(ExitMultiple(9.0))
    result = monte_carlo(m, {"exit_multiple": LogNormal(math.log(9.0), 0.2)}, paths=10_001, seed=1)
    multiple = float(np.median(np.random.default_rng(1).lognormal(math.log(9.0), 0.2, 10_001)))
    expected = dcf(with_drivers(m, exit_multiple=multiple)).enterprise_value
    assert result.enterprise_value.percentile(50) == pytest.approx(expected, rel=1e-12)
    assert result.invalid_paths == 0


def test_invalid_share_is_the_probability_of_wacc_below_growth() -> None:
    # wacc ~ N(4 %, 2 %) with g = 2.5 %: P(wacc <= g) = Φ(−0.75) = 0.2266
    result = monte_carlo(model(), {"wacc": Normal(0.04, 0.02)}, paths=200_000)
    assert result.invalid_share == pytest.approx(0.2266, abs=0.005)


def test_every_driver_is_simulated() -> None:
    for name, d in DRIVERS.items():
        m = model(ExitMultiple(9.0) if name == "exit_multiple" else None)
        value = d.get(m) + 0.01
        result = monte_carlo(m, {name: Normal(value, 0.0)}, paths=3)
        expected = dcf(with_drivers(m, **{name: value}))
        assert result.value_per_share.mean == pytest.approx(expected.value_per_share, rel=1e-12)


def test_refusals() -> None:
    m = model()
    cases: list[tuple[dict[str, Any], dict[str, Any], list[str | int]]] = [
        ({"beta": Normal(1, 0.1)}, {}, ["distributions", "beta"]),
        ({"exit_multiple": Normal(9, 1)}, {}, ["distributions", "exit_multiple"]),
        ({"wacc": Normal(0.09, -0.01)}, {}, ["distributions", "wacc", "sd"]),
        ({"wacc": Triangular(0.1, 0.05, 0.12)}, {}, ["distributions", "wacc", "mode"]),
        ({"wacc": Uniform(0.1, 0.05)}, {}, ["distributions", "wacc", "high"]),
        ({"wacc": Normal(float("nan"), 0.1)}, {}, ["distributions", "wacc", "mean"]),
        ({"wacc": (0.09, 0.01)}, {}, ["distributions", "wacc"]),
        ({}, {}, ["distributions"]),
        ({"wacc": Normal(0.09, 0.01)}, {"paths": 0}, ["paths"]),
        ({"wacc": Normal(0.09, 0.01)}, {"percentiles": (50, 101)}, ["percentiles", 1]),
        ({"wacc": Normal(0.01, 0.0)}, {}, ["distributions"]),  # every path invalid
    ]
    for dists, kwargs, loc in cases:
        with pytest.raises(Invalid) as exc:
            monte_carlo(m, dists, **{"paths": 100, **kwargs})
        assert exc.value.errors[0]["loc"] == loc, (dists, kwargs)


def test_invalid_base_model_refused() -> None:
    bad = with_drivers(model(), terminal_growth=0.2)
    with pytest.raises(Invalid) as exc:
        monte_carlo(bad, {"wacc": Normal(0.3, 0.01)}, paths=10)
    assert exc.value.errors[0]["loc"] == ["terminal", "growth"]
