"""REST routes of labs, academic and government partnerships (under the ecosystem prefix)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.ecosystem import programme_service as svc
from novacron.corporate.ecosystem.schemas_programmes import (
    AcademicCreate,
    AcademicOut,
    CertIn,
    CertOut,
    GovCreate,
    GovOut,
    LabCreate,
    LabOut,
    LabUpdate,
    OutputIn,
    OutputOut,
    ProjectIn,
    ProjectOut,
    ProjectUpdate,
    SpendIn,
    SpendOut,
)
from novacron.security.context import current_project

router = APIRouter()
TODAY = Query(None, description="Evaluate dates as of this day (default: today, UTC)")


def today_or(value: date | None) -> date:
    return value or utcnow().date()


# -- labs -------------------------------------------------------------------------------------


@router.get("/labs", response_model=Page[LabOut])
def list_labs(
    request: Request,
    page: PageParams = Depends(page_params),
    status: str | None = Query(None, pattern="^(proposed|active|concluded)$"),
) -> Page[LabOut]:
    with db_of(request).read() as s:
        items, total = svc.list_labs(s, page, status, project_id=current_project(request))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/labs", status_code=201, response_model=LabOut)
def create_lab(request: Request, body: LabCreate) -> LabOut:
    with db_of(request).session() as s:
        return svc.create_lab(s, body, who(request), project_id=current_project(request))


@router.get("/labs/{ref}", response_model=LabOut)
def get_lab(request: Request, ref: str) -> LabOut:
    with db_of(request).read() as s:
        return svc.lab_out(svc.find_lab(s, ref, project_id=current_project(request)))


@router.patch("/labs/{ref}", response_model=LabOut)
def update_lab(request: Request, ref: str, body: LabUpdate) -> LabOut:
    with db_of(request).session() as s:
        return svc.update_lab(s, ref, body, project_id=current_project(request))


@router.delete("/labs/{ref}", status_code=204)
def delete_lab(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        svc.delete_lab(s, ref, project_id=current_project(request))
    return Response(status_code=204)


@router.post("/labs/{ref}/projects", status_code=201, response_model=ProjectOut)
def add_project(request: Request, ref: str, body: ProjectIn) -> ProjectOut:
    with db_of(request).session() as s:
        return svc.add_project(s, ref, body, project_id=current_project(request))


@router.patch("/labs/{ref}/projects/{project}", response_model=ProjectOut)
def update_project(request: Request, ref: str, project: str, body: ProjectUpdate) -> ProjectOut:
    with db_of(request).session() as s:
        return svc.update_project(s, ref, project, body, project_id=current_project(request))


@router.get("/labs/{ref}/spend", response_model=list[SpendOut])
def list_spend(request: Request, ref: str) -> list[SpendOut]:
    with db_of(request).read() as s:
        return svc.list_spend(s, ref, project_id=current_project(request))


@router.post("/labs/{ref}/spend", status_code=201, response_model=SpendOut)
def add_spend(request: Request, ref: str, body: SpendIn) -> SpendOut:
    with db_of(request).session() as s:
        return svc.add_spend(s, ref, body, project_id=current_project(request))


# -- academic ---------------------------------------------------------------------------------


@router.get("/academic", response_model=Page[AcademicOut])
def list_academic(
    request: Request,
    page: PageParams = Depends(page_params),
    programme_type: str | None = Query(
        None, pattern="^(research_grant|fellowship|internship|curriculum)$"
    ),
    today: date | None = TODAY,
) -> Page[AcademicOut]:
    with db_of(request).read() as s:
        items, total = svc.list_academic(
            s, page, today_or(today), programme_type, project_id=current_project(request)
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/academic", status_code=201, response_model=AcademicOut)
def create_academic(request: Request, body: AcademicCreate) -> AcademicOut:
    with db_of(request).session() as s:
        return svc.create_academic(
            s, body, who(request), today_or(None), project_id=current_project(request)
        )


@router.get("/academic/{ref}", response_model=AcademicOut)
def get_academic(request: Request, ref: str, today: date | None = TODAY) -> AcademicOut:
    with db_of(request).read() as s:
        return svc.academic_out(
            svc.find_academic(s, ref, project_id=current_project(request)), today_or(today)
        )


@router.delete("/academic/{ref}", status_code=204)
def delete_academic(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        svc.delete_academic(s, ref, project_id=current_project(request))
    return Response(status_code=204)


@router.post("/academic/{ref}/outputs", status_code=201, response_model=OutputOut)
def add_output(request: Request, ref: str, body: OutputIn) -> OutputOut:
    with db_of(request).session() as s:
        return svc.add_output(s, ref, body, project_id=current_project(request))


# -- government -------------------------------------------------------------------------------


@router.get("/government", response_model=Page[GovOut])
def list_government(
    request: Request,
    page: PageParams = Depends(page_params),
    jurisdiction: str | None = None,
    today: date | None = TODAY,
) -> Page[GovOut]:
    with db_of(request).read() as s:
        items, total = svc.list_government(
            s, page, today_or(today), jurisdiction, project_id=current_project(request)
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/government", status_code=201, response_model=GovOut)
def create_government(request: Request, body: GovCreate) -> GovOut:
    with db_of(request).session() as s:
        return svc.create_government(
            s, body, who(request), today_or(None), project_id=current_project(request)
        )


@router.get("/government/{ref}", response_model=GovOut)
def get_government(request: Request, ref: str, today: date | None = TODAY) -> GovOut:
    with db_of(request).read() as s:
        return svc.gov_out(
            svc.find_government(s, ref, project_id=current_project(request)), today_or(today)
        )


@router.delete("/government/{ref}", status_code=204)
def delete_government(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        svc.delete_government(s, ref, project_id=current_project(request))
    return Response(status_code=204)


@router.get("/government/{ref}/certifications", response_model=list[CertOut])
def list_certifications(request: Request, ref: str, today: date | None = TODAY) -> list[CertOut]:
    with db_of(request).read() as s:
        return svc.list_certifications(s, ref, today_or(today), project_id=current_project(request))


@router.put("/government/{ref}/certifications/{name}", response_model=CertOut)
def certify(
    request: Request, ref: str, name: str, body: CertIn, today: date | None = TODAY
) -> CertOut:
    """Record a certification (e.g. FedRAMP High): created, or replaced by name."""
    with db_of(request).session() as s:
        return svc.certify(s, ref, name, body, today_or(today), project_id=current_project(request))
