"""Pydantic types of the labs, academic and government routes (see ``schemas``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from novacron.corporate.common import URL_NAME
from novacron.corporate.ecosystem.schemas import (
    Amount,
    CertStatus,
    Currency,
    LabStatus,
    Name,
    Out,
    Outcome,
    OutputKind,
    Positive,
    ProgrammeType,
    ProjectStatus,
    RefName,
    Strict,
)

# -- labs -------------------------------------------------------------------------------------


class LabCreate(Strict):
    name: RefName
    partners: list[Name] = Field(min_length=1, max_length=50)
    focus_area: str = Field("", max_length=256)
    budget: Amount
    currency: Currency
    status: LabStatus = "proposed"


class LabUpdate(Strict):
    status: LabStatus | None = None
    focus_area: str | None = Field(None, max_length=256)
    budget: Amount | None = None
    partners: list[Name] | None = Field(None, min_length=1, max_length=50)


class ProjectIn(Strict):
    title: str = Field(min_length=1, max_length=256, pattern=URL_NAME)
    status: ProjectStatus = "planned"
    outcome: Outcome = "none"


class ProjectUpdate(Strict):
    status: ProjectStatus | None = None
    outcome: Outcome | None = None


class SpendIn(Strict):
    amount: Positive
    currency: Currency
    spent_on: date
    description: str = Field("", max_length=512)


class ProjectOut(Out):
    id: str
    title: str
    status: str
    outcome: str


class SpendOut(Out):
    id: str
    amount: Decimal
    currency: str
    spent_on: date
    description: str


class LabOut(Out):
    id: str
    name: str
    partners: list[str]
    focus_area: str
    budget: Decimal
    currency: str
    status: str
    spent: Decimal
    remaining: Decimal
    utilisation_pct: Decimal | None
    over_budget: bool
    projects: list[ProjectOut]
    outcomes: dict[str, int]
    created_by: str
    created_at: datetime


# -- academic ---------------------------------------------------------------------------------


class AcademicCreate(Strict):
    institution: str = Field(min_length=1, max_length=256)
    programme_type: ProgrammeType
    title: str = Field("", max_length=256)
    start_on: date
    end_on: date | None = None
    funding: Amount
    currency: Currency


class OutputIn(Strict):
    kind: OutputKind
    title: str = Field(min_length=1, max_length=512)
    occurred_on: date | None = None


class OutputOut(Out):
    id: str
    kind: str
    title: str
    occurred_on: date | None


class AcademicOut(Out):
    id: str
    institution: str
    programme_type: str
    title: str
    start_on: date
    end_on: date | None
    status: str
    funding: Decimal
    currency: str
    outputs: list[OutputOut]
    output_counts: dict[str, int]
    created_by: str
    created_at: datetime


# -- government -------------------------------------------------------------------------------


class CertIn(Strict):
    status: CertStatus
    started_on: date | None = None
    authorized_on: date | None = None
    expires_on: date | None = None


class CertCreate(CertIn):
    name: str = Field(min_length=1, max_length=64, description="e.g. FedRAMP High, IL4, C5")


class GovCreate(Strict):
    agency: str = Field(min_length=1, max_length=256)
    programme: str = Field("", max_length=256)
    jurisdiction: str = Field(min_length=1, max_length=128)
    contract_vehicle: str = Field("", max_length=256)
    value: Amount | None = None
    currency: Currency = "USD"
    certifications: list[CertCreate] = Field(default_factory=list, max_length=50)


class CertOut(Out):
    id: str
    name: str
    status: str
    started_on: date | None
    authorized_on: date | None
    expires_on: date | None
    effective_status: str
    expired: bool
    expiring_soon: bool
    days_to_expiry: int | None


class GovOut(Out):
    id: str
    agency: str
    programme: str
    jurisdiction: str
    contract_vehicle: str
    value: Decimal | None
    currency: str
    certifications: list[CertOut]
    created_by: str
    created_at: datetime
