"""Pydantic types of the integration API. Inputs forbid unknown fields; no input carries a
roll-up (progress, RAG of a group, realisation, retention rate): those are computed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from novacron.core.clock import isoformat
from novacron.corporate.common import MAX_AMOUNT
from novacron.corporate.finance.money import plain_decimal

WorkstreamKey = Literal[
    "technology",
    "product",
    "sales",
    "marketing",
    "customer_success",
    "finance",
    "legal",
    "hr",
    "operations",
]
PhaseKey = Literal["day1_readiness", "stabilisation", "execution", "optimisation"]
TaskStatus = Literal["not_started", "in_progress", "blocked", "done"]
Rag = Literal["green", "amber", "red"]
Severity = Literal["low", "medium", "high", "critical"]
CURRENCY = r"^[A-Z]{3}$"


def money(**kwargs: Any) -> Any:
    """A ledger amount: Decimal that both databases store exactly, never negative."""
    return Field(ge=0, le=MAX_AMOUNT, max_digits=20, decimal_places=4, **kwargs)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    # The serializer below is untyped (one for every field), so the schema is taken from
    # the fields' own types: the OpenAPI then says what each response holds.
    model_config = ConfigDict(from_attributes=True, json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _plain(self, value: Any) -> Any:
        """UTC times in ISO 8601; amounts as plain decimal strings without the storage's
        trailing zeros ("1250000", not "1250000.0000" beside a computed "0")."""
        if isinstance(value, datetime):
            return isoformat(value)
        if isinstance(value, Decimal):
            return plain_decimal(value)
        if isinstance(value, list) and value and isinstance(value[0], Decimal):
            return [plain_decimal(v) for v in value]
        return value


# -- programmes ------------------------------------------------------------------------------


class SynergyLineIn(Strict):
    category: Literal["revenue", "cost"]
    name: str = Field(min_length=1, max_length=200)
    run_rate: Decimal = money(description="Annual run-rate once fully phased in")
    currency: str = Field(pattern=CURRENCY)
    phase_in: list[Decimal] = Field(
        min_length=1, max_length=10, description="Share of run-rate reached per year after close"
    )
    one_off_cost: Decimal = money(default=Decimal(0), description="Cost to achieve")

    @model_validator(mode="after")
    def _shares(self) -> SynergyLineIn:
        for share in self.phase_in:
            if not Decimal(0) <= share <= Decimal(1):
                raise ValueError("phase_in shares must be between 0 and 1")
        return self


class ProgrammeCreate(Strict):
    target_id: str = Field(min_length=1, max_length=64)
    target_name: str = Field(min_length=1, max_length=200)
    close_date: date
    synergy_plan: list[SynergyLineIn] = Field(default_factory=list, max_length=200)
    currency: str | None = Field(
        None, pattern=CURRENCY, description="The deal's currency (default: the plan's, or USD)"
    )


class ProgrammeOut(Out):
    id: str
    target_id: str
    target_name: str
    name: str
    close_date: date
    currency: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class WorkstreamOut(Out):
    key: str
    name: str
    lead: str | None
    position: int


class WorkstreamUpdate(Strict):
    lead: str | None = Field(max_length=128)


class PhaseOut(Out):
    key: str
    name: str
    position: int
    start_date: date
    end_date: date


class ProgrammeDetail(ProgrammeOut):
    workstreams: list[WorkstreamOut]
    phases: list[PhaseOut]
    tasks: int
    milestones: int


# -- milestones and tasks --------------------------------------------------------------------


class MilestoneOut(Out):
    id: str
    key: str | None
    title: str
    phase: str
    workstream: str
    owner: str
    due_date: date
    status: str
    completed_on: date | None
    note: str
    missed: bool
    """Marked missed, or still pending after its due date."""


class MilestoneUpdate(Strict):
    status: Literal["pending", "hit", "missed"] | None = None
    completed_on: date | None = Field(None, description="When it was hit (default: today)")
    owner: str | None = Field(None, min_length=1, max_length=128)
    due_date: date | None = None
    note: str | None = Field(None, max_length=4000)


class TaskCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    workstream: WorkstreamKey
    phase: PhaseKey
    owner: str | None = Field(None, max_length=128, description="Default: the caller")
    start_date: date
    due_date: date
    depends_on: list[str] = Field(default_factory=list, max_length=100)


class TaskUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    owner: str | None = Field(None, min_length=1, max_length=128)
    start_date: date | None = None
    due_date: date | None = None
    status: TaskStatus | None = None
    percent_complete: int | None = Field(None, ge=0, le=100)
    rag_override: Rag | None = Field(None, description="Send null to go back to computed RAG")
    rag_override_reason: str | None = Field(None, max_length=500)


class DependencyIn(Strict):
    depends_on: str = Field(min_length=1, max_length=64, description="Task id")


class TaskOut(BaseModel):
    id: str
    key: str | None
    title: str
    workstream: str
    phase: str
    owner: str
    start_date: date
    due_date: date
    status: str
    percent_complete: int
    rag: str
    rag_computed: str
    rag_reason: str
    rag_override: str | None
    rag_override_reason: str | None
    depends_on: list[str]
    blocked_by: list[str]
    """Unfinished tasks this one waits for, directly or transitively."""
    critical: bool


class CriticalPathOut(BaseModel):
    length_days: int
    tasks: list[TaskOut]


# -- governance ------------------------------------------------------------------------------


class CommitteeMemberIn(Strict):
    name: str = Field(min_length=1, max_length=128)
    role: str = Field(min_length=1, max_length=128)
    organisation: str = Field(min_length=1, max_length=128)


class CommitteeMemberOut(Out):
    id: str
    name: str
    role: str
    organisation: str


class MeetingIn(Strict):
    held_on: date
    attendees: list[str] = Field(default_factory=list, max_length=100)
    notes: str = Field("", max_length=20000)


class MeetingOut(Out):
    id: str
    held_on: date
    attendees: list[str]
    notes: str


class CommitteeOut(BaseModel):
    members: list[CommitteeMemberOut]
    meetings: list[MeetingOut]


class DecisionIn(Strict):
    decision: str = Field(min_length=1, max_length=500)
    rationale: str = Field("", max_length=20000)
    decided_by: str | None = Field(None, max_length=128, description="Default: the caller")
    decided_on: date | None = Field(None, description="Default: today")
    workstream: WorkstreamKey | None = None


class DecisionOut(Out):
    id: str
    decision: str
    rationale: str
    decided_by: str
    decided_on: date
    workstream: str | None
    created_at: datetime


class EscalationIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field("", max_length=20000)
    raised_to: str = Field(min_length=1, max_length=128)
    severity: Severity = "medium"
    workstream: WorkstreamKey | None = None
    raised_by: str | None = Field(None, max_length=128, description="Default: the caller")
    raised_on: date | None = Field(None, description="Default: today")


class EscalationResolve(Strict):
    resolution: str = Field(min_length=1, max_length=20000)


class EscalationOut(Out):
    id: str
    title: str
    detail: str
    raised_by: str
    raised_to: str
    severity: str
    status: str
    workstream: str | None
    raised_on: date
    resolution: str | None
    resolved_by: str | None
    resolved_on: date | None


class RiskIn(Strict):
    kind: Literal["issue", "risk"] = "risk"
    title: str = Field(min_length=1, max_length=200)
    workstream: WorkstreamKey | None = None
    severity: int = Field(ge=1, le=5)
    likelihood: int = Field(ge=1, le=5)
    owner: str = Field(min_length=1, max_length=128)
    status: Literal["open", "mitigating", "closed"] = "open"
    mitigation: str = Field("", max_length=20000)
    due_date: date | None = None


class RiskUpdate(Strict):
    severity: int | None = Field(None, ge=1, le=5)
    likelihood: int | None = Field(None, ge=1, le=5)
    owner: str | None = Field(None, min_length=1, max_length=128)
    status: Literal["open", "mitigating", "closed"] | None = None
    mitigation: str | None = Field(None, max_length=20000)
    due_date: date | None = None


class RiskOut(Out):
    id: str
    kind: str
    title: str
    workstream: str | None
    severity: int
    likelihood: int
    score: int
    owner: str
    status: str
    mitigation: str
    due_date: date | None


# -- synergies and retention -----------------------------------------------------------------


class ActualIn(Strict):
    line_id: str = Field(min_length=1, max_length=64)
    period: int = Field(ge=1, le=200, description="Quarter after close, from 1")
    amount: Decimal = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, max_digits=20, decimal_places=4)
    currency: str = Field(pattern=CURRENCY)
    note: str = Field("", max_length=2000)


class ActualOut(Out):
    id: str
    line_id: str
    period: int
    amount: Decimal
    currency: str
    note: str
    recorded_by: str


class EmployeeIn(Strict):
    name: str = Field(min_length=1, max_length=128)
    role: str = Field(min_length=1, max_length=128)
    flight_risk: Literal["low", "medium", "high"] = "medium"
    retention_bonus: Decimal = money(default=Decimal(0))
    currency: str | None = Field(None, pattern=CURRENCY, description="Default: the programme's")
    status: Literal["retained", "left"] = "retained"


class EmployeeUpdate(Strict):
    role: str | None = Field(None, min_length=1, max_length=128)
    flight_risk: Literal["low", "medium", "high"] | None = None
    retention_bonus: Decimal | None = money(default=None)
    currency: str | None = Field(None, pattern=CURRENCY)
    status: Literal["retained", "left"] | None = None


class EmployeeOut(Out):
    id: str
    name: str
    role: str
    flight_risk: str
    retention_bonus: Decimal
    currency: str
    status: str


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    arr: Decimal = money()
    currency: str | None = Field(None, pattern=CURRENCY, description="Default: the programme's")
    status: Literal["retained", "churned", "at_risk"] = "retained"


class CustomerUpdate(Strict):
    arr: Decimal | None = money(default=None)
    currency: str | None = Field(None, pattern=CURRENCY)
    status: Literal["retained", "churned", "at_risk"] | None = None


class CustomerOut(Out):
    id: str
    name: str
    arr: Decimal
    currency: str
    status: str
