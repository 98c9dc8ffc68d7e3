"""ORM models: the M&A pipeline.

A target owns its stage history, scorecards, diligence (workstreams, requests, findings),
valuation versions and synergy plan lines; deleting a target deletes them (FK cascade).
Money columns are ``Numeric(20, 4)`` in the target's currency, which every synergy line
repeats so that a ledger row never loses its unit.
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
TARGET_FK = "corp_ma_targets.id"


class Target(ProjectOwned, Timestamped, Base):
    """An acquisition target moving through the deal stages."""

    __tablename__ = "corp_ma_targets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    """Unique within the project."""
    category: Mapped[str] = mapped_column(String(32))
    custom_category: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    headquarters: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(512))
    currency: Mapped[str] = mapped_column(String(3))
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    ebitda: Mapped[Decimal | None] = mapped_column(MONEY)
    employees: Mapped[int | None] = mapped_column(Integer)
    financials_year: Mapped[int | None] = mapped_column(Integer)
    asking_value: Mapped[Decimal | None] = mapped_column(MONEY)
    """Asking or indicative enterprise value, in ``currency``."""
    owner: Mapped[str] = mapped_column(String(128))
    """The deal lead."""
    probability: Mapped[int | None] = mapped_column(Integer)
    """Percent chance of closing set by hand for the current stage; None = stage default."""
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32), index=True, default="screening")
    stage_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    dropped_from: Mapped[str | None] = mapped_column(String(32))
    drop_reason: Mapped[str | None] = mapped_column(Text)
    nda_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    nda_owner: Mapped[str | None] = mapped_column(String(128))
    signed_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    integration_programme_id: Mapped[str | None] = mapped_column(String(64))
    """The programme the integration slice generated on close (its id, not a FK: slices
    don't reach into each other's tables)."""
    created_by: Mapped[str] = mapped_column(String(128))


class StageChange(Base):
    """One transition of a target, including its creation (``from_stage`` None)."""

    __tablename__ = "corp_ma_stage_changes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class Scorecard(Timestamped, Base):
    """A screening scorecard version; its total and explanation are computed on save."""

    __tablename__ = "corp_ma_scorecards"
    __table_args__ = (UniqueConstraint("target_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    scale: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128))


class Workstream(Timestamped, Base):
    """One of the six diligence workstreams of a target, with its lead."""

    __tablename__ = "corp_ma_dd_workstreams"
    __table_args__ = (UniqueConstraint("target_id", "workstream"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    workstream: Mapped[str] = mapped_column(String(32))
    lead: Mapped[str | None] = mapped_column(String(128))


class DiligenceRequest(Timestamped, Base):
    """An item on a workstream's request list (a document, a call, a site visit …)."""

    __tablename__ = "corp_ma_dd_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    workstream: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))


class Finding(Timestamped, Base):
    """A diligence finding on the risk register (severity × likelihood)."""

    __tablename__ = "corp_ma_dd_findings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    workstream: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(Integer)
    likelihood: Mapped[int] = mapped_column(Integer)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    deal_breaker: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(128))


class Valuation(Timestamped, Base):
    """An immutable valuation model version: inputs and the engine's result."""

    __tablename__ = "corp_ma_valuations"
    __table_args__ = (UniqueConstraint("target_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class SynergyLine(Timestamped, Base):
    """A revenue or cost synergy: run-rate in the target's currency, phased in by year."""

    __tablename__ = "corp_ma_synergy_lines"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey(TARGET_FK, ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    run_rate: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    phase_in: Mapped[list[float]] = mapped_column(JSON)
    one_off_cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    owner: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
