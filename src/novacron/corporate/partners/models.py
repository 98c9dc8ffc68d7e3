"""ORM models: Partners, tiers, programmes, deal registration, MDF and rebates.

Money columns are ``Numeric(20, 4)`` next to a ``currency``; every table starts with
``corp_``. Keep in step with ``migrations/versions/0008_corporate_partners.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.clock import utcnow
from novacron.core.database import Base, Timestamped
from novacron.corporate.tenancy import ProjectOwned

MONEY = Numeric(20, 4)


class Partner(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_partners"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(64), default="")
    currency: Mapped[str] = mapped_column(String(3))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="prospect")
    joined_on: Mapped[date | None] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(16), default="bronze")
    """Evaluated from the tier criteria, never typed in."""
    certified_engineers: Mapped[int] = mapped_column(Integer, default=0)
    csat: Mapped[float | None] = mapped_column(Float)
    last_activity_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="")


class PartnerTierChange(Base):
    __tablename__ = "corp_partner_tier_changes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("corp_partners.id"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")


class PartnerProgramme(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_partner_programmes"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    min_tier: Mapped[str] = mapped_column(String(16), default="bronze")
    partner_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Empty: every type is eligible."""
    benefits: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    mdf_budget: Mapped[Decimal | None] = mapped_column(MONEY)
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(128), default="")


class PartnerEnrolment(Base):
    __tablename__ = "corp_partner_enrolments"
    __table_args__ = (UniqueConstraint("programme_id", "partner_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("corp_partner_programmes.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("corp_partners.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    enrolled_by: Mapped[str] = mapped_column(String(128), default="")


class DealRegistration(ProjectOwned, Timestamped, Base):
    """In its partner's project."""

    __tablename__ = "corp_deal_registrations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("corp_partners.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_key: Mapped[str] = mapped_column(String(200), index=True)
    """The normalised customer name duplicates and conflicts are matched on."""
    product: Mapped[str] = mapped_column(String(200))
    product_key: Mapped[str] = mapped_column(String(200))
    motion: Mapped[str] = mapped_column(String(16), default="sourced")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    expected_close: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    closed_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(128), default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    registered_by: Mapped[str] = mapped_column(String(128), default="")


class MDFRequest(ProjectOwned, Timestamped, Base):
    """In its partner's (and programme's) project."""

    __tablename__ = "corp_mdf_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("corp_partners.id"), index=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("corp_partner_programmes.id"))
    activity: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    requested_amount: Mapped[Decimal] = mapped_column(MONEY)
    approved_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    claimed_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    state: Mapped[str] = mapped_column(String(16), default="requested")
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    proof: Mapped[str | None] = mapped_column(String(500))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(128), default="")


class PartnerLedgerEntry(Base):
    """One booked figure (MDF commitment, claim, payout, rebate accrual)."""

    __tablename__ = "corp_partner_ledger"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    """Booking order (entries booked in one instant keep the order they were booked in)."""
    partner_id: Mapped[str] = mapped_column(ForeignKey("corp_partners.id"), index=True)
    programme_id: Mapped[str | None] = mapped_column(ForeignKey("corp_partner_programmes.id"))
    mdf_request_id: Mapped[str | None] = mapped_column(ForeignKey("corp_mdf_requests.id"))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    booked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(Text, default="")
    booked_by: Mapped[str] = mapped_column(String(128), default="")


class RebateSchedule(ProjectOwned, Timestamped, Base):
    """A tier's rebate schedule in one project when it differs from
    ``rebates.DEFAULT_SCHEDULES``."""

    __tablename__ = "corp_rebate_schedules"
    __table_args__ = (UniqueConstraint("project_id", "tier"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``[{"up_to": "1000000" | null, "rate": "0.02"}, …]`` (Decimal strings)."""
    updated_by: Mapped[str] = mapped_column(String(128), default="")
