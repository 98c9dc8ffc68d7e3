"""Accretion/dilution: hand-built worked examples with the arithmetic shown, and the
textbook identities (all-stock at equal P/E is neutral; break-even synergies give 0)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.finance.accretion import (
    AccretionInputs,
    AcquiredCompany,
    Acquirer,
    Consideration,
    accretion_dilution,
)
from novacron.corporate.finance.money import CurrencyMismatch

ACQUIRER = Acquirer(
    "USD", net_income=500, diluted_shares=100, share_price=50, tax_rate=0.25,
    cash=1000, interest_rate_on_cash=0.02,
)  # fmt: skip
MIXED = AccretionInputs(
    acquirer=ACQUIRER,
    target=AcquiredCompany("USD", net_income=100, purchase_price=1500),
    consideration=Consideration(cash=0.4, stock=0.3, debt=0.3),
    debt_interest_rate=0.06,
    synergies=40,
    transaction_fees=20,
    write_up_da=8,
)


def test_mixed_consideration_by_hand() -> None:
    r = accretion_dilution(MIXED)
    # cash 0.4 × 1500 = 600 + 20 fees = 620; debt 450; stock 450 / $50 = 9 new shares
    assert (r.cash_used, r.new_debt, r.stock_issued, r.new_shares) == (620, 450, 450, 9)
    # after tax (×0.75): synergies +30, write-up D&A −6, debt interest 450×6% = 27 → −20.25,
    # forgone interest 620×2% = 12.4 → −9.3
    adj = r.adjustments
    assert adj["interest_on_new_debt"].after_tax == pytest.approx(-20.25)
    assert adj["forgone_interest_on_cash"].after_tax == pytest.approx(-9.3)
    # PF NI = 500 + 100 + 30 − 6 − 20.25 − 9.3 = 594.45; shares 109; EPS 5.453670
    assert r.pro_forma_net_income == pytest.approx(594.45)
    assert r.pro_forma_shares == 109
    assert r.pro_forma_eps == pytest.approx(5.4536697248)
    assert r.standalone_eps == 5
    assert r.accretion_pct == pytest.approx(9.0733944954)
    assert r.status == "accretive"
    # break-even: (5 × 109 − 564.45) / 0.75 = −25.9333 (accretive without any synergies)
    assert r.breakeven_synergies == pytest.approx(-25.933333333)
    assert r.additional_synergies_needed == 0


def test_all_stock_at_a_higher_pe_dilutes() -> None:
    """Acquirer P/E 20 (NI 100, 100 shares at $20) buys a target at P/E 30 (NI 10 for 300)
    in stock: 15 new shares, PF EPS 110 / 115 = 0.956522 → −4.3478%; break-even synergies
    (1 × 115 − 110) / (1 − 0.25) = 6.6667."""
    r = accretion_dilution(
        AccretionInputs(
            Acquirer("EUR", 100, 100, 20, 0.25),
            AcquiredCompany("EUR", 10, offer_price_per_share=30, diluted_shares=10),
            Consideration(0, 1, 0),
        )
    )
    assert r.purchase_price == 300 and r.new_shares == 15
    assert r.accretion_pct == pytest.approx(-4.347826087)
    assert r.status == "dilutive"
    assert r.breakeven_synergies == pytest.approx(6.666666667)
    assert r.additional_synergies_needed == pytest.approx(6.666666667)
    assert r.currency == "EUR"


def test_mix_must_sum_to_one() -> None:
    with pytest.raises(Invalid) as err:
        accretion_dilution(replace(MIXED, consideration=Consideration(0.5, 0.3, 0.3)))
    assert err.value.errors[0]["loc"] == ["consideration"]
    assert "sum to 1" in err.value.detail


@pytest.mark.parametrize(
    ("inputs", "loc"),
    [
        (
            replace(MIXED, acquirer=replace(ACQUIRER, diluted_shares=-1)),
            ["acquirer", "diluted_shares"],
        ),
        (replace(MIXED, acquirer=replace(ACQUIRER, cash=100)), ["consideration", "cash"]),
        (replace(MIXED, acquirer=replace(ACQUIRER, tax_rate=1)), ["acquirer", "tax_rate"]),
        (replace(MIXED, target=AcquiredCompany("USD", 100)), ["target", "purchase_price"]),
        (replace(MIXED, transaction_fees=-1), ["transaction_fees"]),
        (replace(MIXED, consideration=Consideration(-0.2, 0.6, 0.6)), ["consideration", "cash"]),
    ],
)
def test_bad_inputs_name_the_field(inputs: AccretionInputs, loc: list[str]) -> None:
    with pytest.raises(Invalid) as err:
        accretion_dilution(inputs)
    assert err.value.errors[0]["loc"] == loc


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(CurrencyMismatch) as err:
        accretion_dilution(replace(MIXED, target=AcquiredCompany("GBP", 100, 1500)))
    assert err.value.errors[0]["loc"] == ["target", "currency"]


positive = st.floats(min_value=1, max_value=1e5)
share = st.floats(min_value=0, max_value=1)


@given(positive, positive, positive, positive, st.floats(min_value=0, max_value=0.5))
def test_all_stock_at_equal_pe_is_neutral(
    ni: float, shares: float, price: float, target_ni: float, tax: float
) -> None:
    pe = price / (ni / shares)
    r = accretion_dilution(
        AccretionInputs(
            Acquirer("USD", ni, shares, price, tax),
            AcquiredCompany("USD", target_ni, purchase_price=target_ni * pe),
            Consideration(0, 1, 0),
        )
    )
    assert r.accretion == pytest.approx(0, abs=1e-9)


@given(positive, positive, share, share, st.floats(min_value=0, max_value=0.15), positive)
def test_breakeven_synergies_give_zero_accretion(
    target_ni: float, price: float, cash: float, stock: float, rate: float, fees: float
) -> None:
    debt = max(0.0, 1 - cash - stock)
    total = cash + stock + debt
    mix = Consideration(cash / total, stock / total, debt / total)
    inputs = AccretionInputs(
        Acquirer("USD", 500, 100, 50, 0.3, interest_rate_on_cash=0.03),
        AcquiredCompany("USD", target_ni, purchase_price=price),
        mix,
        debt_interest_rate=rate,
        transaction_fees=fees,
        write_up_da=5,
    )
    breakeven = accretion_dilution(inputs).breakeven_synergies
    at_breakeven = accretion_dilution(replace(inputs, synergies=breakeven))
    assert at_breakeven.accretion == pytest.approx(0, abs=1e-9)
    assert at_breakeven.additional_synergies_needed == pytest.approx(0, abs=1e-6)
