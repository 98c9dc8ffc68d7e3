"""REST routes of licensing agreements (mounted under the ecosystem router's prefix)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.ecosystem import license_service
from novacron.corporate.ecosystem.schemas import (
    LicenseCreate,
    LicenseOut,
    MilestoneIn,
    MilestoneOut,
    MilestoneUpdate,
    SalesReportIn,
    SalesReportOut,
    ScheduleOut,
)
from novacron.security.context import current_project

router = APIRouter(prefix="/licenses")


@router.get("", response_model=Page[LicenseOut])
def list_licenses(
    request: Request,
    page: PageParams = Depends(page_params),
    direction: str | None = Query(None, pattern="^(in|out)$"),
) -> Page[LicenseOut]:
    with db_of(request).read() as s:
        items, total = license_service.list_licenses(
            s, page, direction, project_id=current_project(request)
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, response_model=LicenseOut)
def create_license(request: Request, body: LicenseCreate) -> LicenseOut:
    with db_of(request).session() as s:
        return license_service.create_license(
            s, body, who(request), project_id=current_project(request)
        )


@router.get("/{ref}", response_model=LicenseOut)
def get_license(request: Request, ref: str) -> LicenseOut:
    with db_of(request).read() as s:
        return license_service.get_license(s, ref, project_id=current_project(request))


@router.delete("/{ref}", status_code=204)
def delete_license(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        license_service.delete_license(s, ref, project_id=current_project(request))
    return Response(status_code=204)


@router.post("/{ref}/milestones", status_code=201, response_model=MilestoneOut)
def add_milestone(request: Request, ref: str, body: MilestoneIn) -> MilestoneOut:
    with db_of(request).session() as s:
        return license_service.add_milestone(s, ref, body, project_id=current_project(request))


@router.patch("/{ref}/milestones/{milestone}", response_model=MilestoneOut)
def update_milestone(
    request: Request, ref: str, milestone: str, body: MilestoneUpdate
) -> MilestoneOut:
    with db_of(request).session() as s:
        return license_service.update_milestone(
            s, ref, milestone, body, project_id=current_project(request)
        )


@router.get("/{ref}/sales-reports", response_model=list[SalesReportOut])
def list_sales_reports(request: Request, ref: str) -> list[SalesReportOut]:
    with db_of(request).read() as s:
        return license_service.list_sales_reports(s, ref, project_id=current_project(request))


@router.post("/{ref}/sales-reports", status_code=201, response_model=SalesReportOut)
def add_sales_report(request: Request, ref: str, body: SalesReportIn) -> SalesReportOut:
    with db_of(request).session() as s:
        return license_service.add_sales_report(
            s, ref, body, who(request), project_id=current_project(request)
        )


@router.get("/{ref}/schedule", response_model=ScheduleOut)
def schedule(request: Request, ref: str) -> ScheduleOut:
    """Revenue recognised per reported period: royalty, fee, milestones, MAG true-up."""
    with db_of(request).read() as s:
        return license_service.schedule(s, ref, project_id=current_project(request))
