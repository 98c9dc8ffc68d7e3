"""Pydantic types of deal registration, MDF and rebates (see ``schemas`` for the rest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from novacron.corporate.common import MAX_AMOUNT
from novacron.corporate.partners.schemas import AMOUNT, CURRENCY, Currency, Motion, Out, Strict

# -- deal registrations --------------------------------------------------------------------


def _naive_utc(value: datetime | None) -> datetime | None:
    """A time with an offset converted to UTC, then stored naive like every other time
    (dropping the offset unconverted would shift it by the offset); naive is UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


UtcDateTime = Annotated[datetime | None, AfterValidator(_naive_utc)]


class RegistrationCreate(Strict):
    partner: str = Field(min_length=1, description="Partner id or name")
    customer_name: str = Field(min_length=1, max_length=200)
    product: str = Field(min_length=1, max_length=200)
    motion: Motion = "sourced"
    amount: Decimal = AMOUNT
    currency: Currency = CURRENCY
    expected_close: date | None = None
    registered_at: UtcDateTime = Field(
        None, description="When registered (default: now); back-dated imports set it"
    )
    valid_days: int = Field(90, ge=1, le=730, description="Days until it expires")


class RegistrationOut(Out):
    id: str
    partner_id: str
    customer_name: str
    customer_key: str
    product: str
    motion: str
    amount: Decimal
    currency: str
    expected_close: date | None
    status: str
    conflict: bool
    conflict_with: list[str]
    registered_at: datetime
    expires_at: datetime
    closed_on: date | None
    decided_by: str
    decision_reason: str
    registered_by: str


class ReasonIn(Strict):
    reason: str = Field("", max_length=2000)


class ExtendIn(Strict):
    days: int = Field(30, ge=1, le=365)


class CloseIn(Strict):
    outcome: Literal["won", "lost"]
    closed_on: date | None = None
    amount: Decimal | None = Field(None, gt=0, le=MAX_AMOUNT, max_digits=18, decimal_places=4)
    """The final amount when it differs from the registered one."""


class ExpireIn(Strict):
    now: UtcDateTime = None


class ExpiredOut(BaseModel):
    expired: list[str]


# -- MDF -----------------------------------------------------------------------------------


class MDFRequestCreate(Strict):
    partner: str = Field(min_length=1, description="Partner id or name")
    programme: str = Field(min_length=1, description="Programme id or name")
    activity: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    amount: Decimal = AMOUNT
    currency: Currency = CURRENCY
    planned_start: date
    planned_end: date


class MDFApprove(Strict):
    approved_amount: Decimal | None = Field(
        None,
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        max_digits=18,
        decimal_places=4,
        description="Default: the requested amount",
    )
    currency: Currency | None = Field(None, pattern=r"^[A-Z]{3}$")


class MDFClaim(Strict):
    claimed_amount: Decimal = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, max_digits=18, decimal_places=4)
    currency: Currency = CURRENCY
    proof: str = Field(min_length=1, max_length=500, description="URL or document name")
    invoice_date: date


class MDFPay(Strict):
    paid_on: date | None = None


class MDFRequestOut(Out):
    id: str
    partner_id: str
    programme_id: str
    activity: str
    description: str
    currency: str
    requested_amount: Decimal
    approved_amount: Decimal | None
    claimed_amount: Decimal | None
    paid_amount: Decimal | None
    state: str
    planned_start: date
    planned_end: date
    proof: str | None
    invoice_date: date | None
    paid_on: date | None
    decision_reason: str
    requested_by: str
    created_at: datetime


class LedgerEntryOut(Out):
    id: str
    seq: int
    partner_id: str
    programme_id: str | None
    mdf_request_id: str | None
    kind: str
    amount: Decimal
    currency: str
    booked_at: datetime
    period_start: date | None
    period_end: date | None
    memo: str


class BalanceOut(Out):
    currency: str
    approved: Decimal
    claimed: Decimal
    paid: Decimal
    remaining: Decimal
    rebates_accrued: Decimal


class LedgerOut(BaseModel):
    entries: list[LedgerEntryOut]
    balances: list[BalanceOut]


# -- rebates -------------------------------------------------------------------------------


class BandIn(Strict):
    up_to: Decimal | None = Field(
        None, gt=0, le=MAX_AMOUNT, description="Inclusive limit; null on the last"
    )
    rate: Decimal = Field(ge=0, le=1, description="A fraction: 0.02 is 2%")


class ScheduleIn(Strict):
    method: Literal["marginal", "whole_volume"]
    bands: list[BandIn] = Field(min_length=1, max_length=20)


class ScheduleOut(BaseModel):
    tier: str
    method: str
    bands: list[dict[str, str | None]]
    custom: bool


class RebateComputeIn(Strict):
    period_start: date
    period_end: date
    partner: str | None = Field(None, description="One partner (id or name); default: all")
    book: bool = Field(False, description="Book each rebate to the ledger as a liability")


class RebateLineOut(BaseModel):
    band_from: str
    band_to: str | None
    base: str
    rate: str
    amount: str


class RebateOut(BaseModel):
    partner_id: str
    partner_name: str
    tier: str
    method: str
    currency: str
    volume: str
    amount: str
    effective_rate: str
    lines: list[RebateLineOut]
    ledger_entry_id: str | None


class RebateRunOut(BaseModel):
    period_start: date
    period_end: date
    booked: bool
    rebates: list[RebateOut]
