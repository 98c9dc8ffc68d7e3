"""MDF state machine and ledger balances; partner performance figures (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.core.errors import Invalid, InvalidState
from novacron.corporate.finance.money import CurrencyMismatch, Money
from novacron.corporate.partners import mdf_rules, performance
from novacron.corporate.partners.performance import Deal

D = Decimal


def test_mdf_happy_path_and_illegal_steps() -> None:
    state = "requested"
    for action in ("approve", "claim", "pay"):
        state = mdf_rules.next_state(state, action)
    assert state == "paid"
    with pytest.raises(InvalidState, match="cannot claim MDF request m1: it is requested"):
        mdf_rules.next_state("requested", "claim", "m1")
    with pytest.raises(InvalidState, match="it is paid"):
        mdf_rules.next_state("paid", "pay")


def test_amount_rules_name_the_field() -> None:
    with pytest.raises(Invalid) as err:
        mdf_rules.check_claim(Money.of("100.00", "USD"), Money.of("100.01", "USD"))
    assert err.value.errors[0]["loc"] == ["claimed_amount"]
    with pytest.raises(Invalid) as err:
        mdf_rules.check_approval(Money.of("10", "USD"), Money.of("0", "USD"))
    assert err.value.errors[0]["loc"] == ["approved_amount"]
    with pytest.raises(CurrencyMismatch) as mismatch:
        mdf_rules.check_claim(Money.of("100", "USD"), Money.of("50", "EUR"))
    assert mismatch.value.errors[0]["loc"] == ["claimed_amount"]
    mdf_rules.check_claim(Money.of("100", "USD"), Money.of("100", "USD"))  # equal is fine


def test_budget() -> None:
    budget = Money.of("1000", "USD")
    mdf_rules.check_budget(budget, Money.of("600", "USD"), Money.of("400", "USD"))
    with pytest.raises(Invalid, match=r"remaining MDF budget 400\.00 USD"):
        mdf_rules.check_budget(budget, Money.of("600", "USD"), Money.of("400.01", "USD"))


def test_balances_per_currency_to_the_cent() -> None:
    entries = [
        ("mdf_approved", Money.of("1000.00", "USD")),
        ("mdf_claimed", Money.of("750.25", "USD")),
        ("mdf_released", Money.of("249.75", "USD")),
        ("mdf_paid", Money.of("750.25", "USD")),
        ("mdf_approved", Money.of("500.00", "USD")),
        ("rebate_accrued", Money.of("32500.00", "USD")),
        ("mdf_approved", Money.of("300", "EUR")),
    ]
    eur, usd = mdf_rules.balances(entries)
    assert (usd.approved, usd.claimed, usd.paid, usd.remaining, usd.rebates_accrued) == (
        D("1250.25"), D("750.25"), D("750.25"), D("500.00"), D("32500.00"),
    )  # fmt: skip
    assert (eur.currency, eur.approved, eur.remaining) == ("EUR", D("300.00"), D("300.00"))


def test_quarters_are_clipped_to_the_period() -> None:
    assert performance.quarters(date(2025, 11, 15), date(2026, 4, 2)) == [
        ("2025-Q4", date(2025, 11, 15), date(2025, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 4, 2)),
    ]


def test_performance_figures() -> None:
    deals = [
        Deal("sourced", "won", D("100000.00"), date(2026, 1, 5), date(2026, 2, 1)),
        Deal("influenced", "won", D("50000.50"), date(2026, 1, 9), date(2026, 5, 1)),
        Deal("sourced", "lost", D("70000"), date(2026, 1, 9), date(2026, 2, 20)),
        Deal("sourced", "approved", D("30000"), date(2026, 3, 1), None),
        Deal("influenced", "pending", D("20000"), date(2026, 4, 1), None),
        Deal("sourced", "won", D("999"), date(2025, 1, 1), date(2025, 6, 1)),  # outside
    ]
    total, per = performance.report(deals, date(2026, 1, 1), date(2026, 6, 30), "USD")
    assert (total.sourced_revenue, total.influenced_revenue) == (D("100000.00"), D("50000.50"))
    assert (total.sourced_pipeline, total.influenced_pipeline) == (D("30000.00"), D("20000.00"))
    assert (total.won, total.lost, total.win_rate) == (2, 1, 0.6667)
    assert total.average_deal_size == D("75000.25")
    q1, q2 = per
    assert (q1.period, q1.won, q1.lost, q1.win_rate) == ("2026-Q1", 1, 1, 0.5)
    assert (q2.period, q2.influenced_revenue, q2.influenced_pipeline) == (
        "2026-Q2", D("50000.50"), D("20000.00"),
    )  # fmt: skip
    empty = performance.figures([], date(2026, 1, 1), date(2026, 1, 31), "x", "USD")
    assert empty.win_rate is None and empty.average_deal_size is None
