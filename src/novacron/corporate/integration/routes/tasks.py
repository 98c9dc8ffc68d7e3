"""Tasks (with computed RAG, dependencies, critical path) and milestones."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.integration.routes.common import as_of
from novacron.corporate.integration.schemas import (
    CriticalPathOut,
    DependencyIn,
    MilestoneOut,
    MilestoneUpdate,
    PhaseKey,
    Rag,
    TaskCreate,
    TaskOut,
    TaskStatus,
    TaskUpdate,
    WorkstreamKey,
)
from novacron.corporate.integration.service import tasks as svc
from novacron.security.context import current_project

router = APIRouter()


@router.get("/programmes/{ref}/tasks", response_model=Page[TaskOut])
def list_tasks(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    day: date = Depends(as_of),
    workstream: WorkstreamKey | None = None,
    phase: PhaseKey | None = None,
    status: TaskStatus | None = None,
    owner: str | None = None,
    rag: Rag | None = Query(None, description="Effective RAG (override or computed)"),
    critical: bool | None = Query(None, description="Only tasks on (or off) the critical path"),
) -> Page[Any]:
    filt = svc.TaskFilter(workstream, phase, status, owner, rag, critical)
    with db_of(request).read() as s:
        items, total = svc.list_tasks(s, ref, page, filt, day, project_id=current_project(request))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/programmes/{ref}/tasks", status_code=201, response_model=TaskOut)
def create_task(
    request: Request, ref: str, body: TaskCreate, day: date = Depends(as_of)
) -> TaskOut:
    with db_of(request).session() as s:
        return svc.create_task(s, ref, body, who(request), day, project_id=current_project(request))


@router.get("/programmes/{ref}/tasks/{task_id}", response_model=TaskOut)
def show_task(request: Request, ref: str, task_id: str, day: date = Depends(as_of)) -> TaskOut:
    with db_of(request).read() as s:
        return svc.get_task(s, ref, task_id, day, project_id=current_project(request))


@router.patch("/programmes/{ref}/tasks/{task_id}", response_model=TaskOut)
def update_task(
    request: Request, ref: str, task_id: str, body: TaskUpdate, day: date = Depends(as_of)
) -> TaskOut:
    """Progress, status, dates, owner, and the manual RAG override (with a reason)."""
    with db_of(request).session() as s:
        return svc.update_task(s, ref, task_id, body, day, project_id=current_project(request))


@router.post(
    "/programmes/{ref}/tasks/{task_id}/dependencies", status_code=201, response_model=TaskOut
)
def add_dependency(
    request: Request, ref: str, task_id: str, body: DependencyIn, day: date = Depends(as_of)
) -> TaskOut:
    """The task waits for ``depends_on``; 422 naming the dependency if it closes a cycle."""
    with db_of(request).session() as s:
        return svc.add_dependency(s, ref, task_id, body, day, project_id=current_project(request))


@router.delete("/programmes/{ref}/tasks/{task_id}/dependencies/{depends_on}", status_code=204)
def remove_dependency(request: Request, ref: str, task_id: str, depends_on: str) -> Response:
    with db_of(request).session() as s:
        svc.remove_dependency(s, ref, task_id, depends_on, project_id=current_project(request))
    return Response(status_code=204)


@router.get("/programmes/{ref}/critical-path", response_model=CriticalPathOut)
def critical_path(request: Request, ref: str, day: date = Depends(as_of)) -> CriticalPathOut:
    with db_of(request).read() as s:
        return svc.critical_path(s, ref, day, project_id=current_project(request))


@router.get("/programmes/{ref}/milestones", response_model=Page[MilestoneOut])
def list_milestones(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    day: date = Depends(as_of),
    phase: PhaseKey | None = None,
    workstream: WorkstreamKey | None = None,
    status: str | None = Query(None, pattern="^(pending|hit|missed)$"),
) -> Page[Any]:
    with db_of(request).read() as s:
        items, total = svc.list_milestones(
            s,
            ref,
            page,
            day,
            phase=phase,
            workstream=workstream,
            status=status,
            project_id=current_project(request),
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.patch("/programmes/{ref}/milestones/{milestone_id}", response_model=MilestoneOut)
def update_milestone(
    request: Request,
    ref: str,
    milestone_id: str,
    body: MilestoneUpdate,
    day: date = Depends(as_of),
) -> MilestoneOut:
    """Mark hit (on ``completed_on``, default today), missed, or pending again."""
    with db_of(request).session() as s:
        return svc.update_milestone(
            s, ref, milestone_id, body, day, project_id=current_project(request)
        )
