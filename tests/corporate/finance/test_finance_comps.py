"""Trading comps, precedent transactions and the football field.

Sources of the published values:
- Microsoft Excel help, QUARTILE.INC function: for the data {1, 2, 4, 7, 8, 9, 10, 12}
  ``=QUARTILE.INC(A2:A9, 1)`` is 3.5.
- numpy.percentile documentation (numpy 2.x): ``a = [[10, 7, 4], [3, 2, 1]]``,
  ``np.percentile(a, 50)`` is 3.5.
Everything else is computed by hand below, with the arithmetic in the comments.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.finance.comps import (
    NM,
    QUARTILE_METHOD,
    Deal,
    Peer,
    Target,
    comps,
    percentile,
    precedents,
    summarize,
)
from novacron.corporate.finance.football import Bar, football_field
from novacron.corporate.finance.money import CurrencyMismatch

PEERS = [
    # name, EV, revenue, EBITDA, market cap / NI or price / EPS
    Peer("A", "USD", 1000, revenue=500, ebitda=100, net_income=50, market_cap=800),
    Peer("B", "USD", 1200, revenue=400, ebitda=150, net_income=60, market_cap=900),
    Peer("C", "USD", 600, revenue=300, ebitda=-20, price=10, eps=0.5),
    Peer("D", "USD", 2000, revenue=800, ebitda=160, net_income=-5, market_cap=1500),
    Peer("E", "USD", 900, revenue=0, ebitda=75),
]
TARGET = Target("USD", revenue=200, ebitda=50, net_income=20, net_debt=100, diluted_shares=10)


def test_excel_quartile_inc_help_example() -> None:
    assert percentile([1, 2, 4, 7, 8, 9, 10, 12], 0.25) == pytest.approx(3.5)


def test_numpy_percentile_doc_example() -> None:
    assert percentile(sorted([10, 7, 4, 3, 2, 1]), 0.5) == pytest.approx(3.5)


def test_peer_multiples_and_nm() -> None:
    result = comps(PEERS)
    rows = {row.name: row for row in result.peers}
    # A: 1000/100 = 10, 1000/500 = 2, 800/50 = 16
    assert (rows["A"].ev_ebitda, rows["A"].ev_revenue, rows["A"].pe) == (10, 2, 16)
    # C: negative EBITDA → NM; P/E from price / EPS = 10 / 0.5 = 20
    assert rows["C"].ev_ebitda == NM and rows["C"].pe == 20
    assert rows["D"].pe == NM  # a loss
    assert rows["E"].ev_revenue == NM and rows["E"].pe == NM  # zero revenue, no earnings
    assert result.quartile_method == QUARTILE_METHOD
    assert result.currency == "USD"


def test_summary_by_hand() -> None:
    s = comps(PEERS).summary
    # EV/EBITDA sorted [8, 10, 12, 12.5]: p25 h=0.75 → 8 + 0.75×2 = 9.5; median h=1.5 → 11;
    # p75 h=2.25 → 12 + 0.25×0.5 = 12.125; mean 42.5/4 = 10.625
    e = s["ev_ebitda"]
    assert (e.n, e.nm_count, e.min, e.max) == (4, 1, 8, 12.5)
    assert (e.p25, e.median, e.p75, e.mean) == pytest.approx((9.5, 11, 12.125, 10.625))
    # EV/Revenue [2, 2, 2.5, 3]: p25 2, median 2.25, p75 2.625, mean 2.375
    r = s["ev_revenue"]
    assert (r.p25, r.median, r.p75, r.mean) == pytest.approx((2, 2.25, 2.625, 2.375))
    # P/E [15, 16, 20]: p25 h=0.5 → 15.5, median 16, p75 h=1.5 → 18, mean 17; 2 NM
    p = s["pe"]
    assert (p.n, p.nm_count) == (3, 2)
    assert (p.p25, p.median, p.p75, p.mean) == pytest.approx((15.5, 16, 18, 17))
    # the same as numpy's default (linear) percentiles
    assert e.p75 == pytest.approx(np.percentile([8, 10, 12, 12.5], 75))


def test_implied_ranges_for_a_target() -> None:
    result = comps(PEERS, TARGET)
    by = {imp.multiple: imp for imp in result.implied}
    ev = by["ev_ebitda"]
    # EV = 50 × (9.5, 11, 12.125) = (475, 550, 606.25); equity − 100 net debt; / 10 shares
    assert (ev.enterprise_value.low, ev.enterprise_value.mid, ev.enterprise_value.high) == (
        pytest.approx(475),
        pytest.approx(550),
        pytest.approx(606.25),
    )
    assert ev.equity_value.low == pytest.approx(375)
    assert ev.per_share is not None and ev.per_share.high == pytest.approx(50.625)
    pe = by["pe"]
    # equity = 20 × (15.5, 16, 18) = (310, 320, 360); EV adds 100 back
    assert pe.equity_value.mid == pytest.approx(320)
    assert pe.enterprise_value.high == pytest.approx(460)
    assert pe.per_share is not None and pe.per_share.low == pytest.approx(31)
    assert result.not_applied == {}


def test_target_with_a_loss_skips_pe() -> None:
    target = Target("USD", revenue=200, ebitda=50, net_income=-1)
    result = comps(PEERS, target)
    assert "pe" in result.not_applied
    assert all(i.per_share is None for i in result.implied)


def test_mixed_currencies_name_the_peer() -> None:
    peers = [*PEERS[:2], Peer("X", "EUR", 500, ebitda=50)]
    with pytest.raises(CurrencyMismatch) as err:
        comps(peers)
    assert err.value.errors[0]["loc"] == ["peers", 2, "currency"]
    with pytest.raises(CurrencyMismatch) as err:
        comps(PEERS, Target("GBP", ebitda=10))
    assert err.value.errors[0]["loc"] == ["target", "currency"]


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(Invalid) as err:
        comps([])
    assert err.value.errors[0]["loc"] == ["peers"]
    with pytest.raises(Invalid) as err:
        comps(PEERS, Target("USD", ebitda=10, diluted_shares=-5))
    assert err.value.errors[0]["loc"] == ["target", "diluted_shares"]
    with pytest.raises(Invalid) as err:
        comps([Peer("A", "USD", float("nan"), ebitda=1)])
    assert err.value.errors[0]["loc"] == ["peers", 0, "enterprise_value"]


DEALS = [
    Deal("P", "Q", date(2023, 1, 5), "USD", 1000, revenue=400, ebitda=100, premium=0.30),
    Deal("R", "S", date(2023, 6, 1), "USD", 1500, revenue=500, ebitda=125, premium=0.25),
    Deal("T", "U", date(2024, 2, 9), "USD", 800, revenue=400, ebitda=0, premium=0.40),
    Deal("V", "W", date(2024, 8, 30), "USD", 700, revenue=350, ebitda=100),
]


def test_precedents_by_hand() -> None:
    result = precedents(DEALS, TARGET, unaffected_price=20)
    s = result.summary
    # EV/EBITDA [7, 10, 12] (one NM): p25 8.5, median 10, p75 11
    assert (s["ev_ebitda"].n, s["ev_ebitda"].nm_count) == (3, 1)
    assert (s["ev_ebitda"].p25, s["ev_ebitda"].median, s["ev_ebitda"].p75) == pytest.approx(
        (8.5, 10, 11)
    )
    # premiums [0.25, 0.30, 0.40]: p25 0.275, median 0.30, p75 0.35; one missing
    assert (s["premium"].n, s["premium"].nm_count) == (3, 1)
    control = result.control_premium
    assert control is not None and control.source == "observed"
    # 20 × (1.275, 1.30, 1.35) = (25.5, 26, 27)
    assert (control.per_share.low, control.per_share.mid, control.per_share.high) == (
        pytest.approx(25.5),
        pytest.approx(26),
        pytest.approx(27),
    )
    ev = next(i for i in result.implied if i.multiple == "ev_ebitda")
    assert ev.enterprise_value.mid == pytest.approx(500)  # 50 × 10
    assert result.deals[2].ev_ebitda == NM


def test_explicit_control_premium() -> None:
    control = precedents(DEALS, unaffected_price=20, control_premium=0.35).control_premium
    assert control is not None and control.source == "explicit"
    assert control.per_share.low == control.per_share.high == pytest.approx(27)


def test_control_premium_needs_a_price_or_premiums() -> None:
    with pytest.raises(Invalid) as err:
        precedents(DEALS, control_premium=0.3)
    assert err.value.errors[0]["loc"] == ["unaffected_price"]
    no_premiums = [Deal("A", "B", date(2024, 1, 1), "USD", 10, ebitda=1)]
    with pytest.raises(Invalid) as err:
        precedents(no_premiums, unaffected_price=10)
    assert err.value.errors[0]["loc"] == ["control_premium"]
    with pytest.raises(CurrencyMismatch):
        precedents([*DEALS, Deal("A", "B", date(2024, 1, 1), "JPY", 10, ebitda=1)])


def test_football_field_sorted_with_lines() -> None:
    field = football_field(
        [
            Bar("Trading comps", 37.5, 50.625),
            Bar("DCF", 40, 55, midpoint=46),
            Bar("52-week range", 30, 42, currency="USD"),
        ],
        currency="USD",
        current_price=35,
        offer_price=47,
    )
    assert [b.label for b in field.bars] == ["52-week range", "Trading comps", "DCF"]
    assert (field.min, field.max) == (30, 55)
    assert field.bars[1].midpoint == pytest.approx(44.0625)  # (37.5 + 50.625) / 2
    assert field.bars[2].midpoint == 46
    assert (field.current_price, field.offer_price, field.unit) == (35, 47, "per share")


def test_football_field_refuses_bad_bars() -> None:
    with pytest.raises(Invalid) as err:
        football_field([Bar("ok", 1, 2), Bar("bad", 5, 4)], currency="USD")
    assert err.value.errors[0]["loc"] == ["bars", 1, "low"]
    with pytest.raises(CurrencyMismatch) as err:
        football_field([Bar("eur", 1, 2, currency="EUR")], currency="USD")
    assert err.value.errors[0]["loc"] == ["bars", 0, "currency"]
    with pytest.raises(Invalid) as err:
        football_field([Bar("mid", 1, 2, midpoint=3)], currency="USD")
    assert err.value.errors[0]["loc"] == ["bars", 0, "midpoint"]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(st.one_of(finite, st.just(NM)), min_size=1, max_size=30))
def test_summary_is_ordered_and_counts_every_value(values: list[float | str]) -> None:
    s = summarize(values)  # type: ignore[arg-type]
    assert s.n + s.nm_count == len(values)
    if s.n:
        assert s.min is not None and s.max is not None and s.mean is not None
        assert s.min <= s.p25 <= s.median <= s.p75 <= s.max  # type: ignore[operator]
        assert s.min - 1e-6 <= s.mean <= s.max + 1e-6


@given(st.lists(finite, min_size=1, max_size=30), st.floats(min_value=0, max_value=1))
def test_percentile_matches_numpy_linear(values: list[float], p: float) -> None:
    expected = float(np.percentile(values, p * 100, method="linear"))
    assert percentile(sorted(values), p) == pytest.approx(expected, rel=1e-9, abs=1e-6)


peer_numbers = st.one_of(st.none(), st.floats(min_value=-100, max_value=1e4))


@given(st.lists(st.tuples(peer_numbers, peer_numbers, peer_numbers), min_size=1, max_size=12))
def test_nm_plus_n_is_the_peer_count(rows: list[tuple[float | None, ...]]) -> None:
    peers = [
        Peer(f"p{i}", "USD", 1000, revenue=rev, ebitda=ebitda, net_income=ni, market_cap=900)
        for i, (rev, ebitda, ni) in enumerate(rows)
    ]
    result = comps(peers)
    for s in result.summary.values():
        assert s.n + s.nm_count == len(peers)
