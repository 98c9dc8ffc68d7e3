"""ORM models: integration programmes generated when a deal closes.

Tables are prefixed ``corp_int_`` (short enough that PostgreSQL's 63-character limit holds
for every generated constraint name). A programme points at its M&A target by id only
(``target_id``, unique: one programme per target) and not by foreign key, so this slice does
not reach into the M&A tables. Workstreams and phases are referenced by their stable keys
(``technology``, ``execution`` …) which the template in ``plan.py`` defines.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped
from novacron.corporate.tenancy import ProjectOwned

MONEY = Numeric(20, 4)
PROGRAMME_FK = "corp_int_programmes.id"


def _programme_id() -> Mapped[str]:
    return mapped_column(ForeignKey(PROGRAMME_FK, ondelete="CASCADE"), index=True)


class Programme(ProjectOwned, Timestamped, Base):
    """Created in its target's project."""

    __tablename__ = "corp_int_programmes"
    __table_args__ = (UniqueConstraint("project_id", "target_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64))
    """The M&A target (``corp_ma_targets.id``), by value: one programme per target in
    the project."""
    target_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    close_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    """Every figure of the programme (synergies, bonuses, ARR) is in this currency."""
    created_by: Mapped[str] = mapped_column(String(128))


class Workstream(Timestamped, Base):
    __tablename__ = "corp_int_workstreams"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    lead: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)


class Phase(Timestamped, Base):
    __tablename__ = "corp_int_phases"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class Milestone(Timestamped, Base):
    __tablename__ = "corp_int_milestones"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    key: Mapped[str | None] = mapped_column(String(64))
    """The template's key for generated milestones."""
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(32))
    workstream: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(128))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, hit or missed (a pending one past due reads as missed in roll-ups)."""
    completed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class Task(Timestamped, Base):
    __tablename__ = "corp_int_tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    workstream: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(128))
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    percent_complete: Mapped[int] = mapped_column(Integer, default=0)
    rag_override: Mapped[str | None] = mapped_column(String(8))
    rag_override_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(128))


class TaskDependency(Timestamped, Base):
    """``task_id`` can't finish before ``depends_on_id``."""

    __tablename__ = "corp_int_task_deps"
    __table_args__ = (UniqueConstraint("task_id", "depends_on_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    task_id: Mapped[str] = mapped_column(
        ForeignKey("corp_int_tasks.id", ondelete="CASCADE"), index=True
    )
    depends_on_id: Mapped[str] = mapped_column(
        ForeignKey("corp_int_tasks.id", ondelete="CASCADE"), index=True
    )


class CommitteeMember(Timestamped, Base):
    __tablename__ = "corp_int_committee"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(128))
    organisation: Mapped[str] = mapped_column(String(128))


class Meeting(Timestamped, Base):
    __tablename__ = "corp_int_meetings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")


class Decision(Timestamped, Base):
    __tablename__ = "corp_int_decisions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    decision: Mapped[str] = mapped_column(String(500))
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_on: Mapped[date] = mapped_column(Date)
    workstream: Mapped[str | None] = mapped_column(String(32))


class Escalation(Timestamped, Base):
    __tablename__ = "corp_int_escalations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    raised_by: Mapped[str] = mapped_column(String(128))
    raised_to: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    workstream: Mapped[str | None] = mapped_column(String(32))
    raised_on: Mapped[date] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolved_on: Mapped[date | None] = mapped_column(Date)


class Risk(Timestamped, Base):
    """An issue (it has happened) or a risk (it might) in the programme's register."""

    __tablename__ = "corp_int_risks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    workstream: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(Integer)
    likelihood: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    mitigation: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)


class SynergyLine(Timestamped, Base):
    """A line of the deal's synergy plan, copied at generation."""

    __tablename__ = "corp_int_synergy_lines"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    run_rate: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    phase_in: Mapped[list[Any]] = mapped_column(JSON)
    """Share of the run-rate reached per year after close, as decimal strings."""
    one_off_cost: Mapped[Decimal] = mapped_column(MONEY)


class SynergyActual(Timestamped, Base):
    __tablename__ = "corp_int_synergy_actuals"
    __table_args__ = (UniqueConstraint("line_id", "period"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    line_id: Mapped[str] = mapped_column(
        ForeignKey("corp_int_synergy_lines.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[int] = mapped_column(Integer)
    """Quarter after close, from 1."""
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(128))


class KeyEmployee(Timestamped, Base):
    __tablename__ = "corp_int_employees"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(128))
    flight_risk: Mapped[str] = mapped_column(String(8))
    retention_bonus: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="retained")


class KeyCustomer(Timestamped, Base):
    __tablename__ = "corp_int_customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = _programme_id()
    name: Mapped[str] = mapped_column(String(200))
    arr: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="retained")
