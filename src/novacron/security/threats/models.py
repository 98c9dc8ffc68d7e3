"""Detections of the threat rules, kept as security alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped


class SecurityAlert(Timestamped, Base):
    __tablename__ = "security_alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256))
    priority: Mapped[str] = mapped_column(String(16))
    mitre_technique: Mapped[str] = mapped_column(String(32))
    mitre_tactic: Mapped[str] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_key: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Who or what it is about: ``{"actor": "bob"}``, ``{"host": "node-3"}``."""
    first_ts: Mapped[datetime] = mapped_column(DateTime)
    ts: Mapped[datetime] = mapped_column(DateTime)
    """When the triggering event happened."""
    event_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))
    """``audit`` or ``host``."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open``, ``acknowledged`` or ``resolved``."""
    status_by: Mapped[str] = mapped_column(String(128), default="")
    status_note: Mapped[str] = mapped_column(String(512), default="")

    __table_args__ = (
        Index("ix_security_alerts_status_ts", "status", "ts"),
        Index("ix_security_alerts_rule_ts", "rule_id", "ts"),
    )
