"""The finance engine: pure valuation math (no I/O), usable as a library.

    tvm       npv (explicit timing), xnpv, mirr, pmt/pv/fv/nper, payback, discounted_payback
    roots     irr (every real root, ambiguity flagged), xirr
    rates     capm, wacc / wacc_capm (market-value weights), Hamada betas, Gordon growth
    money     Money (Decimal + currency) for ledger figures; currencies never mix silently

Valuation floats are plain numbers; ledgers use ``Money``. Bad input raises
``novacron.core.errors.Invalid`` naming the argument (``errors[*].loc``).
"""

from __future__ import annotations

from novacron.corporate.finance.money import (
    MINOR_UNITS,
    CurrencyMismatch,
    Money,
    check_currency,
    same_currency,
    to_decimal,
    total,
)
from novacron.corporate.finance.rates import (
    WACCResult,
    capm,
    gordon_terminal_value,
    levered_beta,
    unlevered_beta,
    wacc,
    wacc_capm,
)
from novacron.corporate.finance.roots import IRRResult, irr, xirr
from novacron.corporate.finance.tvm import (
    discounted_payback,
    fv,
    mirr,
    nper,
    npv,
    payback,
    pmt,
    pv,
    xnpv,
)

__all__ = [
    "MINOR_UNITS",
    "CurrencyMismatch",
    "IRRResult",
    "Money",
    "WACCResult",
    "capm",
    "check_currency",
    "discounted_payback",
    "fv",
    "gordon_terminal_value",
    "irr",
    "levered_beta",
    "mirr",
    "nper",
    "npv",
    "payback",
    "pmt",
    "pv",
    "same_currency",
    "to_decimal",
    "total",
    "unlevered_beta",
    "wacc",
    "wacc_capm",
    "xirr",
    "xnpv",
]
