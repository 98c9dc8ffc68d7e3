"""Pydantic input models of the model-based ``calc`` kinds: WACC, DCF and what moves a DCF
(sensitivity, scenarios, Monte Carlo).

The sensitivity, scenario and Monte Carlo inputs are the DCF's own fields plus their
extras, flat, so a path reads the same in every kind (``["inputs", "terminal", "growth"]``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from novacron.corporate.calc.schemas import Currency, Finite, In

MAX_API_PATHS = 2_000_000
"""Monte Carlo paths one request may ask for (the library allows more; a request should
not hold a server worker for long)."""


class WACCIn(In):
    equity_value: Finite = Field(description="Market value of equity")
    debt_value: Finite = Field(description="Market value of debt")
    cost_of_debt: Finite
    tax_rate: Finite
    cost_of_equity: Finite | None = Field(None, description="Or risk_free + beta × premium")
    risk_free: Finite | None = None
    beta: Finite | None = None
    market_premium: Finite | None = None
    currency: Currency | None = None


class GordonIn(In):
    method: Literal["gordon"]
    growth: Finite


class ExitMultipleIn(In):
    method: Literal["exit_multiple"]
    ev_ebitda: Finite


TerminalIn = Annotated[GordonIn | ExitMultipleIn, Field(discriminator="method")]


class OptionTrancheIn(In):
    count: Finite
    strike: Finite


class SharesIn(In):
    basic: Finite
    options: list[OptionTrancheIn] = Field(default_factory=list)
    rsus: Finite = 0.0


class DCFIn(In):
    currency: Currency
    base_revenue: Finite = Field(description="Last actual year's revenue")
    revenue_growth: list[Finite] = Field(min_length=1, description="One rate per forecast year")
    ebitda_margin: Finite | list[Finite]
    da_pct_revenue: Finite
    capex_pct_revenue: Finite
    nwc_pct_revenue: Finite
    tax_rate: Finite
    wacc: Finite
    terminal: TerminalIn
    mid_year: bool = Field(description="Mid-year discounting convention (explicit on purpose)")
    net_debt: Finite
    shares: SharesIn
    minority_interest: Finite = 0.0
    preferred_equity: Finite = 0.0
    non_operating_assets: Finite = 0.0


Metric = Literal["value_per_share", "enterprise_value", "equity_value"]


class AxisIn(In):
    driver: str = Field(examples=["wacc"])
    values: list[Finite] = Field(min_length=1, max_length=50)


class SensitivityIn(DCFIn):
    row: AxisIn
    col: AxisIn
    metric: Metric = "value_per_share"


class ScenariosIn(DCFIn):
    scenarios: dict[str, dict[str, Finite]] = Field(
        description='Driver overrides per scenario; "base" is required',
        examples=[{"base": {}, "bull": {"wacc": 0.08}, "bear": {"wacc": 0.11}}],
    )
    probabilities: dict[str, Finite] | None = None


class NormalIn(In):
    type: Literal["normal"]
    mean: Finite
    sd: Finite


class UniformIn(In):
    type: Literal["uniform"]
    low: Finite
    high: Finite


class TriangularIn(In):
    type: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite


class LogNormalIn(In):
    type: Literal["lognormal"]
    mu: Finite
    sigma: Finite


DistributionIn = Annotated[
    NormalIn | UniformIn | TriangularIn | LogNormalIn, Field(discriminator="type")
]


class MonteCarloIn(DCFIn):
    distributions: dict[str, DistributionIn] = Field(min_length=1)
    paths: int = Field(100_000, ge=1, le=MAX_API_PATHS)
    seed: int = Field(0, ge=0, description="Same seed, same paths")
    percentiles: list[Finite] = Field(
        default_factory=lambda: [5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0]
    )
