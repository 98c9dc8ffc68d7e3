"""Pydantic types of the M&A API. Requests forbid unknown fields; money is Decimal.

Money goes out as a plain decimal string (``"1250000.5"``) so no client loses a cent to
floating point; the currency travels beside it. Consistency rules that span fields
(custom category text, weights summing to 1, phase-in order, currencies) are checked by
the service and the pure modules, which name the offending field in ``Invalid``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_serializer

from novacron.core.clock import isoformat
from novacron.corporate.common import MAX_AMOUNT, URL_NAME
from novacron.corporate.finance.money import plain_decimal

Category = Literal["storage", "networking", "security", "ai_ml", "quantum", "custom"]
SynergyCategory = Literal["revenue", "cost"]

CURRENCY = r"^[A-Z]{3}$"
MAX_MONEY = MAX_AMOUNT
"""The corporate bound on money (see ``novacron.corporate.common.MAX_AMOUNT``): what
both databases store exactly to the fourth decimal."""


Amount = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str, when_used="json")]
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, decimal_places=4),
    PlainSerializer(plain_decimal, return_type=str, when_used="json"),
]
SignedMoney = Annotated[
    Decimal,
    Field(ge=-MAX_MONEY, le=MAX_MONEY, decimal_places=4),
    PlainSerializer(plain_decimal, return_type=str, when_used="json"),
]
Person = Annotated[str, Field(min_length=1, max_length=128)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    # The serializer below is untyped (one for every field), so the schema is taken from
    # the fields' own types: the OpenAPI then says what each response holds.
    model_config = ConfigDict(from_attributes=True, json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _plain(self, value: Any) -> Any:
        """ISO times and plain decimal strings (a ``"*"`` serializer overrides the fields'
        own, so money is handled here too)."""
        if isinstance(value, datetime):
            return isoformat(value)
        if isinstance(value, Decimal):
            return plain_decimal(value)
        return value


# -- targets ------------------------------------------------------------------------------


class TargetFields(Strict):
    """What can be set on a target, at creation or later."""

    category: Category | None = None
    custom_category: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=20000)
    headquarters: str | None = Field(None, max_length=200)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2")
    website: str | None = Field(None, max_length=512, pattern=r"^https?://\S+$")
    currency: str | None = Field(None, pattern=CURRENCY)
    revenue: Money | None = Field(None, description="Annual revenue, in currency")
    ebitda: SignedMoney | None = Field(None, description="Annual EBITDA (may be negative)")
    employees: int | None = Field(None, ge=0, le=10_000_000)
    financials_year: int | None = Field(None, ge=1900, le=2200)
    asking_value: Money | None = Field(None, description="Asking or indicative EV")
    owner: Person | None = Field(None, description="Deal lead")
    probability: int | None = Field(
        None, ge=0, le=100, description="% chance of closing; default by stage"
    )
    expected_close_on: date | None = None
    nda_signed: bool | None = None
    nda_owner: Person | None = None


NAME = URL_NAME
"""Target names appear in URL paths (``/targets/{name}``): anything but a slash."""


class TargetCreate(TargetFields):
    name: str = Field(min_length=1, max_length=200, pattern=NAME)
    category: Category
    currency: str = Field("USD", pattern=CURRENCY)


class TargetUpdate(TargetFields):
    name: str | None = Field(None, min_length=1, max_length=200, pattern=NAME)
    signed_on: date | None = None
    closed_on: date | None = None


class TargetOut(Out):
    id: str
    name: str
    category: str
    custom_category: str | None
    description: str
    headquarters: str | None
    country: str | None
    website: str | None
    currency: str
    revenue: Amount | None
    ebitda: Amount | None
    employees: int | None
    financials_year: int | None
    asking_value: Amount | None
    owner: str
    stage: str
    stage_changed_at: datetime
    probability: int
    probability_is_default: bool
    weighted_value: Amount | None
    expected_close_on: date | None
    dropped_from: str | None
    drop_reason: str | None
    nda_signed: bool
    nda_owner: str | None
    signed_on: date | None
    closed_on: date | None
    integration_programme_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


# -- stages -------------------------------------------------------------------------------


class AdvanceRequest(Strict):
    reason: str | None = Field(None, max_length=2000)
    min_score: float | None = Field(
        None, ge=0, le=100, description="Screening threshold for this move (default 60)"
    )


class DropRequest(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ReopenRequest(Strict):
    reason: str | None = Field(None, max_length=2000)


class CriterionOut(BaseModel):
    id: str
    description: str
    met: bool
    detail: str


class GateOut(BaseModel):
    target_id: str
    name: str
    stage: str
    next_stage: str | None
    ready: bool
    criteria: list[CriterionOut]


class StageChangeOut(Out):
    id: str
    target_id: str
    from_stage: str | None
    to_stage: str
    by: str
    at: datetime
    reason: str | None


# -- scorecards ---------------------------------------------------------------------------


class CriterionIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(description="Share of the total; all weights sum to 1")
    score: float = Field(description="0..scale")
    rationale: str = Field("", max_length=2000)


class ScorecardCreate(Strict):
    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)
    scale: Literal[10, 100] = 10
    note: str = Field("", max_length=2000)


class ScorecardOut(Out):
    id: str
    target_id: str
    version: int
    scale: int
    criteria: list[dict[str, Any]]
    total: float
    explanation: dict[str, Any]
    note: str
    created_by: str
    created_at: datetime


# -- valuations ---------------------------------------------------------------------------


class ValuationCreate(Strict):
    kind: str = Field(pattern=r"^[a-z][a-z_]{0,31}$", description="e.g. dcf, comps, scenarios")
    inputs: dict[str, Any]
    note: str = Field("", max_length=2000)


class ValuationOut(Out):
    id: str
    target_id: str
    version: int
    kind: str
    inputs: dict[str, Any]
    result: dict[str, Any]
    note: str
    approved: bool
    approved_by: str | None
    approved_at: datetime | None
    created_by: str
    created_at: datetime


class ValuationDiffOut(BaseModel):
    target_id: str
    from_version: int
    to_version: int
    from_kind: str
    to_kind: str
    changes: list[dict[str, Any]]


# -- synergy plan -------------------------------------------------------------------------


class SynergyLineIn(Strict):
    category: SynergyCategory
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    run_rate: Money = Field(description="Annual run-rate once fully phased in")
    currency: str | None = Field(None, pattern=CURRENCY, description="Default: the target's")
    phase_in: list[float] = Field(
        min_length=1, max_length=10, description="Fraction of run-rate reached each year"
    )
    one_off_cost: Money = Decimal(0)
    owner: Person | None = None


MAX_SYNERGY_LINES = 200
"""As many as an integration programme copies on close."""


class SynergyPlanIn(Strict):
    lines: list[SynergyLineIn] = Field(max_length=MAX_SYNERGY_LINES)


class SynergyLineOut(Out):
    id: str
    target_id: str
    category: str
    name: str
    description: str
    run_rate: Amount
    currency: str
    phase_in: list[float]
    one_off_cost: Amount
    owner: str | None
    created_by: str
    created_at: datetime


class CategoryTotals(BaseModel):
    revenue: Amount
    cost: Amount
    total: Amount


class YearTotals(CategoryTotals):
    year: int


class SynergyTotals(BaseModel):
    run_rate: CategoryTotals
    by_year: list[YearTotals]
    one_off_cost: Amount


class SynergyPlanOut(BaseModel):
    target_id: str
    currency: str
    lines: list[SynergyLineOut]
    totals: SynergyTotals
