"""IRR and XIRR: every real root, not just the one a Newton step happens to reach.

With x = 1 / (1 + r) the NPV of evenly spaced flows is the polynomial
``P(x) = cf[0] + cf[1]·x + … + cf[n]·x**n`` and rates r > -1 are its roots x > 0. So:

1. candidates: the eigenvalue roots of P (``numpy.roots``) that are real enough, for
   series up to ``POLY_MAX_DEGREE``;
2. a scan of the NPV sign over a grid in u = log(1 + r) from r ≈ -1 + 2e-16 to r ≈ 4e15,
   to which the candidates, midpoints between neighbouring candidates and points beyond
   the outermost candidates are added, so two close roots still sit in different cells;
3. every sign change is polished with ``scipy.optimize.brentq`` in u, which keeps full
   relative precision in 1 + r even next to -100 % (r = -0.99999998 is then exact to
   1e-15 of 1 + r, not to 1e-15 of r);
4. a candidate with no sign change around it may be an even-multiplicity (tangent) root:
   it is kept when the NPV derivative changes sign there and the NPV vanishes to 1e-10 of
   the flows' discounted gross size;
5. roots between which the NPV stays within rounding noise (n × 8 eps of the gross size) are
   one multiple root, which a float sum scatters into several sign changes.

numpy-financial's ``irr`` is not used: it returns a single root picked by an eigenvalue
filter, so on a multi-root series it reports one root and says nothing of the others.
XIRR uses the same scan with fractional (actual/365) exponents, then picks the root
nearest the guess.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.optimize import brentq

from novacron.corporate.finance.tvm import (
    Number,
    as_cashflows,
    as_rate,
    invalid,
    year_fractions,
)

__all__ = ["IRRResult", "irr", "xirr"]

POLY_MAX_DEGREE = 600
"""Above this many periods ``numpy.roots`` (an O(n³) eigenvalue problem) is skipped and
the grid scan alone finds the roots; monthly flows over 50 years still get both."""

_GRID = np.concatenate(
    [np.linspace(-36.0, -3.05, 660), np.linspace(-3.0, 3.0, 1201), np.linspace(3.05, 36, 660)]
)
"""u = log(1 + r), 0.005 apart (about 0.5 %) from r = -95 % to +1,900 %, 0.05 apart beyond,
out to r = -1 + 2e-16 (the last float above -100 %) and r = 4e15."""

_XTOL = 1e-15
_RTOL = 4 * float(np.finfo(float).eps)
_TANGENT = 1e-10
"""|NPV| / gross below which an extremum of the NPV counts as a (tangent) root."""
_SAME_ROOT_PER_FLOW = 8 * float(np.finfo(float).eps)
"""Per flow, |NPV| / gross below which the NPV between two roots shows they are one
multiple root: rounding noise of an n-term sum is about n·eps of its gross size, so
``n × 8 eps`` (1.8e-15 per flow) sits well above the noise yet keeps two genuine roots
1e-6 apart, whose NPV between them is ~1e-13 of gross, apart (a flat 1e-11 merged them)."""
_SAME_SIGN = "no real IRR: every cash flow has the same sign"
_NO_ROOT = "no real IRR: no rate makes NPV zero"
"""Also said when the only roots lie within 2e-16 of -100 %, where no float can hold them."""


@dataclass(frozen=True, slots=True)
class IRRResult:
    """All real IRRs of a series.

    ``rate`` is the root closest to 0 (the unique root when there is one; on a tie the
    positive one): for conventional projects it is *the* IRR, and for multi-root series it
    is the least extreme answer — but then ``ambiguous`` is True and a decision should use
    NPV at the cost of capital (or MIRR) instead, since no single IRR is meaningful.
    ``roots`` holds every real root r > -1, ascending.
    """

    rate: float
    roots: tuple[float, ...]
    ambiguous: bool


def _check_signs(flows: Sequence[float]) -> None:
    if all(cf == 0.0 for cf in flows):
        raise invalid(["cashflows"], "no real IRR: every cash flow is zero")
    if not (any(cf > 0 for cf in flows) and any(cf < 0 for cf in flows)):
        raise invalid(["cashflows"], _SAME_SIGN)


def _trim(flows: list[float]) -> list[float]:
    """Drop leading zeros (a shift multiplies NPV by (1 + r)**-k, same roots) and trailing
    zeros (they add nothing to the NPV)."""
    first = next(i for i, cf in enumerate(flows) if cf != 0.0)
    last = max(i for i, cf in enumerate(flows) if cf != 0.0)
    return flows[first : last + 1]


def _normalised(flows: Sequence[float]) -> list[float]:
    """The flows over the largest one's size: same roots, and no sum of flows near 1e308
    can overflow (``math.fsum`` raises on an intermediate overflow)."""
    size = max(abs(cf) for cf in flows)
    return [cf / size for cf in flows]


def _poly_candidates(flows: Sequence[float]) -> list[float]:
    """u = log(1 + r) = -log(x) of the nearly-real positive eigenvalue roots x of P.
    Loose on purpose (a double root comes out as x ± 1e-8·i): each one is verified."""
    if len(flows) - 1 > POLY_MAX_DEGREE:
        return []
    with np.errstate(all="ignore"):
        try:
            xs = np.roots(np.asarray(flows[::-1], dtype=float))
        except np.linalg.LinAlgError:  # coefficients so lopsided the companion matrix overflows
            return []
        near_real = xs[(np.abs(xs.imag) <= 1e-4 * np.abs(xs)) & (xs.real > 0)].real
        logs = -np.log(near_real)
    return sorted(float(u) for u in logs if math.isfinite(u))


def _scan_points(candidates: Sequence[float]) -> np.ndarray:
    """The grid, plus each candidate, the midpoints between neighbours and a point beyond
    each end, so every candidate gets a cell of its own (all in u = log(1 + r))."""
    extra = list(candidates)
    extra += [(a + b) / 2 for a, b in itertools.pairwise(candidates)]
    if candidates:
        extra += [candidates[0] - 1.0, candidates[-1] + 1.0]
    return np.unique(np.concatenate([_GRID, np.asarray(extra, dtype=float)]))


def _scaled_npv(
    log_growth: np.ndarray, flows: Sequence[float], times: Sequence[float]
) -> np.ndarray:
    """NPV at each rate r = exp(u) - 1 given as u = log(1 + r), times a positive factor
    that keeps it finite: for u < 0 every term is multiplied by (1 + r) ** max(times), so
    no exponent is positive. The sign and the zeros are those of the NPV, which is all a
    root finder needs. Taking u rather than r keeps full precision in 1 + r next to -100 %;
    rows are chunked so a long series over a fine grid stays within a few MB."""
    cf = np.asarray(flows, dtype=float)
    t = np.asarray(times, dtype=float)
    logs = np.atleast_1d(np.asarray(log_growth, dtype=float))
    out = np.empty(logs.shape)
    step = max(1, 1_000_000 // max(1, cf.size))
    for start in range(0, logs.size, step):
        chunk = logs[start : start + step, None]
        shift = np.where(chunk < 0, t.max(), 0.0)
        out[start : start + step] = np.exp(-(t[None, :] - shift) * chunk) @ cf
    return out


def _sign_change_roots(
    flows: Sequence[float], times: Sequence[float], points: np.ndarray
) -> list[float]:
    """Every root (in u) bracketed by a sign change between neighbouring points."""
    values = _scaled_npv(points, flows, times)

    def f(u: float) -> float:
        return float(_scaled_npv(np.asarray([u]), flows, times)[0])

    roots = [float(p) for p, v in zip(points, values, strict=True) if v == 0.0]
    for i in np.nonzero(values[:-1] * values[1:] < 0)[0]:
        a, b = float(points[i]), float(points[i + 1])
        fa, fb = f(a), f(b)
        if fa * fb < 0:
            roots.append(float(brentq(f, a, b, xtol=_XTOL, rtol=_RTOL, maxiter=200)))
        else:  # the scan and the scalar sum round differently: a root at an end point
            roots.append(a if abs(fa) <= abs(fb) else b)
    return roots


def _scaled_terms(u: float, flows: Sequence[float], times: Sequence[float]) -> np.ndarray:
    """The discounted flows at u = log(1 + r), times a common factor that keeps them finite."""
    t = np.asarray(times, dtype=float)
    shift = t.max() if u < 0 else 0.0
    return np.asarray(flows, dtype=float) * np.exp(-(t - shift) * u)


def _npv_ratio(u: float, flows: Sequence[float], times: Sequence[float]) -> float:
    """|NPV| over the discounted gross size of the flows: 0 at a root, ~1e-16 is noise."""
    terms = _scaled_terms(u, flows, times)
    gross = math.fsum(abs(v) for v in terms)
    return abs(math.fsum(terms)) / gross if gross > 0 else 0.0


def _tangent_root(u: float, flows: Sequence[float], times: Sequence[float]) -> float | None:
    """An even-multiplicity root near ``u``: the NPV has an extremum there (its derivative
    in u, -Σ t·cf·e^(-t·u), changes sign) and vanishes there to ``_TANGENT``."""
    t = np.asarray(times, dtype=float)

    def slope(v: float) -> float:
        return float(-np.sum(t * _scaled_terms(v, flows, times)))

    for width in (1e-7, 1e-5, 1e-3):
        low, high = u - width * (1 + abs(u)), u + width * (1 + abs(u))
        if (low < 0) != (high < 0):  # keep one scaling across the bracket
            low, high = (low, -0.0) if u < 0 else (0.0, high)
        a, b = slope(low), slope(high)
        if a * b < 0:
            extremum = float(brentq(slope, low, high, xtol=_XTOL, rtol=_RTOL, maxiter=200))
            return extremum if _npv_ratio(extremum, flows, times) <= _TANGENT else None
    return None


def _merge(roots: Iterable[float], flows: Sequence[float], times: Sequence[float]) -> list[float]:
    """One root per cluster: a multiple root splits into several sign changes within
    rounding noise. Neighbours are the same root when the NPV between them stays within
    ``_SAME_ROOT_PER_FLOW × len(flows)`` of the flows' size; each cluster keeps its
    member with the smallest NPV."""
    clusters: list[list[float]] = []
    same_root = _SAME_ROOT_PER_FLOW * len(flows)
    for root in sorted(roots):
        if clusters:
            last = clusters[-1][-1]
            if root - last <= 1e-12 * (1 + abs(root)):
                continue
            if _npv_ratio((last + root) / 2, flows, times) <= same_root:
                clusters[-1].append(root)
                continue
        clusters.append([root])
    return [min(c, key=lambda u: _npv_ratio(u, flows, times)) for c in clusters]


def _all_roots(
    flows: Sequence[float], times: Sequence[float], candidates: Sequence[float]
) -> list[float]:
    """Every root as a rate r > -1, ascending (candidates and the work are in u)."""
    found = _sign_change_roots(flows, times, _scan_points(candidates))
    for candidate in candidates:
        if any(abs(candidate - root) <= 1e-6 * (1 + abs(root)) for root in found):
            continue
        tangent = _tangent_root(candidate, flows, times)
        if tangent is not None:
            found.append(tangent)
    with np.errstate(over="ignore"):  # a root past r = 1.8e308 is no rate: dropped below
        rates = [float(np.expm1(u)) + 0.0 for u in _merge(found, flows, times)]  # no -0.0
    return [r for r in rates if r > -1.0 and math.isfinite(r)]


def _closest_to_zero(roots: Sequence[float]) -> float:
    """The root nearest 0; between two equally near (to 1e-9, e.g. -10 % and +10 %
    that rounding has put 1e-16 apart) the positive one."""
    nearest = min(abs(r) for r in roots)
    close = [r for r in roots if abs(r) <= nearest + 1e-9 * (1 + nearest)]
    return max(close)


def irr(cashflows: Iterable[Number]) -> IRRResult:
    """Every real internal rate of return of flows at t = 0, 1, … (see ``IRRResult``).

    ``Invalid`` (loc ``["cashflows"]``) when no rate makes the NPV zero: all flows zero,
    a single flow, all of one sign, or a series whose NPV never reaches zero.
    """
    flows = as_cashflows(cashflows)
    _check_signs(flows)
    trimmed = _normalised(_trim(flows))
    times = list(range(len(trimmed)))
    roots = _all_roots(trimmed, times, _poly_candidates(trimmed))
    if not roots:
        raise invalid(["cashflows"], _NO_ROOT)
    return IRRResult(rate=_closest_to_zero(roots), roots=tuple(roots), ambiguous=len(roots) > 1)


def xirr(cashflows: Iterable[Number], dates: Sequence[date], guess: Number = 0.1) -> float:
    """Excel's ``XIRR``: the annual rate that makes ``xnpv`` zero (actual/365 from the
    first date). All sign changes of XNPV over the scan grid are polished with brentq and
    the root nearest ``guess`` is returned (Excel's Newton iteration also starts at the
    guess, default 10 %). Tangent roots are not searched for. ``Invalid`` when there is
    no root."""
    flows = as_cashflows(cashflows)
    start = as_rate(guess, "guess")
    times = year_fractions(dates, len(flows))
    _check_signs(flows)
    flows = _normalised(flows)
    found = _sign_change_roots(flows, times, _scan_points([math.log1p(start)]))
    with np.errstate(over="ignore"):
        rates = [float(np.expm1(u)) + 0.0 for u in _merge(found, flows, times)]
    roots = [r for r in rates if r > -1.0 and math.isfinite(r)]
    if not roots:
        raise invalid(["cashflows"], "no real XIRR: no rate makes XNPV zero")
    return min(roots, key=lambda r: (abs(r - start), -r))
