"""Pydantic types of the due-diligence API: workstreams, requests and findings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from novacron.corporate.ma.schemas import Out, Person, Strict

WorkstreamName = Literal[
    "financial", "legal", "technology", "commercial", "operational", "environmental"
]
RequestStatus = Literal["open", "in_progress", "received", "closed", "waived"]
FindingStatus = Literal["open", "mitigated", "accepted", "closed"]


class RequestCreate(Strict):
    workstream: WorkstreamName
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    owner: Person | None = None
    status: RequestStatus = "open"
    due_on: date | None = None


class RequestUpdate(Strict):
    workstream: WorkstreamName | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    owner: Person | None = None
    status: RequestStatus | None = None
    due_on: date | None = None


class RequestOut(Out):
    id: str
    target_id: str
    workstream: str
    title: str
    description: str
    owner: str | None
    status: str
    due_on: date | None
    overdue: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class FindingCreate(Strict):
    workstream: WorkstreamName
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    severity: int = Field(ge=1, le=5)
    likelihood: int = Field(ge=1, le=5)
    mitigation: str = Field("", max_length=20000)
    owner: Person | None = None
    status: FindingStatus = "open"
    deal_breaker: bool = False


class FindingUpdate(Strict):
    workstream: WorkstreamName | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    severity: int | None = Field(None, ge=1, le=5)
    likelihood: int | None = Field(None, ge=1, le=5)
    mitigation: str | None = Field(None, max_length=20000)
    owner: Person | None = None
    status: FindingStatus | None = None
    deal_breaker: bool | None = None


class FindingOut(Out):
    id: str
    target_id: str
    workstream: str
    title: str
    description: str
    severity: int
    likelihood: int
    score: int
    rating: str
    mitigation: str
    owner: str | None
    status: str
    deal_breaker: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class WorkstreamUpdate(Strict):
    lead: Person | None = None


class WorkstreamOut(Out):
    id: str
    target_id: str
    workstream: str
    lead: str | None
