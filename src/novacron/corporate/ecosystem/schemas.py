"""Pydantic types of the ecosystem API. Requests forbid unknown fields; amounts are
Decimals (sent and returned as strings in JSON so no cent is lost to a float), booked
to the currency's minor unit in answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from novacron.core.clock import isoformat
from novacron.corporate.common import MAX_AMOUNT, URL_NAME

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]
Name = Annotated[str, Field(min_length=1, max_length=128)]
RefName = Annotated[str, Field(min_length=1, max_length=128, pattern=URL_NAME)]
"""A name that addresses its row in URL paths (no slash)."""
Text = Annotated[str, Field(max_length=4000)]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=20, decimal_places=4)]
Positive = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, max_digits=20, decimal_places=4)]
Signed = Annotated[Decimal, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, max_digits=20, decimal_places=4)]
Pct = Annotated[Decimal, Field(ge=0, le=100, max_digits=8, decimal_places=4)]

JVStatus = Literal["forming", "active", "dissolved"]
Direction = Literal["in", "out"]
Recognition = Literal["straight_line", "point_in_time"]
LabStatus = Literal["proposed", "active", "concluded"]
ProjectStatus = Literal["planned", "active", "completed", "cancelled"]
Outcome = Literal["prototype", "patent", "product_feature", "none"]
ProgrammeType = Literal["research_grant", "fellowship", "internship", "curriculum"]
OutputKind = Literal["publication", "patent", "hire"]
CertStatus = Literal["planned", "in_process", "authorized", "expired", "revoked"]
PERIOD_PATTERN = r"^\d{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    # The serializer below is untyped (one for every field), so the schema is taken from
    # the fields' own types: the OpenAPI then says what each response holds.
    model_config = ConfigDict(from_attributes=True, json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _times(self, value: Any) -> Any:
        return isoformat(value) if isinstance(value, datetime) else value


# -- joint ventures ---------------------------------------------------------------------------


class PartyIn(Strict):
    name: Name
    equity_pct: Decimal = Field(max_digits=12, description="Percent; all parties sum to 100")
    is_us: bool = Field(False, description="This party is our company")


class JVCreate(Strict):
    name: RefName
    purpose: Text = ""
    status: JVStatus = "forming"
    formation_date: date | None = None
    currency: Currency
    parties: list[PartyIn] = Field(max_length=50)


class JVUpdate(Strict):
    purpose: Text | None = None
    status: JVStatus | None = None
    formation_date: date | None = None


class PartiesPut(Strict):
    parties: list[PartyIn] = Field(max_length=50)


class InvestmentIn(Strict):
    party: Name = Field(description="Party name or id")
    amount: Positive
    currency: Currency
    invested_on: date
    note: str = Field("", max_length=512)


class PeriodIn(Strict):
    period: str = Field(pattern=PERIOD_PATTERN, description="2026, 2026-H1, 2026-Q3 or 2026-07")
    revenue: Signed
    profit: Signed
    distribution: Amount | None = Field(
        None, description="Cash distributed for the period; default: the profit, if positive"
    )
    currency: Currency


class PartyOut(Out):
    id: str
    name: str
    equity_pct: Decimal
    is_us: bool
    invested: Decimal
    share_of_profit: Decimal
    distributions: Decimal
    simple_return: Decimal | None = Field(description="distributions / invested")


class InvestmentOut(Out):
    id: str
    party: str
    party_id: str
    amount: Decimal
    currency: str
    invested_on: date
    note: str


class ShareOut(Out):
    party: str
    equity_pct: Decimal
    amount: Decimal


class PeriodOut(Out):
    id: str
    period: str
    revenue: Decimal
    profit: Decimal
    distribution: Decimal
    currency: str
    shares: list[ShareOut]


class JVOut(Out):
    id: str
    name: str
    purpose: str
    status: str
    formation_date: date | None
    currency: str
    parties: list[PartyOut]
    invested: Decimal
    revenue: Decimal
    profit: Decimal
    distributed: Decimal
    created_by: str
    created_at: datetime
    updated_at: datetime


class JVDetail(JVOut):
    investments: list[InvestmentOut]
    periods: list[PeriodOut]


class DistributionsOut(Out):
    joint_venture: str
    currency: str
    periods: list[PeriodOut]
    by_party: list[ShareOut]
    total: Decimal


# -- licensing --------------------------------------------------------------------------------


class TierIn(Strict):
    from_sales: Amount = Field(description="Cumulative contract-year net sales where it starts")
    rate_pct: Pct


class MilestoneIn(Strict):
    name: RefName
    amount: Amount
    achieved_on: date | None = None


class LicenseCreate(Strict):
    name: RefName
    direction: Direction = Field(description="out: we license our IP out; in: we license in")
    licensor: Name
    licensee: Name
    licensed_ip: Text = ""
    territory: str = Field("worldwide", max_length=128)
    term_start: date
    term_end: date
    currency: Currency
    royalty_tiers: list[TierIn] = Field(min_length=1, max_length=20)
    minimum_annual_guarantee: Amount = Decimal(0)
    upfront_fee: Amount = Decimal(0)
    upfront_recognition: Recognition = "straight_line"
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)


class MilestoneUpdate(Strict):
    achieved_on: date | None


class SalesLineIn(Strict):
    label: str = Field(min_length=1, max_length=128)
    net_sales: Amount
    currency: Currency


class SalesReportIn(Strict):
    period_start: date
    period_end: date
    currency: Currency
    net_sales: Amount | None = Field(None, description="Or give lines, which are summed")
    lines: list[SalesLineIn] = Field(default_factory=list, max_length=500)


class TierOut(Out):
    from_sales: Decimal
    rate_pct: Decimal


class MilestoneOut(Out):
    id: str
    name: str
    amount: Decimal
    achieved_on: date | None


class SalesReportOut(Out):
    id: str
    period_start: date
    period_end: date
    net_sales: Decimal
    currency: str
    lines: list[dict[str, str]]
    reported_by: str
    created_at: datetime


class LicenseOut(Out):
    id: str
    name: str
    direction: str
    licensor: str
    licensee: str
    licensed_ip: str
    territory: str
    term_start: date
    term_end: date
    currency: str
    royalty_tiers: list[TierOut]
    minimum_annual_guarantee: Decimal
    upfront_fee: Decimal
    upfront_recognition: str
    milestones: list[MilestoneOut]
    sales_reports: int
    recognised: Decimal = Field(description="Revenue recognised over the reported periods")
    created_by: str
    created_at: datetime


class ScheduleRowOut(Out):
    period_start: date
    period_end: date
    contract_year: int
    net_sales: Decimal
    year_to_date_sales: Decimal
    royalty: Decimal
    upfront_fee: Decimal
    milestones: Decimal
    mag_true_up: Decimal
    total: Decimal
    milestone_names: list[str]


class ScheduleOut(Out):
    license: str
    name: str
    direction: str
    currency: str
    rows: list[ScheduleRowOut]
    totals: dict[str, Decimal]
