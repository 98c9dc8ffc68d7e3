"""Programmes: generate one by hand, list, show, summary; workstreams and phases."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.integration.report_schemas import SummaryOut
from novacron.corporate.integration.routes.common import as_of
from novacron.corporate.integration.schemas import (
    PhaseOut,
    ProgrammeCreate,
    ProgrammeDetail,
    ProgrammeOut,
    WorkstreamOut,
    WorkstreamUpdate,
)
from novacron.corporate.integration.service import programmes as svc
from novacron.corporate.integration.service.common import find_programme
from novacron.corporate.integration.service.summary import summary
from novacron.security.context import current_project

router = APIRouter()


@router.get("/programmes", response_model=Page[ProgrammeOut])
def list_programmes(request: Request, page: PageParams = Depends(page_params)) -> Page[Any]:
    with db_of(request).read() as s:
        rows, total = svc.list_programmes(s, page, project_id=current_project(request))
        items = [ProgrammeOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/programmes", status_code=201, response_model=ProgrammeDetail)
def create_programme(request: Request, body: ProgrammeCreate) -> ProgrammeDetail:
    """Generate the default programme for a closed target (the M&A close does this itself)."""
    with db_of(request).session() as s:
        programme = svc.generate_programme(
            s,
            target_id=body.target_id,
            target_name=body.target_name,
            close_date=body.close_date,
            synergy_plan=[line.model_dump() for line in body.synergy_plan],
            created_by=who(request),
            currency=body.currency,
            project_id=current_project(request),
        )
        return svc.detail(s, programme.id, project_id=current_project(request))


@router.get("/programmes/{ref}", response_model=ProgrammeDetail)
def show_programme(request: Request, ref: str) -> ProgrammeDetail:
    """A programme by its id or its target's id."""
    with db_of(request).read() as s:
        return svc.detail(s, ref, project_id=current_project(request))


@router.get("/programmes/{ref}/summary", response_model=SummaryOut)
def programme_summary(request: Request, ref: str, day: date = Depends(as_of)) -> SummaryOut:
    with db_of(request).read() as s:
        return summary(s, ref, day, project_id=current_project(request))


@router.get("/programmes/{ref}/workstreams", response_model=list[WorkstreamOut])
def list_workstreams(request: Request, ref: str) -> list[WorkstreamOut]:
    with db_of(request).read() as s:
        return [
            WorkstreamOut.model_validate(w)
            for w in svc.workstreams(s, find_programme(s, ref, project_id=current_project(request)))
        ]


@router.patch("/programmes/{ref}/workstreams/{key}", response_model=WorkstreamOut)
def update_workstream(
    request: Request, ref: str, key: str, body: WorkstreamUpdate
) -> WorkstreamOut:
    """Name (or clear, with null) a workstream's lead."""
    with db_of(request).session() as s:
        return WorkstreamOut.model_validate(
            svc.update_workstream(s, ref, key, body, project_id=current_project(request))
        )


@router.get("/programmes/{ref}/phases", response_model=list[PhaseOut])
def list_phases(request: Request, ref: str) -> list[PhaseOut]:
    with db_of(request).read() as s:
        return [
            PhaseOut.model_validate(p)
            for p in svc.phases(s, find_programme(s, ref, project_id=current_project(request)))
        ]
