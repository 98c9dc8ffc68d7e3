"""Pydantic input models of the ``calc`` kinds: JSON in, validated, with field paths.

Field names are the finance dataclasses' own, so a path in a pydantic error
(``["inputs", "peers", 2, "ebitda"]``) and one raised by the finance engine
(``["inputs", "peers", 2, "currency"]``) read the same. The models check types and
finiteness; the finance engine checks the meaning (ranges, sums, currencies) and names
the field itself. Valuation models (DCF, sensitivity, scenarios, Monte Carlo) live in
``schemas_models.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Finite = Annotated[float, Field(allow_inf_nan=False)]
Flows = Annotated[list[Finite], Field(min_length=1, description="Cash flows, one per period")]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, three capitals, e.g. USD")
]
"""Checked here for every kind, so a tag that is only echoed (npv, pmt …) is a real code
too (``"usd"`` or ``"US1"`` were echoed as given)."""


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- time value of money --------------------------------------------------------------------


class NPVIn(In):
    rate: Finite
    cashflows: Flows
    timing: Literal["t0", "end"] = Field(
        description="t0: first flow at t=0 (numpy-financial); end: every flow at the end of "
        "its period (Excel NPV)"
    )
    currency: Currency | None = None


class IRRIn(In):
    cashflows: Flows
    currency: Currency | None = None


class XIRRIn(In):
    cashflows: Flows
    dates: list[date] = Field(min_length=1)
    guess: Finite = 0.1
    currency: Currency | None = None


class MIRRIn(In):
    cashflows: Flows
    finance_rate: Finite
    reinvest_rate: Finite
    currency: Currency | None = None


class PMTIn(In):
    rate: Finite
    nper: Finite
    pv: Finite
    fv: Finite = 0.0
    when: Literal["end", "begin"] = "end"
    currency: Currency | None = None


class PaybackIn(In):
    cashflows: Flows
    rate: Finite | None = Field(None, description="Also the discounted payback at this rate")
    currency: Currency | None = None


# -- comps, precedents, football field ------------------------------------------------------


class PeerIn(In):
    name: str = Field(min_length=1)
    currency: Currency
    enterprise_value: Finite
    revenue: Finite | None = None
    ebitda: Finite | None = None
    net_income: Finite | None = None
    market_cap: Finite | None = None
    eps: Finite | None = None
    price: Finite | None = None


class TargetIn(In):
    currency: Currency
    revenue: Finite | None = None
    ebitda: Finite | None = None
    net_income: Finite | None = None
    net_debt: Finite = 0.0
    diluted_shares: Finite | None = None


class CompsIn(In):
    peers: list[PeerIn] = Field(min_length=1)
    target: TargetIn | None = None


class DealIn(In):
    acquirer: str = Field(min_length=1)
    target: str = Field(min_length=1)
    date: date
    currency: Currency
    enterprise_value: Finite
    revenue: Finite | None = None
    ebitda: Finite | None = None
    premium: Finite | None = Field(None, description="Premium paid, 0.30 = 30%")


class PrecedentsIn(In):
    deals: list[DealIn] = Field(min_length=1)
    target: TargetIn | None = None
    unaffected_price: Finite | None = None
    control_premium: Finite | None = Field(
        None, description="Explicit premium; default: the observed premiums' quartiles"
    )


class BarIn(In):
    label: str = Field(min_length=1)
    low: Finite
    high: Finite
    midpoint: Finite | None = None
    currency: Currency | None = None


class FootballFieldIn(In):
    currency: Currency
    unit: str = "per share"
    bars: list[BarIn] = Field(min_length=1)
    current_price: Finite | None = None
    offer_price: Finite | None = None


# -- synergies, accretion/dilution ----------------------------------------------------------


class SynergiesIn(In):
    currency: Currency
    discount_rate: Finite
    tax_rate: Finite
    revenue_run_rate: Finite = 0.0
    revenue_phase_in: list[Finite] = Field(default_factory=list, examples=[[0.25, 0.5, 1.0]])
    revenue_margin: Finite = 0.0
    cost_run_rate: Finite = 0.0
    cost_phase_in: list[Finite] = Field(default_factory=list, examples=[[0.5, 1.0]])
    integration_costs: list[Finite] = Field(default_factory=list, description="One-off, by year")
    terminal_growth: Finite | None = Field(None, description="None: no terminal value")


class AcquirerIn(In):
    currency: Currency
    net_income: Finite
    diluted_shares: Finite
    share_price: Finite
    tax_rate: Finite
    cash: Finite | None = None
    interest_rate_on_cash: Finite = 0.0


class AcquiredIn(In):
    currency: Currency
    net_income: Finite
    purchase_price: Finite | None = None
    offer_price_per_share: Finite | None = None
    diluted_shares: Finite | None = None


class ConsiderationIn(In):
    cash: Finite = 0.0
    stock: Finite = 0.0
    debt: Finite = 0.0


class AccretionIn(In):
    acquirer: AcquirerIn
    target: AcquiredIn
    consideration: ConsiderationIn
    debt_interest_rate: Finite = 0.0
    synergies: Finite = Field(0.0, description="Pre-tax, run-rate")
    transaction_fees: Finite = 0.0
    write_up_da: Finite = Field(0.0, description="Annual pre-tax D&A of asset write-ups")
