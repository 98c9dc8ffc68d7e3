"""REST routes: due diligence of a target (workstreams, requests, findings, summary).

Joined to the M&A router in ``api`` (which adds the prefix and authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params, paginate
from novacron.corporate.common import who
from novacron.corporate.ma.schemas_diligence import (
    FindingCreate,
    FindingOut,
    FindingUpdate,
    RequestCreate,
    RequestOut,
    RequestUpdate,
    WorkstreamOut,
    WorkstreamUpdate,
)
from novacron.corporate.ma.service import diligence
from novacron.corporate.ma.service.targets import find_target
from novacron.security.context import current_project

router = APIRouter()

WORKSTREAM = "^(financial|legal|technology|commercial|operational|environmental)$"
BASE = "/targets/{ref}/diligence"


@router.get(f"{BASE}/workstreams", response_model=list[WorkstreamOut])
def list_workstreams(request: Request, ref: str) -> list[WorkstreamOut]:
    with db_of(request).session() as s:  # created on first use
        target = find_target(s, ref, project_id=current_project(request))
        return [WorkstreamOut.model_validate(w) for w in diligence.ensure_workstreams(s, target.id)]


@router.patch(f"{BASE}/workstreams/{{workstream}}", response_model=WorkstreamOut)
def set_workstream_lead(
    request: Request, ref: str, workstream: str, body: WorkstreamUpdate
) -> WorkstreamOut:
    with db_of(request).session() as s:
        return WorkstreamOut.model_validate(
            diligence.set_lead(s, ref, workstream, body, project_id=current_project(request))
        )


@router.get(f"{BASE}/requests", response_model=Page[RequestOut])
def list_requests(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    workstream: str | None = Query(None, pattern=WORKSTREAM),
    status: str | None = Query(None, pattern="^(open|in_progress|received|closed|waived)$"),
) -> Page[RequestOut]:
    with db_of(request).read() as s:
        target = find_target(s, ref, project_id=current_project(request))
        stmt = diligence.requests_query(target.id, workstream=workstream, status=status)
        rows, total = paginate(s, stmt, page)
        items = [diligence.request_out(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(f"{BASE}/requests", status_code=201, response_model=RequestOut)
def add_request(request: Request, ref: str, body: RequestCreate) -> RequestOut:
    with db_of(request).session() as s:
        return diligence.request_out(
            diligence.add_request(s, ref, body, who(request), project_id=current_project(request))
        )


@router.patch(f"{BASE}/requests/{{request_id}}", response_model=RequestOut)
def update_request(request: Request, ref: str, request_id: str, body: RequestUpdate) -> RequestOut:
    with db_of(request).session() as s:
        return diligence.request_out(
            diligence.update_request(s, ref, request_id, body, project_id=current_project(request))
        )


@router.get(f"{BASE}/findings", response_model=Page[FindingOut])
def list_findings(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    workstream: str | None = Query(None, pattern=WORKSTREAM),
    status: str | None = Query(None, pattern="^(open|mitigated|accepted|closed)$"),
    deal_breaker: bool | None = None,
) -> Page[FindingOut]:
    """Worst first (severity × likelihood)."""
    with db_of(request).read() as s:
        target = find_target(s, ref, project_id=current_project(request))
        stmt = diligence.findings_query(
            target.id, workstream=workstream, status=status, deal_breaker=deal_breaker
        )
        rows, total = paginate(s, stmt, page)
        items = [diligence.finding_out(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(f"{BASE}/findings", status_code=201, response_model=FindingOut)
def add_finding(request: Request, ref: str, body: FindingCreate) -> FindingOut:
    with db_of(request).session() as s:
        return diligence.finding_out(
            diligence.add_finding(s, ref, body, who(request), project_id=current_project(request))
        )


@router.patch(f"{BASE}/findings/{{finding_id}}", response_model=FindingOut)
def update_finding(request: Request, ref: str, finding_id: str, body: FindingUpdate) -> FindingOut:
    with db_of(request).session() as s:
        return diligence.finding_out(
            diligence.update_finding(s, ref, finding_id, body, project_id=current_project(request))
        )


@router.get(f"{BASE}/summary")
def diligence_summary(request: Request, ref: str) -> dict[str, Any]:
    """Per workstream: request counts by status, % complete, overdue, top risks; and the
    target's 5×5 heat map (rows severity 5..1, columns likelihood 1..5)."""
    with db_of(request).read() as s:
        return diligence.summary(s, ref, project_id=current_project(request))
