"""ORM models of compliance (tables created by migration 0013).

    compliance_runs      one evaluation of every check: when, why (manual or schedule),
                         by whom, and a summary (counts, pass rate) for lists and trends
    compliance_findings  what each check said about each resource in a run, mutes applied
    compliance_mutes     accepted risks: check id, resource glob, reason, expiry
    host_facts           the latest facts each agent reported about its machine

Findings are copied into their run (evidence and all) rather than recomputed: a report
must show what was true when the run happened, not what is true now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base


class ComplianceRun(Base):
    __tablename__ = "compliance_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    """``manual`` (someone asked) or ``schedule`` (the scheduler claimed a due slot)."""
    requested_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="running")
    """``running``, ``done`` or ``failed`` (``summary.error`` says why)."""
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``counts`` per status, ``pass_rate``, ``failures_by_severity``, ``findings``."""

    __table_args__ = (
        Index("ix_compliance_runs_started_at", "started_at"),
        # The scheduler's "when did the last scheduled run start" query.
        Index("ix_compliance_runs_trigger_started_at", "trigger", "started_at"),
    )


class ComplianceFinding(Base):
    __tablename__ = "compliance_findings"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(
        ForeignKey("compliance_runs.id", ondelete="CASCADE"), index=True
    )
    check_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    """The check's severity when the run happened (a later version may change it)."""
    resource: Mapped[str] = mapped_column(String(256))
    evidence: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    mute_reason: Mapped[str | None] = mapped_column(Text)
    muted_status: Mapped[str | None] = mapped_column(String(16))


class ComplianceMute(Base):
    __tablename__ = "compliance_mutes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    check_id: Mapped[str] = mapped_column(String(32))
    resource_pattern: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class HostFactsRecord(Base):
    """The newest facts an agent reported about the machine it runs on (one row per
    agent: older reports are replaced, the runs keep what they saw)."""

    __tablename__ = "host_facts"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    host_name: Mapped[str] = mapped_column(String(128))
    """The resource name findings use: the agent's name (a qemu agent's one host has it
    too; a sim agent's many hosts share one real machine, reported under this name)."""
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``HostFacts`` as JSON (``facts_codec``)."""
    collected_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)
