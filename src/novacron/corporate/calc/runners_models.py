"""Runners of the model-based kinds: WACC, DCF, sensitivity, scenarios, Monte Carlo."""

from __future__ import annotations

import dataclasses
from typing import Any

from novacron.core.errors import Invalid
from novacron.corporate.calc import schemas_models as sm
from novacron.corporate.finance.dcf import DCFInputs, DCFResult, DilutedShares, dcf
from novacron.corporate.finance.montecarlo import (
    Distribution,
    LogNormal,
    MonteCarloResult,
    Normal,
    Triangular,
    Uniform,
    monte_carlo,
)
from novacron.corporate.finance.rates import WACCResult, wacc, wacc_capm
from novacron.corporate.finance.sensitivity import (
    ScenarioResult,
    SensitivityTable,
    scenarios,
    sensitivity,
)
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth, Terminal

_CAPM = ("risk_free", "beta", "market_premium")


def run_wacc(m: sm.WACCIn) -> dict[str, Any]:
    """``WACCResult``'s fields, plus the currency tag of the market values if given."""
    result = dataclasses.asdict(_wacc(m))
    return {**result, **({"currency": m.currency} if m.currency else {})}


def _wacc(m: sm.WACCIn) -> WACCResult:
    """The cost of equity given, or by CAPM from its three inputs."""
    if m.cost_of_equity is not None:
        return wacc(m.equity_value, m.debt_value, m.cost_of_equity, m.cost_of_debt, m.tax_rate)
    missing = [name for name in _CAPM if getattr(m, name) is None]
    if missing:
        msg = "give cost_of_equity, or risk_free, beta and market_premium for CAPM"
        raise Invalid(msg, errors=[{"loc": [name], "msg": msg} for name in missing])
    assert m.risk_free is not None and m.beta is not None and m.market_premium is not None
    return wacc_capm(
        m.equity_value,
        m.debt_value,
        m.risk_free,
        m.beta,
        m.market_premium,
        m.cost_of_debt,
        m.tax_rate,
    )


def _terminal(m: sm.GordonIn | sm.ExitMultipleIn) -> Terminal:
    if isinstance(m, sm.GordonIn):
        return GordonGrowth(m.growth)
    return ExitMultiple(m.ev_ebitda)


def dcf_inputs(m: sm.DCFIn) -> DCFInputs:
    """The finance dataclass of the DCF fields of any model-based kind."""
    margin = m.ebitda_margin
    return DCFInputs(
        currency=m.currency,
        base_revenue=m.base_revenue,
        revenue_growth=tuple(m.revenue_growth),
        ebitda_margin=tuple(margin) if isinstance(margin, list) else margin,
        da_pct_revenue=m.da_pct_revenue,
        capex_pct_revenue=m.capex_pct_revenue,
        nwc_pct_revenue=m.nwc_pct_revenue,
        tax_rate=m.tax_rate,
        wacc=m.wacc,
        terminal=_terminal(m.terminal),
        mid_year=m.mid_year,
        net_debt=m.net_debt,
        shares=DilutedShares(
            basic=m.shares.basic,
            options=tuple((o.count, o.strike) for o in m.shares.options),
            rsus=m.shares.rsus,
        ),
        minority_interest=m.minority_interest,
        preferred_equity=m.preferred_equity,
        non_operating_assets=m.non_operating_assets,
    )


def run_dcf(m: sm.DCFIn) -> DCFResult:
    return dcf(dcf_inputs(m))


def run_sensitivity(m: sm.SensitivityIn) -> SensitivityTable:
    return sensitivity(
        dcf_inputs(m),
        (m.row.driver, m.row.values),
        (m.col.driver, m.col.values),
        m.metric,
    )


def run_scenarios(m: sm.ScenariosIn) -> ScenarioResult:
    return scenarios(dcf_inputs(m), m.scenarios, m.probabilities)


def _distribution(m: Any) -> Distribution:
    if isinstance(m, sm.NormalIn):
        return Normal(m.mean, m.sd)
    if isinstance(m, sm.UniformIn):
        return Uniform(m.low, m.high)
    if isinstance(m, sm.TriangularIn):
        return Triangular(m.low, m.mode, m.high)
    return LogNormal(m.mu, m.sigma)


def run_monte_carlo(m: sm.MonteCarloIn) -> MonteCarloResult:
    return monte_carlo(
        dcf_inputs(m),
        {name: _distribution(d) for name, d in m.distributions.items()},
        paths=m.paths,
        seed=m.seed,
        percentiles=m.percentiles,
    )
