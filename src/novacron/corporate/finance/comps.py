"""Relative valuation: trading comps and precedent transactions (the football field that
puts them side by side is ``football.py``).

Pure float math on plain dataclasses; every input carries its currency and a peer, deal
or bar in another currency raises ``CurrencyMismatch`` naming the field (e.g.
``peers.2.currency``) instead of being converted silently.

A multiple whose denominator (or numerator) is not positive, or whose inputs are missing,
is "NM" (not meaningful): shown as the string ``"NM"`` per peer, left out of the
statistics and counted in ``nm_count``, so ``n + nm_count`` is always the number of peers.

Quartiles are the *inclusive* method (Excel ``QUARTILE.INC``, numpy's default
``percentile(..., method="linear")``): position ``h = (n - 1) p`` in the sorted values,
interpolated linearly. The result says so in ``quartile_method`` because bankers' tools
disagree (``QUARTILE.EXC`` gives wider quartiles on small peer sets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import same_currency
from novacron.corporate.finance.tvm import as_number, finite, invalid, loc_of

QUARTILE_METHOD = "inclusive (Excel QUARTILE.INC / numpy 'linear')"
NM: Literal["NM"] = "NM"

Multiple = float | Literal["NM"]
MultipleName = Literal["ev_ebitda", "ev_revenue", "pe"]


def _invalid(field: str, msg: str) -> Invalid:
    return invalid(loc_of(field), msg)


def _finite(value: float, field: str) -> float:
    return as_number(value, loc_of(field))


def _positive(value: float, field: str) -> float:
    if _finite(value, field) <= 0:
        raise _invalid(field, "must be positive")
    return float(value)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The inclusive (linear) percentile ``p`` in [0, 1] of already sorted values."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    h = (len(sorted_values) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


@dataclass(frozen=True, slots=True)
class Summary:
    """Statistics of one multiple over the meaningful values (None when ``n`` is 0)."""

    n: int
    nm_count: int
    min: float | None
    p25: float | None
    median: float | None
    mean: float | None
    p75: float | None
    max: float | None


def summarize(values: Sequence[Multiple]) -> Summary:
    """n, NM count, min, quartiles, median, mean and max of the non-NM values."""
    good = sorted(v for v in values if not isinstance(v, str))
    nm_count = len(values) - len(good)
    if not good:
        return Summary(0, nm_count, None, None, None, None, None, None)
    return Summary(
        n=len(good),
        nm_count=nm_count,
        min=good[0],
        p25=percentile(good, 0.25),
        median=percentile(good, 0.5),
        mean=math.fsum(good) / len(good),
        p75=percentile(good, 0.75),
        max=good[-1],
    )


def ratio(numerator: float | None, denominator: float | None) -> Multiple:
    """``numerator / denominator``, or "NM" when either is missing or not positive, or
    when the quotient overflows a float (an EBITDA of 1e-320: no meaningful multiple)."""
    if numerator is None or denominator is None or numerator <= 0 or denominator <= 0:
        return NM
    value = numerator / denominator
    return value if math.isfinite(value) else NM


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    mid: float
    high: float


# -- applying multiples to a target ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """The company being valued: its metrics, net debt and diluted shares."""

    currency: str
    revenue: float | None = None
    ebitda: float | None = None
    net_income: float | None = None
    net_debt: float = 0.0
    diluted_shares: float | None = None


@dataclass(frozen=True, slots=True)
class Implied:
    """A target's value implied by one multiple's 25th-median-75th percentiles."""

    multiple: str
    metric: float
    multiples: Range
    enterprise_value: Range
    equity_value: Range
    per_share: Range | None


def _check_target(target: Target, field: str) -> None:
    for name in ("revenue", "ebitda", "net_income"):
        value = getattr(target, name)
        if value is not None:
            _finite(value, f"{field}.{name}")
    _finite(target.net_debt, f"{field}.net_debt")
    if target.diluted_shares is not None:
        _positive(target.diluted_shares, f"{field}.diluted_shares")


def _scale(r: Range, factor: float, shift: float = 0.0) -> Range:
    return Range(r.low * factor + shift, r.mid * factor + shift, r.high * factor + shift)


_METRIC_OF: dict[str, str] = {"ev_ebitda": "ebitda", "ev_revenue": "revenue", "pe": "net_income"}


def apply_multiples(
    target: Target, summaries: dict[str, Summary]
) -> tuple[list[Implied], dict[str, str]]:
    """Implied EV / equity / per-share ranges (25th-75th, median as mid) per multiple, and
    why a multiple was not applied (no meaningful peers, or the target's metric ≤ 0)."""
    implied: list[Implied] = []
    skipped: dict[str, str] = {}
    for name, summary in summaries.items():
        metric_name = _METRIC_OF.get(name)
        if metric_name is None:
            continue
        metric = getattr(target, metric_name)
        if summary.n == 0 or summary.p25 is None or summary.median is None:
            skipped[name] = "no meaningful peer multiples"
            continue
        if metric is None or metric <= 0:
            skipped[name] = f"target {metric_name} is missing or not positive"
            continue
        assert summary.p75 is not None
        multiples = Range(summary.p25, summary.median, summary.p75)
        if name == "pe":  # P/E values the equity; EV adds net debt back
            equity = _scale(multiples, metric)
            ev = _scale(equity, 1.0, target.net_debt)
        else:
            ev = _scale(multiples, metric)
            equity = _scale(ev, 1.0, -target.net_debt)
        shares = target.diluted_shares
        per_share = _scale(equity, 1.0 / shares) if shares else None
        figures = [ev, equity, *([per_share] if per_share else [])]
        for value in (x for r in figures for x in (r.low, r.mid, r.high)):
            finite(value, ["target", metric_name], f"the value implied by {name}")
        implied.append(Implied(name, metric, multiples, ev, equity, per_share))
    return implied, skipped


# -- trading comps --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """A listed peer. P/E is market cap / net income, or else price / EPS."""

    name: str
    currency: str
    enterprise_value: float
    revenue: float | None = None
    ebitda: float | None = None
    net_income: float | None = None
    market_cap: float | None = None
    eps: float | None = None
    price: float | None = None


@dataclass(frozen=True, slots=True)
class PeerMultiples:
    name: str
    ev_ebitda: Multiple
    ev_revenue: Multiple
    pe: Multiple


@dataclass(frozen=True, slots=True)
class CompsResult:
    currency: str
    peers: tuple[PeerMultiples, ...]
    summary: dict[str, Summary]
    quartile_method: str
    implied: tuple[Implied, ...]
    not_applied: dict[str, str]


def _pe(peer: Peer) -> Multiple:
    if peer.market_cap is not None and peer.net_income is not None:
        return ratio(peer.market_cap, peer.net_income)
    return ratio(peer.price, peer.eps)


def _check_numbers(obj: object, names: Sequence[str], field: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            _finite(value, f"{field}.{name}")


def peer_multiples(peer: Peer) -> PeerMultiples:
    return PeerMultiples(
        name=peer.name,
        ev_ebitda=ratio(peer.enterprise_value, peer.ebitda),
        ev_revenue=ratio(peer.enterprise_value, peer.revenue),
        pe=_pe(peer),
    )


def comps(peers: Sequence[Peer], target: Target | None = None) -> CompsResult:
    """EV/EBITDA, EV/Revenue and P/E per peer, their statistics, and (given a target) the
    implied value ranges. All peers and the target must share one currency."""
    if not peers:
        raise _invalid("peers", "at least one peer is needed")
    tagged = [(f"peers.{i}.currency", p.currency) for i, p in enumerate(peers)]
    if target is not None:
        tagged.append(("target.currency", target.currency))
    currency = same_currency(tagged)
    numbers = ("enterprise_value", "revenue", "ebitda", "net_income", "market_cap", "eps", "price")
    for i, peer in enumerate(peers):
        _check_numbers(peer, numbers, f"peers.{i}")
    rows = tuple(peer_multiples(p) for p in peers)
    summary = {
        name: summarize([getattr(row, name) for row in rows])
        for name in ("ev_ebitda", "ev_revenue", "pe")
    }
    implied: list[Implied] = []
    skipped: dict[str, str] = {}
    if target is not None:
        _check_target(target, "target")
        implied, skipped = apply_multiples(target, summary)
    return CompsResult(currency, rows, summary, QUARTILE_METHOD, tuple(implied), skipped)


# -- precedent transactions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deal:
    """A closed or announced deal; ``premium`` is the premium paid over the unaffected
    share price as a fraction (0.30 = 30%), when the target was listed."""

    acquirer: str
    target: str
    date: date
    currency: str
    enterprise_value: float
    revenue: float | None = None
    ebitda: float | None = None
    premium: float | None = None


@dataclass(frozen=True, slots=True)
class DealMultiples:
    acquirer: str
    target: str
    date: date
    ev_ebitda: Multiple
    ev_revenue: Multiple
    premium: float | None


@dataclass(frozen=True, slots=True)
class ControlPremium:
    """The premium applied (explicit, or the observed 25th-median-75th) and the implied
    offer price per share on the unaffected price."""

    source: Literal["explicit", "observed"]
    premium: Range
    unaffected_price: float
    per_share: Range


@dataclass(frozen=True, slots=True)
class PrecedentsResult:
    currency: str
    deals: tuple[DealMultiples, ...]
    summary: dict[str, Summary]
    quartile_method: str
    implied: tuple[Implied, ...]
    not_applied: dict[str, str]
    control_premium: ControlPremium | None


def _control(
    deals: Sequence[Deal], unaffected_price: float, explicit: float | None
) -> ControlPremium:
    _positive(unaffected_price, "unaffected_price")
    if explicit is not None:
        if _finite(explicit, "control_premium") <= -1:
            raise _invalid("control_premium", "must be above -100%")
        premium = Range(explicit, explicit, explicit)
        source: Literal["explicit", "observed"] = "explicit"
    else:
        observed = sorted(d.premium for d in deals if d.premium is not None)
        if not observed:
            raise _invalid(
                "control_premium", "no deal has a premium: give an explicit control premium"
            )
        premium = Range(*(percentile(observed, p) for p in (0.25, 0.5, 0.75)))
        source = "observed"
    per_share = _scale(premium, unaffected_price, unaffected_price)
    return ControlPremium(source, premium, unaffected_price, per_share)


def precedents(
    deals: Sequence[Deal],
    target: Target | None = None,
    *,
    unaffected_price: float | None = None,
    control_premium: float | None = None,
) -> PrecedentsResult:
    """Deal multiples (EV/EBITDA, EV/Revenue) and premiums with their statistics; given a
    target, implied value ranges; given an unaffected share price, the implied offer price
    range from the explicit control premium or else the observed premiums."""
    if not deals:
        raise _invalid("deals", "at least one deal is needed")
    tagged = [(f"deals.{i}.currency", d.currency) for i, d in enumerate(deals)]
    if target is not None:
        tagged.append(("target.currency", target.currency))
    currency = same_currency(tagged)
    for i, deal in enumerate(deals):
        _check_numbers(deal, ("enterprise_value", "revenue", "ebitda", "premium"), f"deals.{i}")
        if deal.premium is not None and deal.premium <= -1:
            raise _invalid(f"deals.{i}.premium", "must be above -100%")
    rows = tuple(
        DealMultiples(
            d.acquirer,
            d.target,
            d.date,
            ratio(d.enterprise_value, d.ebitda),
            ratio(d.enterprise_value, d.revenue),
            d.premium,
        )
        for d in deals
    )
    summary = {
        "ev_ebitda": summarize([r.ev_ebitda for r in rows]),
        "ev_revenue": summarize([r.ev_revenue for r in rows]),
        "premium": _premium_summary(deals),
    }
    implied: list[Implied] = []
    skipped: dict[str, str] = {}
    if target is not None:
        _check_target(target, "target")
        implied, skipped = apply_multiples(target, summary)
    if control_premium is not None and unaffected_price is None:
        raise _invalid("unaffected_price", "needed to apply a control premium")
    control = (
        _control(deals, unaffected_price, control_premium) if unaffected_price is not None else None
    )
    return PrecedentsResult(
        currency, rows, summary, QUARTILE_METHOD, tuple(implied), skipped, control
    )


def _premium_summary(deals: Sequence[Deal]) -> Summary:
    """Premiums can be legitimately ≤ 0 (a take-under); only missing ones are left out."""
    values = sorted(d.premium for d in deals if d.premium is not None)
    base = summarize(values)
    return Summary(
        base.n,
        len(deals) - len(values),
        base.min,
        base.p25,
        base.median,
        base.mean,
        base.p75,
        base.max,
    )
