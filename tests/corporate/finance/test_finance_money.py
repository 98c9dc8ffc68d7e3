"""Tagged money and the small helpers every ledger and roll-up shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from novacron.corporate.finance.money import (
    CurrencyMismatch,
    Money,
    booked,
    percent,
    plain_decimal,
    same_currency,
)


def test_percent_is_exact_in_decimal_and_none_without_a_whole() -> None:
    assert percent(Decimal("1"), Decimal("3")) == 33.33
    assert percent(Decimal("1"), Decimal("3"), 1) == 33.3
    assert percent(7, 8) == 87.5
    assert percent(Decimal("5"), 0) is None


def test_booking_rounds_half_even_to_the_minor_unit() -> None:
    assert booked(Decimal("5.005"), "USD") == Decimal("5.00")
    assert booked(Decimal("5.015"), "USD") == Decimal("5.02")
    assert booked(Decimal("1234.5"), "JPY") == Decimal("1234")
    assert booked(None, "EUR") == Decimal("0.00")


def test_mixed_currencies_are_refused_naming_the_field_with_int_indices() -> None:
    with pytest.raises(CurrencyMismatch) as err:
        same_currency([("lines.0.currency", "USD"), ("lines.1.currency", "EUR")])
    assert err.value.errors[0]["loc"] == ["lines", 1, "currency"]
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1", "USD") + Money.of("1", "EUR")


def test_plain_decimal_drops_storage_padding() -> None:
    assert plain_decimal(Decimal("1250000.0000")) == "1250000"
    assert plain_decimal(Decimal("0.5000")) == "0.5"
    assert plain_decimal(Decimal("-0.0000")) == "0"
