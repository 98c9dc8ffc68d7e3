"""The finance engine: pure valuation math (no I/O), usable as a library.

    tvm       npv (explicit timing), xnpv, mirr, pmt/pv/fv/nper, payback, discounted_payback
    roots     irr (every real root, ambiguity flagged), xirr
    rates     capm, wacc / wacc_capm (market-value weights), Hamada betas, Gordon growth
    money     Money (Decimal + currency) for ledger figures; currencies never mix silently
    dcf       DCF from drivers (FCFF, Gordon or exit-multiple terminal value, explicit
              mid-year setting, EV → equity → value per diluted share); terminal.py
    sensitivity  two-driver sensitivity tables, scenarios (base/bull/bear …)
    montecarlo   vectorised Monte Carlo over driver distributions → EV percentiles
    comps     trading comps (NM excluded and counted, inclusive quartiles), precedents
    football  the football field of every method's range
    synergy   revenue/cost synergies with phase-in, integration costs, tax, terminal value
    accretion accretion/dilution for cash, stock or mixed consideration

Valuation floats are plain numbers; ledgers use ``Money``. Bad input raises
``novacron.core.errors.Invalid`` naming the argument (``errors[*].loc``).
"""

from __future__ import annotations

from novacron.corporate.finance.accretion import (
    AccretionInputs,
    AccretionResult,
    AcquiredCompany,
    Acquirer,
    Consideration,
    accretion_dilution,
)
from novacron.corporate.finance.comps import Deal, Peer, Target, comps, precedents
from novacron.corporate.finance.dcf import DCFInputs, DCFResult, DilutedShares, dcf
from novacron.corporate.finance.football import Bar, FootballField, football_field
from novacron.corporate.finance.money import (
    MINOR_UNITS,
    CurrencyMismatch,
    Money,
    check_currency,
    same_currency,
    to_decimal,
    total,
)
from novacron.corporate.finance.montecarlo import (
    LogNormal,
    MonteCarloResult,
    Normal,
    Triangular,
    Uniform,
    monte_carlo,
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
from novacron.corporate.finance.sensitivity import (
    ScenarioResult,
    SensitivityTable,
    scenarios,
    sensitivity,
    with_drivers,
)
from novacron.corporate.finance.synergy import SynergyInputs, SynergyResult, synergies
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth
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
    "AccretionInputs",
    "AccretionResult",
    "AcquiredCompany",
    "Acquirer",
    "Bar",
    "Consideration",
    "CurrencyMismatch",
    "DCFInputs",
    "DCFResult",
    "Deal",
    "DilutedShares",
    "ExitMultiple",
    "FootballField",
    "GordonGrowth",
    "IRRResult",
    "LogNormal",
    "Money",
    "MonteCarloResult",
    "Normal",
    "Peer",
    "ScenarioResult",
    "SensitivityTable",
    "SynergyInputs",
    "SynergyResult",
    "Target",
    "Triangular",
    "Uniform",
    "WACCResult",
    "accretion_dilution",
    "capm",
    "check_currency",
    "comps",
    "dcf",
    "discounted_payback",
    "football_field",
    "fv",
    "gordon_terminal_value",
    "irr",
    "levered_beta",
    "mirr",
    "monte_carlo",
    "nper",
    "npv",
    "payback",
    "pmt",
    "precedents",
    "pv",
    "same_currency",
    "scenarios",
    "sensitivity",
    "synergies",
    "to_decimal",
    "total",
    "unlevered_beta",
    "wacc",
    "wacc_capm",
    "with_drivers",
    "xirr",
    "xnpv",
]
