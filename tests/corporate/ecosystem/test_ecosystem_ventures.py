"""Joint-venture arithmetic: the cap table check and distributions to the exact cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.ecosystem.ventures import simple_return, split, validate_parties

D = Decimal


def test_thirds_give_the_odd_cent_to_the_party_rounded_down_most() -> None:
    # 100.00 × 33.3333% = 33.33333 → 33.33 (twice); × 33.3334% = 33.33334 → 33.33.
    # 3 × 33.33 = 99.99: one cent left, to the share cut the most (0.00334 > 0.00333).
    parties = [("A", D("33.3333")), ("B", D("33.3333")), ("C", D("33.3334"))]
    shares = split(D("100.00"), "USD", parties)
    assert [s.amount for s in shares] == [D("33.33"), D("33.33"), D("33.34")]


def test_half_cents_round_half_even_then_the_remainder_goes_to_the_first_listed() -> None:
    # 0.05 × 50% = 0.025 each → half-even 0.02 each → 0.04; 1 cent left; equal errors
    # and equal equity, so the first listed party gets it.
    shares = split(D("0.05"), "USD", [("Ours", D(50)), ("Theirs", D(50))])
    assert [s.amount for s in shares] == [D("0.03"), D("0.02")]


def test_over_rounding_takes_the_cent_back_from_the_most_rounded_up() -> None:
    # 1.00 × (16.6667 × 6 = 100.0002 … use 6 parties at 16.6666 + one at 0.0004)
    parties = [(f"P{i}", D("16.6666")) for i in range(6)] + [("Q", D("0.0004"))]
    # each P: 0.166666 → 0.17 (rounded up by 0.003334), Q: 0.000004 → 0.00
    # 6 × 0.17 = 1.02 → 2 cents too many, taken from the first two P (equal errors).
    shares = split(D("1.00"), "USD", parties)
    assert [s.amount for s in shares] == [D("0.16")] * 2 + [D("0.17")] * 4 + [D("0.00")]
    assert sum(s.amount for s in shares) == D("1.00")


def test_losses_split_to_the_cent_too() -> None:
    shares = split(D("-100.00"), "USD", [("A", D("33.3333")), ("B", D("66.6667"))])
    # -33.33333 → -33.33, -66.66667 → -66.67: exact already.
    assert [s.amount for s in shares] == [D("-33.33"), D("-66.67")]


def test_yen_books_to_whole_units() -> None:
    shares = split(
        D("1000"), "JPY", [("A", D("33.3333")), ("B", D("33.3333")), ("C", D("33.3334"))]
    )
    assert [s.amount for s in shares] == [D(333), D(333), D(334)]


@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=12),
)
def test_any_split_sums_exactly_and_each_share_is_within_a_cent(
    cents: int, weights: list[int]
) -> None:
    # Build percentages with 4 decimals that sum to exactly 100.
    total = sum(weights)
    pcts = [(D(w) * 100 / total).quantize(D("0.0001")) for w in weights]
    pcts[-1] += D(100) - sum(pcts)
    if pcts[-1] <= 0:
        return
    amount = D(cents) / 100
    parties = [(f"p{i}", pct) for i, pct in enumerate(pcts)]
    shares = split(amount, "USD", parties)
    assert sum(s.amount for s in shares) == amount
    for share, (_, pct) in zip(shares, parties, strict=True):
        assert abs(share.amount - amount * pct / 100) <= D("0.01")
    assert split(amount, "USD", parties) == shares  # deterministic


def test_equity_must_sum_to_exactly_100_and_the_error_names_parties_with_the_sum() -> None:
    with pytest.raises(Invalid) as err:
        validate_parties([("A", D("60")), ("B", D("39.99"))])
    assert err.value.errors[0]["loc"] == ["parties"]
    assert "99.99" in err.value.errors[0]["msg"]


@pytest.mark.parametrize(
    ("parties", "loc"),
    [
        ([("A", D(100))], ["parties"]),
        ([("A", D(50)), ("a", D(50))], ["parties", 1, "name"]),
        ([("A", D(0)), ("B", D(100))], ["parties", 0, "equity_pct"]),
        ([("A", D("50.00001")), ("B", D("49.99999"))], ["parties", 0, "equity_pct"]),
        ([("A", D(50)), (" ", D(50))], ["parties", 1, "name"]),
    ],
)
def test_bad_cap_tables_name_the_field(
    parties: list[tuple[str, Decimal]], loc: list[object]
) -> None:
    with pytest.raises(Invalid) as err:
        validate_parties(parties)
    assert err.value.errors[0]["loc"] == loc


def test_simple_return_is_distributions_over_invested() -> None:
    assert simple_return(D("250000"), D("1000000")) == D("0.2500")
    assert simple_return(D("1"), D("3")) == D("0.3333")
    assert simple_return(D("10"), D("0")) is None
