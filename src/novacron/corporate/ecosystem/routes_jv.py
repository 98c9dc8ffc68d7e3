"""REST routes of joint ventures (mounted under the ecosystem router's prefix)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.ecosystem import jv_service
from novacron.corporate.ecosystem.schemas import (
    DistributionsOut,
    InvestmentIn,
    InvestmentOut,
    JVCreate,
    JVDetail,
    JVOut,
    JVUpdate,
    PartiesPut,
    PeriodIn,
    PeriodOut,
)
from novacron.security.context import current_project

router = APIRouter(prefix="/joint-ventures")


@router.get("", response_model=Page[JVOut])
def list_jvs(
    request: Request,
    page: PageParams = Depends(page_params),
    status: str | None = Query(None, pattern="^(forming|active|dissolved)$"),
) -> Page[JVOut]:
    with db_of(request).read() as s:
        items, total = jv_service.list_jvs(s, page, status, project_id=current_project(request))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, response_model=JVDetail)
def create_jv(request: Request, body: JVCreate) -> JVDetail:
    with db_of(request).session() as s:
        return jv_service.create_jv(s, body, who(request), project_id=current_project(request))


@router.get("/{ref}", response_model=JVDetail)
def get_jv(request: Request, ref: str) -> JVDetail:
    with db_of(request).read() as s:
        return jv_service.get_jv(s, ref, project_id=current_project(request))


@router.patch("/{ref}", response_model=JVDetail)
def update_jv(request: Request, ref: str, body: JVUpdate) -> JVDetail:
    with db_of(request).session() as s:
        return jv_service.update_jv(s, ref, body, project_id=current_project(request))


@router.delete("/{ref}", status_code=204)
def delete_jv(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        jv_service.delete_jv(s, ref, project_id=current_project(request))
    return Response(status_code=204)


@router.put("/{ref}/parties", response_model=JVDetail)
def set_parties(request: Request, ref: str, body: PartiesPut) -> JVDetail:
    with db_of(request).session() as s:
        return jv_service.set_parties(s, ref, body, project_id=current_project(request))


@router.get("/{ref}/investments", response_model=list[InvestmentOut])
def list_investments(request: Request, ref: str) -> list[InvestmentOut]:
    with db_of(request).read() as s:
        return jv_service.list_investments(s, ref, project_id=current_project(request))


@router.post("/{ref}/investments", status_code=201, response_model=InvestmentOut)
def add_investment(request: Request, ref: str, body: InvestmentIn) -> InvestmentOut:
    with db_of(request).session() as s:
        return jv_service.add_investment(s, ref, body, project_id=current_project(request))


@router.get("/{ref}/periods", response_model=list[PeriodOut])
def list_periods(request: Request, ref: str) -> list[PeriodOut]:
    with db_of(request).read() as s:
        return jv_service.list_periods(s, ref, project_id=current_project(request))


@router.post("/{ref}/periods", status_code=201, response_model=PeriodOut)
def add_period(request: Request, ref: str, body: PeriodIn) -> PeriodOut:
    with db_of(request).session() as s:
        return jv_service.add_period(s, ref, body, project_id=current_project(request))


@router.get("/{ref}/distributions", response_model=DistributionsOut)
def distributions(request: Request, ref: str) -> DistributionsOut:
    with db_of(request).read() as s:
        return jv_service.distributions(s, ref, project_id=current_project(request))
