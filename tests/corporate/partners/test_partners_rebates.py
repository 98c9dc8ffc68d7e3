"""Volume rebates (pure): marginal vs whole-volume, hand-computed Decimal values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import Money
from novacron.corporate.partners import rebates
from novacron.corporate.partners.rebates import Band, Schedule

D = Decimal


def schedule(method: str, low: str = "0.02", high: str = "0.025") -> Schedule:
    return Schedule("bronze", method, (Band(D(1_000_000), D(low)), Band(None, D(high))))


def test_marginal_applies_each_rate_to_its_band() -> None:
    # 1,000,000 × 2% = 20,000; 500,000 × 2.5% = 12,500 → 32,500.00
    result = rebates.compute(Money.of("1500000", "USD"), schedule("marginal"))
    assert result.amount == Money(D("32500.00"), "USD")
    assert [(line.base, line.amount) for line in result.lines] == [
        (D(1_000_000), D("20000.00")),
        (D(500_000), D("12500.000")),
    ]
    assert result.effective_rate == D("32500") / D("1500000")


def test_whole_volume_applies_the_reached_rate_to_everything() -> None:
    # 1,500,000 × 2.5% = 37,500.00
    result = rebates.compute(Money.of("1500000", "USD"), schedule("whole_volume"))
    assert result.amount.amount == D("37500.00")
    assert len(result.lines) == 1 and result.lines[0].rate == D("0.025")


def test_band_limit_is_inclusive() -> None:
    for method in rebates.METHODS:
        result = rebates.compute(Money.of("1000000", "EUR"), schedule(method))
        assert result.amount.amount == D("20000.00"), method


def test_cents_are_booked_half_even() -> None:
    flat = Schedule("gold", "marginal", (Band(None, D("0.05")),))
    # 100.10 × 5% = 5.005 → 5.00 (half-even; half-up would give 5.01)
    assert rebates.compute(Money.of("100.10", "USD"), flat).amount.amount == D("5.00")
    # 100.30 × 5% = 5.015 → 5.02
    assert rebates.compute(Money.of("100.30", "USD"), flat).amount.amount == D("5.02")
    # JPY has no minor unit: 1,001 × 5% = 50.05 → 50
    assert rebates.compute(Money.of("1001", "JPY"), flat).amount.amount == D("50")


def test_uneven_volume_marginal_and_whole() -> None:
    s_m = schedule("marginal", "0.03", "0.045")
    s_w = schedule("whole_volume", "0.03", "0.045")
    volume = Money.of("1234567.89", "USD")
    # 30,000 + 234,567.89 × 4.5% (= 10,555.55505) = 40,555.55505 → 40,555.56
    assert rebates.compute(volume, s_m).amount.amount == D("40555.56")
    # 1,234,567.89 × 4.5% = 55,555.55505 → 55,555.56
    assert rebates.compute(volume, s_w).amount.amount == D("55555.56")


def test_zero_volume_gives_zero() -> None:
    result = rebates.compute(Money.zero("USD"), schedule("marginal"))
    assert result.amount == Money.zero("USD") and result.lines == []


def test_default_schedules_cover_every_tier() -> None:
    assert [s.bands[0].rate for s in rebates.DEFAULT_SCHEDULES.values()] == [
        D("0.02"), D("0.03"), D("0.04"), D("0.05"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "bands", "loc"),
    [
        ("stepwise", (Band(None, D("0.02")),), ["method"]),
        ("marginal", (), ["bands"]),
        ("marginal", (Band(None, D("0.02")), Band(None, D("0.03"))), ["bands", 0, "up_to"]),
        ("marginal", (Band(D(100), D("0.02")),), ["bands", 0, "up_to"]),
        ("marginal", (Band(D(100), D("0.02")), Band(D(50), D("0.02")), Band(None, D("0"))),
         ["bands", 1, "up_to"]),
        ("marginal", (Band(None, D("1.5")),), ["bands", 0, "rate"]),
    ],
)  # fmt: skip
def test_bad_schedules_name_the_field(method: str, bands: tuple[Band, ...], loc: list) -> None:
    with pytest.raises(Invalid) as err:
        rebates.validate(method, bands)
    assert err.value.errors[0]["loc"] == loc
