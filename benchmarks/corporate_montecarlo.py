"""Monte Carlo DCF benchmark: 1,000,000 paths in <= 1 s, against a per-path Python loop.

    .venv/bin/python benchmarks/corporate_montecarlo.py [--quick] [--paths N] [--runs N]
        [--naive-paths N] [--seed S]

The model: a 5-year DCF (growth and margin paths, D&A, capex, NWC, tax, mid-year, Gordon
terminal value, net debt, three option tranches and RSUs for the treasury stock method)
with four stochastic drivers: WACC ~ Normal, terminal growth ~ Triangular, EBITDA margin ~
Normal, revenue growth ~ Uniform (some paths have WACC <= g and are excluded and counted).

Measured in the same run:

1. ``monte_carlo``: one warm-up run, then the median wall time of ``--runs`` runs
   (7, or 3 with ``--quick``) at ``--paths`` (1,000,000), against the target of 1 s.
2. Baseline: the naive way, a Python loop over paths calling ``with_drivers`` + ``dcf`` on
   the same samples for ``--naive-paths`` paths (5,000, or 1,000 with ``--quick``),
   extrapolated linearly to ``--paths``; and one deterministic ``dcf`` call (median of
   200). The Monte Carlo run on those same paths must give the same median EV.

Progress goes to stderr; the result is one JSON object, the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from novacron.core.errors import Invalid
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf
from novacron.corporate.finance.montecarlo import (
    Distribution,
    Normal,
    Triangular,
    Uniform,
    monte_carlo,
)
from novacron.corporate.finance.sensitivity import with_drivers
from novacron.corporate.finance.terminal import GordonGrowth

TARGET_S = 1.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def model() -> DCFInputs:
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
        terminal=GordonGrowth(0.025),
        mid_year=True,
        net_debt=300.0,
        shares=DilutedShares(100.0, options=((5.0, 10.0), (5.0, 20.0), (3.0, 40.0)), rsus=2.0),
    )


DISTRIBUTIONS: dict[str, Distribution] = {
    "wacc": Normal(0.09, 0.015),
    "terminal_growth": Triangular(0.01, 0.025, 0.04),
    "ebitda_margin": Normal(0.20, 0.02),
    "revenue_growth": Uniform(0.06, 0.18),
}


def time_monte_carlo(paths: int, runs: int, seed: int) -> dict[str, Any]:
    inputs = model()
    monte_carlo(inputs, DISTRIBUTIONS, paths=paths, seed=seed)  # warm-up
    times = []
    result = None
    for i in range(runs):
        start = time.perf_counter()
        result = monte_carlo(inputs, DISTRIBUTIONS, paths=paths, seed=seed + i)
        times.append(time.perf_counter() - start)
        log(f"monte_carlo {paths:,} paths: {times[-1]:.3f} s")
    assert result is not None
    median = statistics.median(times)
    return {
        "paths": paths,
        "runs": runs,
        "seconds": [round(t, 4) for t in times],
        "median_s": round(median, 4),
        "paths_per_s": round(paths / median),
        "target_s": TARGET_S,
        "within_target": median <= TARGET_S,
        "invalid_share": round(result.invalid_share, 5),
        "ev_p5_p50_p95": [round(result.enterprise_value.percentile(p), 2) for p in (5, 50, 95)],
    }


def naive_loop(paths: int, seed: int) -> tuple[float, list[float]]:
    """The baseline: one ``dcf`` per path in Python, on the samples ``monte_carlo`` draws."""
    inputs = model()
    rng = np.random.default_rng(seed)
    samples = {name: dist.sample(rng, paths) for name, dist in DISTRIBUTIONS.items()}
    values = []
    start = time.perf_counter()
    for i in range(paths):
        drivers = {name: float(v[i]) for name, v in samples.items()}
        try:
            values.append(dcf(with_drivers(inputs, **drivers)).enterprise_value)
        except Invalid:
            continue
    return time.perf_counter() - start, values


def baselines(paths: int, naive_paths: int, seed: int) -> dict[str, Any]:
    seconds, values = naive_loop(naive_paths, seed)
    per_path = seconds / naive_paths
    log(f"naive loop {naive_paths:,} paths: {seconds:.3f} s ({per_path * 1e6:.1f} µs/path)")
    check = monte_carlo(model(), DISTRIBUTIONS, paths=naive_paths, seed=seed, percentiles=(50,))
    agrees = bool(
        np.isclose(check.enterprise_value.percentile(50), float(np.median(values)), rtol=1e-9)
        and check.valid_paths == len(values)
    )
    single = []
    inputs = model()
    for _ in range(200):
        start = time.perf_counter()
        dcf(inputs)
        single.append(time.perf_counter() - start)
    return {
        "naive_paths": naive_paths,
        "naive_s": round(seconds, 4),
        "naive_us_per_path": round(per_path * 1e6, 2),
        "naive_extrapolated_s": round(per_path * paths, 2),
        "single_dcf_us": round(statistics.median(single) * 1e6, 2),
        "agrees_with_naive": agrees,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs, 1,000 naive paths")
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--naive-paths", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 3 if args.quick else 7
    if args.naive_paths is None:
        args.naive_paths = 1_000 if args.quick else 5_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {"benchmark": "corporate_montecarlo", "quick": args.quick}
    results["cpus"] = os.cpu_count()
    results["numpy"] = np.__version__
    results.update(time_monte_carlo(args.paths, args.runs, args.seed))
    results.update(baselines(args.paths, args.naive_paths, args.seed))
    results["speedup_vs_naive"] = round(results["naive_extrapolated_s"] / results["median_s"], 1)
    results["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
