"""Pydantic types of the partnerships API. Requests forbid unknown fields; money is a
Decimal amount next to its currency (JSON strings out, booked to the currency's
minor unit)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from novacron.core.clock import isoformat
from novacron.corporate.common import MAX_AMOUNT, URL_NAME
from novacron.corporate.finance.money import MINOR_UNITS

PartnerType = Literal["cloud", "hardware", "telco", "system_integrator", "reseller", "technology"]
PartnerStatus = Literal["prospect", "active", "suspended", "terminated"]
Tier = Literal["bronze", "silver", "gold", "platinum"]
ProgrammeKind = Literal["co_sell", "marketing", "incentive"]
Motion = Literal["sourced", "influenced"]
Currency = str
CURRENCY = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")
AMOUNT = Field(gt=0, le=MAX_AMOUNT, max_digits=18, decimal_places=4)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """Times as ISO 8601 UTC; Decimals as strings booked to the object's currency."""

    # The serializer below is untyped (one for every field), so the schema is taken from
    # the fields' own types: the OpenAPI then says what each response holds.
    model_config = ConfigDict(from_attributes=True, json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _wire(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return isoformat(value)
        if isinstance(value, Decimal):
            currency = getattr(self, "currency", None) or getattr(self, "budget_currency", None)
            places = MINOR_UNITS.get(str(currency), 2)
            return str(value.quantize(Decimal(1).scaleb(-places)))
        return value


# -- partners ------------------------------------------------------------------------------


class Contact(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=200)
    role: str = Field("", max_length=100)
    phone: str = Field("", max_length=50)


class PartnerCreate(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=URL_NAME)
    type: PartnerType
    region: str = Field("", max_length=64)
    currency: Currency = CURRENCY
    contacts: list[Contact] = Field(default_factory=list, max_length=50)
    status: PartnerStatus = "prospect"
    joined_on: date | None = None
    certified_engineers: int = Field(0, ge=0, le=100_000)
    csat: float | None = Field(None, ge=0, le=5, description="Customer satisfaction, 0-5")
    last_activity_on: date | None = None
    notes: str = Field("", max_length=10_000)


class PartnerUpdate(Strict):
    """Only the fields given change; ``tier`` is never set by hand (it is evaluated)."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=URL_NAME)
    type: PartnerType | None = None
    region: str | None = Field(None, max_length=64)
    contacts: list[Contact] | None = Field(None, max_length=50)
    status: PartnerStatus | None = None
    joined_on: date | None = None
    certified_engineers: int | None = Field(None, ge=0, le=100_000)
    csat: float | None = Field(None, ge=0, le=5)
    last_activity_on: date | None = None
    notes: str | None = Field(None, max_length=10_000)


class PartnerOut(Out):
    id: str
    name: str
    type: str
    region: str
    currency: str
    contacts: list[dict[str, Any]]
    status: str
    joined_on: date | None
    tier: str
    certified_engineers: int
    csat: float | None
    last_activity_on: date | None
    notes: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class CriterionOut(BaseModel):
    criterion: str
    required: str
    actual: str
    passed: bool
    gap: str


class TierEvaluationOut(BaseModel):
    partner_id: str
    tier: str
    previous_tier: str
    changed: bool
    next_tier: str | None
    next_tier_checks: list[CriterionOut]
    summary: str
    metrics: dict[str, Any]


class TierChangeOut(Out):
    id: str
    partner_id: str
    from_tier: str | None
    to_tier: str
    at: datetime
    reason: str


class TierCriteriaOut(BaseModel):
    tier: str
    min_revenue_12m: str
    min_certified_engineers: int
    min_closed_deals_12m: int
    min_csat: float


class FiguresOut(Out):
    period: str
    start: date
    end: date
    currency: str
    sourced_pipeline: Decimal
    influenced_pipeline: Decimal
    sourced_revenue: Decimal
    influenced_revenue: Decimal
    won: int
    lost: int
    win_rate: float | None
    average_deal_size: Decimal | None


class PerformanceOut(BaseModel):
    partner_id: str
    currency: str
    total: FiguresOut
    periods: list[FiguresOut]


class ComponentOut(BaseModel):
    name: str
    value: float | None
    score: float
    weight: float
    contribution: float
    explanation: str


class HealthOut(BaseModel):
    partner_id: str
    score: float
    band: str
    components: list[ComponentOut]


# -- programmes ----------------------------------------------------------------------------


class ProgrammeCreate(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=URL_NAME)
    kind: ProgrammeKind
    description: str = Field("", max_length=10_000)
    min_tier: Tier = "bronze"
    partner_types: list[PartnerType] = Field(default_factory=list)
    benefits: list[str] = Field(default_factory=list, max_length=50)
    start_on: date
    end_on: date | None = None
    mdf_budget: Decimal | None = Field(None, ge=0, le=MAX_AMOUNT, max_digits=18, decimal_places=4)
    budget_currency: Currency | None = Field(None, pattern=r"^[A-Z]{3}$")


class ProgrammeOut(Out):
    id: str
    name: str
    kind: str
    description: str
    min_tier: str
    partner_types: list[str]
    benefits: list[str]
    start_on: date
    end_on: date | None
    mdf_budget: Decimal | None
    budget_currency: str | None
    created_by: str
    created_at: datetime


class EnrolIn(Strict):
    partner: str = Field(min_length=1, description="Partner id or name")


class EnrolmentOut(Out):
    id: str
    programme_id: str
    partner_id: str
    enrolled_at: datetime
    enrolled_by: str
