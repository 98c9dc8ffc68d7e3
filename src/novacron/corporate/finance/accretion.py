"""Accretion/dilution: does the deal raise or lower the acquirer's earnings per share?

Run-rate, first-full-year view (the usual banker's screen):

    purchase price      = given, or offer price per share × target diluted shares
    cash used           = cash % × price + transaction fees   (fees are paid in cash)
    new debt            = debt % × price
    new shares          = stock % × price / acquirer share price
    pro-forma NI        = acquirer NI + target NI
                          + (synergies − write-up D&A − new debt × debt rate
                             − cash used × rate on cash) × (1 − tax)
    pro-forma EPS       = pro-forma NI / (acquirer diluted shares + new shares)
    accretion           = pro-forma EPS / standalone EPS − 1

Fees are one-off: they cost the interest forgone on the cash that pays them, but are not
expensed in the run-rate year. The break-even synergies are the pre-tax synergies at
which accretion is exactly 0; negative means the deal is accretive even with none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import same_currency
from novacron.corporate.finance.tvm import as_number, as_rate, finite, invalid, loc_of

MIX_TOLERANCE = 1e-9


def _invalid(field: str, msg: str) -> Invalid:
    return invalid(loc_of(field), msg)


def _finite(value: float, field: str) -> float:
    return as_number(value, loc_of(field))


def _positive(value: float, field: str) -> float:
    if _finite(value, field) <= 0:
        raise _invalid(field, "must be positive")
    return float(value)


def _non_negative(value: float, field: str) -> float:
    if _finite(value, field) < 0:
        raise _invalid(field, "must not be negative")
    return float(value)


@dataclass(frozen=True, slots=True)
class Acquirer:
    currency: str
    net_income: float
    diluted_shares: float
    share_price: float
    tax_rate: float
    cash: float | None = None
    """Cash available for the deal; when given, cash used may not exceed it."""
    interest_rate_on_cash: float = 0.0


@dataclass(frozen=True, slots=True)
class AcquiredCompany:
    """The target: a purchase (equity) price, or an offer price per share × its shares."""

    currency: str
    net_income: float
    purchase_price: float | None = None
    offer_price_per_share: float | None = None
    diluted_shares: float | None = None


@dataclass(frozen=True, slots=True)
class Consideration:
    """Fractions of the purchase price paid in cash, new acquirer stock and new debt."""

    cash: float
    stock: float
    debt: float


@dataclass(frozen=True, slots=True)
class AccretionInputs:
    acquirer: Acquirer
    target: AcquiredCompany
    consideration: Consideration
    debt_interest_rate: float = 0.0
    synergies: float = 0.0
    """Pre-tax, run-rate."""
    transaction_fees: float = 0.0
    write_up_da: float = 0.0
    """Annual pre-tax D&A of the asset write-ups (purchase price allocation)."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One pro-forma line, pre-tax and after tax (sign: its effect on net income)."""

    pre_tax: float
    after_tax: float


@dataclass(frozen=True, slots=True)
class AccretionResult:
    currency: str
    purchase_price: float
    cash_used: float
    new_debt: float
    stock_issued: float
    new_shares: float
    pro_forma_shares: float
    adjustments: dict[str, Adjustment]
    standalone_eps: float
    pro_forma_net_income: float
    pro_forma_eps: float
    accretion: float
    """Fraction: 0.05 is 5% accretive, -0.05 is 5% dilutive."""
    accretion_pct: float
    status: Literal["accretive", "dilutive", "neutral"]
    breakeven_synergies: float
    """Pre-tax synergies at which accretion is 0 (negative: accretive without any)."""
    additional_synergies_needed: float
    """``max(0, breakeven − synergies)``."""


def _check_mix(mix: Consideration) -> None:
    for name in ("cash", "stock", "debt"):
        share = _finite(getattr(mix, name), f"consideration.{name}")
        if not 0 <= share <= 1:
            raise _invalid(f"consideration.{name}", "a share of the price must be in [0, 1]")
    total = mix.cash + mix.stock + mix.debt
    if abs(total - 1) > MIX_TOLERANCE:
        raise _invalid(
            "consideration", f"cash + stock + debt must sum to 1 (they sum to {total:.6g})"
        )


def _purchase_price(target: AcquiredCompany) -> float:
    if target.purchase_price is not None:
        return _positive(target.purchase_price, "target.purchase_price")
    if target.offer_price_per_share is None or target.diluted_shares is None:
        raise _invalid(
            "target.purchase_price",
            "give a purchase price, or an offer price per share and diluted shares",
        )
    price = _positive(target.offer_price_per_share, "target.offer_price_per_share")
    return price * _positive(target.diluted_shares, "target.diluted_shares")


def _check(inputs: AccretionInputs) -> str:
    acq, tgt = inputs.acquirer, inputs.target
    currency = same_currency(
        [("acquirer.currency", acq.currency), ("target.currency", tgt.currency)]
    )
    _finite(acq.net_income, "acquirer.net_income")
    _positive(acq.diluted_shares, "acquirer.diluted_shares")
    _positive(acq.share_price, "acquirer.share_price")
    if not 0 <= _finite(acq.tax_rate, "acquirer.tax_rate") < 1:
        raise _invalid("acquirer.tax_rate", "must be in [0, 1)")
    as_rate(acq.interest_rate_on_cash, "acquirer.interest_rate_on_cash")
    if acq.cash is not None:
        _non_negative(acq.cash, "acquirer.cash")
    _finite(tgt.net_income, "target.net_income")
    _check_mix(inputs.consideration)
    as_rate(inputs.debt_interest_rate, "debt_interest_rate")
    _finite(inputs.synergies, "synergies")
    _non_negative(inputs.transaction_fees, "transaction_fees")
    _non_negative(inputs.write_up_da, "write_up_da")
    if acq.net_income <= 0:
        raise _invalid("acquirer.net_income", "EPS accretion needs positive standalone earnings")
    return currency


def _check_finite(*figures: tuple[float, str]) -> None:
    """``Invalid`` naming the input behind the first figure that overflows a float (a
    share price of 1e-320 issues infinitely many shares): no ``inf`` reaches a result."""
    for value, field in figures:
        finite(value, loc_of(field), "the pro-forma figures")


def accretion_dilution(inputs: AccretionInputs) -> AccretionResult:
    """Pro-forma EPS against standalone EPS, and the synergies that break even."""
    currency = _check(inputs)
    acq, mix = inputs.acquirer, inputs.consideration
    price = _purchase_price(inputs.target)
    cash_used = mix.cash * price + inputs.transaction_fees
    if acq.cash is not None and cash_used > acq.cash + 1e-9:
        raise _invalid(
            "consideration.cash",
            f"the deal needs {cash_used:,.2f} of cash but the acquirer has {acq.cash:,.2f}",
        )
    new_debt = mix.debt * price
    stock = mix.stock * price
    new_shares = stock / acq.share_price
    pf_shares = acq.diluted_shares + new_shares
    keep = 1 - acq.tax_rate
    pre_tax = {
        "synergies": inputs.synergies,
        "write_up_da": 0.0 - inputs.write_up_da,
        "interest_on_new_debt": -new_debt * inputs.debt_interest_rate,
        "forgone_interest_on_cash": -cash_used * acq.interest_rate_on_cash,
    }
    adjustments = {k: Adjustment(v, v * keep) for k, v in pre_tax.items()}
    base = acq.net_income + inputs.target.net_income
    pf_ni = base + math.fsum(a.after_tax for a in adjustments.values())
    standalone = acq.net_income / acq.diluted_shares
    pf_eps = pf_ni / pf_shares
    accretion = pf_eps / standalone - 1
    without_synergies = pf_ni - adjustments["synergies"].after_tax
    breakeven = (standalone * pf_shares - without_synergies) / keep
    _check_finite(
        (price, "target.purchase_price"),
        (new_shares, "acquirer.share_price"),
        (pf_ni, "synergies"),
        (pf_eps, "acquirer.diluted_shares"),
        (accretion, "acquirer.net_income"),
        (breakeven, "acquirer.tax_rate"),
    )
    status: Literal["accretive", "dilutive", "neutral"] = (
        "neutral" if abs(accretion) < 1e-12 else "accretive" if accretion > 0 else "dilutive"
    )
    return AccretionResult(
        currency=currency,
        purchase_price=price,
        cash_used=cash_used,
        new_debt=new_debt,
        stock_issued=stock,
        new_shares=new_shares,
        pro_forma_shares=pf_shares,
        adjustments=adjustments,
        standalone_eps=standalone,
        pro_forma_net_income=pf_ni,
        pro_forma_eps=pf_eps,
        accretion=accretion,
        accretion_pct=accretion * 100,
        status=status,
        breakeven_synergies=breakeven,
        additional_synergies_needed=max(0.0, breakeven - inputs.synergies),
    )
