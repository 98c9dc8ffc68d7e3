"""REST routes: valuation versions and the synergy plan of a target.

Joined to the M&A router in ``api`` (which adds the prefix and authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params, paginate
from novacron.corporate.common import who
from novacron.corporate.ma.schemas import (
    SynergyLineIn,
    SynergyLineOut,
    SynergyPlanIn,
    SynergyPlanOut,
    ValuationCreate,
    ValuationDiffOut,
    ValuationOut,
)
from novacron.corporate.ma.service import synergies, valuations
from novacron.corporate.ma.service.targets import find_target
from novacron.security.context import current_project

router = APIRouter()

VALUATIONS = "/targets/{ref}/valuations"
PLAN = "/targets/{ref}/synergy-plan"


@router.get(VALUATIONS, response_model=Page[ValuationOut])
def list_valuations(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    kind: str | None = Query(None, description="Only this model kind"),
) -> Page[ValuationOut]:
    """Newest version first."""
    with db_of(request).read() as s:
        target = find_target(s, ref, project_id=current_project(request))
        rows, total = paginate(s, valuations.valuations_query(target.id, kind), page)
        items = [ValuationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(VALUATIONS, status_code=201, response_model=ValuationOut)
def add_valuation(request: Request, ref: str, body: ValuationCreate) -> ValuationOut:
    """Version n+1, computed by the finance engine (422 naming ``inputs.…`` when the model
    is inconsistent)."""
    with db_of(request).session() as s:
        return ValuationOut.model_validate(
            valuations.add_valuation(
                s, ref, body, who(request), project_id=current_project(request)
            )
        )


@router.get(f"{VALUATIONS}/diff", response_model=ValuationDiffOut)
def diff_valuations(
    request: Request,
    ref: str,
    a: int = Query(..., ge=1, description="From version"),
    b: int = Query(..., ge=1, description="To version"),
) -> ValuationDiffOut:
    with db_of(request).read() as s:
        return ValuationDiffOut.model_validate(
            valuations.diff(s, ref, a, b, project_id=current_project(request))
        )


@router.get(f"{VALUATIONS}/{{version}}", response_model=ValuationOut)
def get_valuation(request: Request, ref: str, version: int) -> ValuationOut:
    with db_of(request).read() as s:
        return ValuationOut.model_validate(
            valuations.get_valuation(s, ref, version, project_id=current_project(request))
        )


@router.post(f"{VALUATIONS}/{{version}}/approve", response_model=ValuationOut)
def approve_valuation(request: Request, ref: str, version: int) -> ValuationOut:
    with db_of(request).session() as s:
        return ValuationOut.model_validate(
            valuations.approve(s, ref, version, who(request), project_id=current_project(request))
        )


@router.get(PLAN, response_model=SynergyPlanOut)
def get_synergy_plan(request: Request, ref: str) -> SynergyPlanOut:
    with db_of(request).read() as s:
        return synergies.plan_out(s, ref, project_id=current_project(request))


@router.put(PLAN, response_model=SynergyPlanOut)
def replace_synergy_plan(request: Request, ref: str, body: SynergyPlanIn) -> SynergyPlanOut:
    with db_of(request).session() as s:
        return synergies.replace_plan(
            s, ref, body, who(request), project_id=current_project(request)
        )


@router.post(f"{PLAN}/lines", status_code=201, response_model=SynergyLineOut)
def add_synergy_line(request: Request, ref: str, body: SynergyLineIn) -> SynergyLineOut:
    with db_of(request).session() as s:
        return SynergyLineOut.model_validate(
            synergies.add_line(s, ref, body, who(request), project_id=current_project(request))
        )


@router.delete(f"{PLAN}/lines/{{line_id}}", status_code=204)
def delete_synergy_line(request: Request, ref: str, line_id: str) -> Response:
    with db_of(request).session() as s:
        synergies.delete_line(s, ref, line_id, project_id=current_project(request))
    return Response(status_code=204)
