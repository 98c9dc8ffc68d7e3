"""Monte Carlo over DCF driver distributions, vectorised with numpy.

Each stochastic driver (a name from :data:`~novacron.corporate.finance.sensitivity.DRIVERS`)
gets a distribution; ``paths`` values of each are drawn from one
``numpy.random.default_rng(seed)`` in the mapping's order, a full vector per driver, so a
seeded run is reproducible. The DCF of every path is the same :func:`dcf.project` the single
DCF uses, run on arrays one year at a time over chunks of paths (no Python loop over paths,
no paths × years array; chunks stay in cache). Paths where the sampled model is inconsistent
(WACC <= g, tax outside [0, 1), ...: the checks of :func:`dcf.validate`) are excluded from
the statistics and counted by reason.

Percentiles use numpy's default "linear" method (Hyndman & Fan type 7, as Excel's
PERCENTILE.INC); the standard deviation is the sample one (ddof = 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from novacron.core.errors import Invalid

from .dcf import DCFInputs, bridge, project, shifted, solve_price, validate
from .drivers import driver
from .terminal import GordonGrowth
from .tvm import as_number, invalid

Array = NDArray[np.float64]
DEFAULT_PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
CHUNK = 1 << 13
"""Paths per chunk: 64 KiB arrays stay below glibc's mmap threshold and in L2, which
measured 2.3x faster here than 64k-path chunks (fresh mmap'd arrays page-fault)."""
MAX_PATHS = 20_000_000
_OVERFLOW = "the valuation overflows a float"
"""The reason of paths whose sampled drivers give a non-finite EV, equity or price."""


def _finite(loc: list[str | int], **values: float) -> None:
    for name, v in values.items():
        as_number(v, [*loc, name])


def _order(loc: list[str | int], msg: str, ok: bool) -> None:
    if not ok:
        raise invalid(loc, msg)


@dataclass(frozen=True, slots=True)
class Normal:
    mean: float
    sd: float

    def check(self, loc: list[str | int]) -> None:
        _finite(loc, mean=self.mean, sd=self.sd)
        _order([*loc, "sd"], "standard deviation cannot be negative", self.sd >= 0)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.normal(self.mean, self.sd + 0.0, n)  # + 0.0: numpy refuses -0.0


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def check(self, loc: list[str | int]) -> None:
        _finite(loc, low=self.low, high=self.high)
        _order([*loc, "high"], "high must be >= low", self.low <= self.high)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True, slots=True)
class Triangular:
    low: float
    mode: float
    high: float

    def check(self, loc: list[str | int]) -> None:
        _finite(loc, low=self.low, mode=self.mode, high=self.high)
        _order([*loc, "mode"], "need low <= mode <= high", self.low <= self.mode <= self.high)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        if self.low == self.high:  # numpy refuses a zero-width triangle
            return np.full(n, float(self.mode))
        return rng.triangular(self.low, self.mode, self.high, n)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """``exp(Normal(mu, sigma))``: positive and right-skewed (e.g. an exit multiple)."""

    mu: float
    sigma: float

    def check(self, loc: list[str | int]) -> None:
        _finite(loc, mu=self.mu, sigma=self.sigma)
        _order([*loc, "sigma"], "sigma cannot be negative", self.sigma >= 0)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.lognormal(self.mu, self.sigma + 0.0, n)


Distribution = Normal | Uniform | Triangular | LogNormal


@dataclass(frozen=True, slots=True)
class Summary:
    mean: float
    std: float
    min: float
    max: float
    percentiles: tuple[tuple[float, float], ...]
    """``(p, value)`` pairs in the order asked."""

    def percentile(self, p: float) -> float:
        for q, value in self.percentiles:
            if q == p:
                return value
        raise KeyError(p)


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    currency: str
    paths: int
    seed: int
    valid_paths: int
    invalid_paths: int
    invalid_share: float
    invalid_reasons: tuple[tuple[str, int], ...]
    """Paths per reason (a path can fail several checks, so these may sum to more)."""
    enterprise_value: Summary
    equity_value: Summary
    value_per_share: Summary
    percentile_method: str = "linear (Hyndman-Fan type 7, Excel PERCENTILE.INC)"


def _check_request(
    inputs: DCFInputs,
    distributions: Mapping[str, Distribution],
    paths: int,
    seed: int,
    percentiles: Sequence[float],
) -> None:
    validate(inputs)
    if not distributions:
        msg = "give at least one driver distribution"
        raise Invalid(msg, errors=[{"loc": ["distributions"], "msg": msg}])
    for name, dist in distributions.items():
        driver(inputs, name, ("distributions", name))
        if not isinstance(dist, Normal | Uniform | Triangular | LogNormal):
            msg = "Normal, Uniform, Triangular or LogNormal"
            raise Invalid(
                f"distributions.{name}: {msg}",
                errors=[{"loc": ["distributions", name], "msg": msg}],
            )
        dist.check(["distributions", name])
    ok = isinstance(paths, int) and not isinstance(paths, bool) and 1 <= paths <= MAX_PATHS
    _order(["paths"], f"an integer from 1 to {MAX_PATHS:,}", ok)
    good_seed = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    _order(["seed"], "a non-negative integer (numpy's generator takes no other)", good_seed)
    for i, p in enumerate(percentiles):
        good = isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 100
        _order(["percentiles", i], "a percentile in [0, 100]", good)


def invalid_masks(inputs: DCFInputs, samples: Mapping[str, Array]) -> dict[str, NDArray[np.bool_]]:
    """Per reason, the paths whose sampled drivers break a check of :func:`dcf.validate`.

    Only sampled drivers are checked: the unmoved inputs were validated already.
    """
    s = samples
    if not s:
        return {}
    wacc = s.get("wacc", inputs.wacc)
    masks: dict[str, NDArray[np.bool_] | bool] = {}
    if "wacc" in s:
        masks["WACC must be positive"] = s["wacc"] <= 0
    if isinstance(inputs.terminal, GordonGrowth) and ("wacc" in s or "terminal_growth" in s):
        g = s.get("terminal_growth", inputs.terminal.growth)
        masks["WACC must exceed the terminal growth rate"] = np.asarray(wacc) <= g
        masks["terminal growth must be above -100%"] = np.asarray(g) <= -1
    if "exit_multiple" in s:
        masks["exit multiple must be positive"] = s["exit_multiple"] <= 0
    if "tax_rate" in s:
        masks["tax rate must be in [0, 1)"] = (s["tax_rate"] < 0) | (s["tax_rate"] >= 1)
    for name in ("da_pct_revenue", "capex_pct_revenue"):
        if name in s:
            masks[f"{name} cannot be negative"] = s[name] < 0
    if "ebitda_margin" in s:
        flat = not isinstance(inputs.ebitda_margin, tuple)
        margins = [s["ebitda_margin"]] if flat else shifted(inputs.margins(), s["ebitda_margin"])
        masks["EBITDA margin cannot exceed 100%"] = np.logical_or.reduce([m > 1 for m in margins])
    if "revenue_growth" in s:
        growths = shifted(inputs.revenue_growth, s["revenue_growth"])
        masks["growth must be above -100%"] = np.logical_or.reduce([g <= -1 for g in growths])
    paths = len(next(iter(samples.values())))
    return {k: np.broadcast_to(v, (paths,)) for k, v in masks.items() if np.any(v)}


def _summary(values: Array, percentiles: Sequence[float]) -> Summary:
    """Statistics of finite ``values``; the mean and standard deviation are taken on the
    values over their largest magnitude, so a sum of 1e306 figures cannot overflow."""
    qs = np.percentile(values, list(percentiles)) if len(percentiles) else np.array([])
    scale = float(np.max(np.abs(values))) or 1.0
    scaled = values / scale
    std = float(scaled.std(ddof=1)) * scale if values.size > 1 else 0.0
    return Summary(
        mean=float(scaled.mean()) * scale,
        std=std,
        min=float(values.min()),
        max=float(values.max()),
        percentiles=tuple((float(p), float(q)) for p, q in zip(percentiles, qs, strict=True)),
    )


def _simulate(inputs: DCFInputs, samples: Mapping[str, Array], paths: int) -> Array:
    """Enterprise value of every path, chunk by chunk (invalid paths hold garbage)."""
    ev = np.empty(paths)
    with np.errstate(all="ignore"):
        for start in range(0, paths, CHUNK):
            chunk = {k: v[start : start + CHUNK] for k, v in samples.items()}
            ev[start : start + CHUNK] = project(inputs, chunk).enterprise_value
    return ev


def monte_carlo(
    inputs: DCFInputs,
    distributions: Mapping[str, Distribution],
    paths: int = 1_000_000,
    seed: int = 0,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> MonteCarloResult:
    """EV, equity value and value per share distributions over ``paths`` sampled models.

    The unmoved ``inputs`` must form a valid model (the sampled drivers' centre is a DCF
    someone can read); ``Invalid`` when every sampled path is inconsistent.
    """
    _check_request(inputs, distributions, paths, seed, percentiles)
    rng = np.random.default_rng(seed)
    samples = {name: dist.sample(rng, paths) for name, dist in distributions.items()}
    masks = invalid_masks(inputs, samples)
    invalid = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(paths, bool)
    invalid_count = int(invalid.sum())
    if invalid_count == paths:
        reasons = ", ".join(masks)
        msg = f"every sampled path is invalid ({reasons})"
        raise Invalid(msg, errors=[{"loc": ["distributions"], "msg": msg}])
    ev = _simulate(inputs, samples, paths)
    with np.errstate(all="ignore"):
        equity_all = np.asarray(bridge(inputs, ev, samples.get("net_debt")), dtype=np.float64)
        price_all, _ = solve_price(inputs.shares, equity_all)
    overflow = ~invalid & ~(np.isfinite(ev) & np.isfinite(equity_all) & np.isfinite(price_all))
    if overflow.any():  # extreme draws (a lognormal's tail, a huge net debt) overflow
        masks[_OVERFLOW] = overflow
        invalid = invalid | overflow
        invalid_count = int(invalid.sum())
    if invalid_count == paths:
        msg = f"every sampled path is invalid ({', '.join(masks)})"
        raise Invalid(msg, errors=[{"loc": ["distributions"], "msg": msg}])
    valid = ~invalid
    ev, equity, price = ev[valid], equity_all[valid], np.asarray(price_all)[valid]
    return MonteCarloResult(
        currency=inputs.currency,
        paths=paths,
        seed=seed,
        valid_paths=paths - invalid_count,
        invalid_paths=invalid_count,
        invalid_share=invalid_count / paths,
        invalid_reasons=tuple((k, int(v.sum())) for k, v in masks.items()),
        enterprise_value=_summary(ev, percentiles),
        equity_value=_summary(equity, percentiles),
        value_per_share=_summary(np.asarray(price, dtype=np.float64), percentiles),
    )
