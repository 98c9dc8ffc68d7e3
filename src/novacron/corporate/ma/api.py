"""REST routes: the M&A pipeline under ``/api/v1/corporate/targets``.

This module holds targets, stage moves and scorecards; diligence, valuations and the
synergy plan live in ``api_diligence`` and ``api_valuations`` and join this router.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params, paginate
from novacron.corporate.common import who
from novacron.corporate.ma.api_diligence import router as diligence_router
from novacron.corporate.ma.api_valuations import router as valuations_router
from novacron.corporate.ma.schemas import (
    AdvanceRequest,
    DropRequest,
    GateOut,
    ReopenRequest,
    ScorecardCreate,
    ScorecardOut,
    StageChangeOut,
    TargetCreate,
    TargetOut,
    TargetUpdate,
)
from novacron.corporate.ma.service import scorecards, targets, workflow
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate", tags=["corporate: M&A"], dependencies=[Depends(require_user)]
)

STAGES = "^(screening|preliminary|due_diligence|negotiation|closed|integration|dropped)$"
CATEGORIES = "^(storage|networking|security|ai_ml|quantum|custom)$"


# -- targets ------------------------------------------------------------------------------


@router.get("/targets", response_model=Page[TargetOut])
def list_targets(
    request: Request,
    page: PageParams = Depends(page_params),
    stage: str | None = Query(None, pattern=STAGES),
    category: str | None = Query(None, pattern=CATEGORIES),
    owner: str | None = Query(None, description="Deal lead"),
    name: str | None = Query(None, description="Name contains (any case)"),
) -> Page[TargetOut]:
    with db_of(request).read() as s:
        items, total = targets.list_targets(
            s,
            page,
            stage=stage,
            category=category,
            owner=owner,
            name=name,
            project_id=current_project(request),
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/targets", status_code=201, response_model=TargetOut)
def create_target(request: Request, body: TargetCreate) -> TargetOut:
    with db_of(request).session() as s:
        return targets.to_out(
            targets.create_target(s, body, who(request), project_id=current_project(request))
        )


@router.get("/targets/{ref}", response_model=TargetOut)
def get_target(request: Request, ref: str) -> TargetOut:
    with db_of(request).read() as s:
        return targets.to_out(targets.find_target(s, ref, project_id=current_project(request)))


@router.patch("/targets/{ref}", response_model=TargetOut)
def update_target(request: Request, ref: str, body: TargetUpdate) -> TargetOut:
    with db_of(request).session() as s:
        return targets.to_out(
            targets.update_target(s, ref, body, project_id=current_project(request))
        )


@router.delete("/targets/{ref}", status_code=204)
def delete_target(request: Request, ref: str) -> Response:
    """Only screening or dropped targets (409 otherwise): later ones carry a record."""
    with db_of(request).session() as s:
        targets.delete_target(s, ref, project_id=current_project(request))
    return Response(status_code=204)


# -- stage moves --------------------------------------------------------------------------


@router.get("/targets/{ref}/gate", response_model=GateOut)
def get_gate(
    request: Request,
    ref: str,
    min_score: float | None = Query(None, ge=0, le=100, description="Screening threshold"),
) -> GateOut:
    """Preview the gate out of the current stage: every criterion, met or not."""
    with db_of(request).read() as s:
        return GateOut.model_validate(
            workflow.gate(s, ref, min_score, project_id=current_project(request))
        )


@router.post("/targets/{ref}/advance", response_model=TargetOut)
def advance_target(
    request: Request, ref: str, body: AdvanceRequest | None = Body(None)
) -> TargetOut:
    """Move to the next stage; 409 listing the unmet gate criteria when it can't."""
    body = body or AdvanceRequest.model_validate({})
    with db_of(request).session() as s:
        target = workflow.advance(
            s,
            ref,
            who(request),
            reason=body.reason,
            min_score=body.min_score,
            project_id=current_project(request),
        )
        return targets.to_out(target)


@router.post("/targets/{ref}/drop", response_model=TargetOut)
def drop_target(request: Request, ref: str, body: DropRequest) -> TargetOut:
    with db_of(request).session() as s:
        return targets.to_out(
            workflow.drop(s, ref, who(request), body.reason, project_id=current_project(request))
        )


@router.post("/targets/{ref}/reopen", response_model=TargetOut)
def reopen_target(request: Request, ref: str, body: ReopenRequest | None = Body(None)) -> TargetOut:
    """A dropped target back in the stage it was dropped from."""
    with db_of(request).session() as s:
        target = workflow.reopen(
            s, ref, who(request), body.reason if body else None, project_id=current_project(request)
        )
        return targets.to_out(target)


@router.get("/targets/{ref}/history", response_model=Page[StageChangeOut])
def target_history(
    request: Request, ref: str, page: PageParams = Depends(page_params)
) -> Page[StageChangeOut]:
    with db_of(request).read() as s:
        target = targets.find_target(s, ref, project_id=current_project(request))
        rows, total = paginate(s, workflow.history_query(target.id), page)
        items = [StageChangeOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# -- scorecards ---------------------------------------------------------------------------


@router.get("/targets/{ref}/scorecards", response_model=Page[ScorecardOut])
def list_scorecards(
    request: Request, ref: str, page: PageParams = Depends(page_params)
) -> Page[ScorecardOut]:
    """Newest version first; the newest is the one the screening gate reads."""
    with db_of(request).read() as s:
        target = targets.find_target(s, ref, project_id=current_project(request))
        rows, total = paginate(s, scorecards.scorecards_query(target.id), page)
        items = [ScorecardOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/targets/{ref}/scorecards", status_code=201, response_model=ScorecardOut)
def add_scorecard(request: Request, ref: str, body: ScorecardCreate) -> ScorecardOut:
    with db_of(request).session() as s:
        return ScorecardOut.model_validate(
            scorecards.add_scorecard(
                s, ref, body, who(request), project_id=current_project(request)
            )
        )


@router.get("/targets/{ref}/scorecards/{version}", response_model=ScorecardOut)
def get_scorecard(request: Request, ref: str, version: int) -> ScorecardOut:
    with db_of(request).read() as s:
        return ScorecardOut.model_validate(
            scorecards.get_scorecard(s, ref, version, project_id=current_project(request))
        )


router.include_router(diligence_router)
router.include_router(valuations_router)
