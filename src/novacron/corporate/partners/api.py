"""REST routes: Partners, tiers, programmes, deal registration, MDF and rebates.

``/api/v1/corporate/partners`` and ``/partner-programmes`` live here; deal registrations
in ``api_deals.py``; MDF and rebates in ``api_money.py`` (all behind ``require_user``).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.partners import api_deals, api_money
from novacron.corporate.partners.schemas import (
    EnrolIn,
    EnrolmentOut,
    HealthOut,
    PartnerCreate,
    PartnerOut,
    PartnerType,
    PartnerUpdate,
    PerformanceOut,
    ProgrammeCreate,
    ProgrammeKind,
    ProgrammeOut,
    TierChangeOut,
    TierCriteriaOut,
    TierEvaluationOut,
)
from novacron.corporate.partners.service import partners, programmes
from novacron.corporate.partners.service.common import find_partner, find_programme
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate", tags=["corporate: partners"], dependencies=[Depends(require_user)]
)


# -- partners ------------------------------------------------------------------------------


@router.get("/partners", response_model=Page[PartnerOut])
def list_partners(
    request: Request,
    page: PageParams = Depends(page_params),
    type: PartnerType | None = Query(None, description="Only this partner type"),
    status: str | None = Query(None, pattern="^(prospect|active|suspended|terminated)$"),
    tier: str | None = Query(None, pattern="^(bronze|silver|gold|platinum)$"),
    region: str | None = None,
    name: str | None = Query(None, description="Name contains"),
) -> Page[PartnerOut]:
    with db_of(request).read() as s:
        rows, total = partners.list_partners(
            s,
            page,
            type=type,
            status=status,
            tier=tier,
            region=region,
            name=name,
            project_id=current_project(request),
        )
        items = [PartnerOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/partners", status_code=201, response_model=PartnerOut)
def create_partner(request: Request, body: PartnerCreate) -> PartnerOut:
    with db_of(request).session() as s:
        return PartnerOut.model_validate(
            partners.create_partner(s, body, who(request), project_id=current_project(request))
        )


@router.get("/partners/tier-criteria", response_model=list[TierCriteriaOut])
def tier_criteria() -> list[TierCriteriaOut]:
    return [TierCriteriaOut.model_validate(c) for c in partners.criteria_table()]


@router.get("/partners/{ref}", response_model=PartnerOut)
def show_partner(request: Request, ref: str) -> PartnerOut:
    with db_of(request).read() as s:
        return PartnerOut.model_validate(find_partner(s, ref, project_id=current_project(request)))


@router.patch("/partners/{ref}", response_model=PartnerOut)
def update_partner(request: Request, ref: str, body: PartnerUpdate) -> PartnerOut:
    with db_of(request).session() as s:
        return PartnerOut.model_validate(
            partners.update_partner(s, ref, body, project_id=current_project(request))
        )


@router.post("/partners/{ref}/evaluate-tier", response_model=TierEvaluationOut)
def evaluate_tier(request: Request, ref: str) -> TierEvaluationOut:
    with db_of(request).session() as s:
        partner = find_partner(s, ref, project_id=current_project(request))
        previous, result, metrics = partners.evaluate_tier(
            s, partner, f"evaluation requested by {who(request)}"
        )
        return TierEvaluationOut.model_validate(
            partners.evaluation_out(partner, previous, result, metrics)
        )


@router.get("/partners/{ref}/tier-history", response_model=list[TierChangeOut])
def tier_history(request: Request, ref: str) -> list[TierChangeOut]:
    with db_of(request).read() as s:
        return [
            TierChangeOut.model_validate(c)
            for c in partners.tier_history(s, ref, project_id=current_project(request))
        ]


@router.get("/partners/{ref}/performance", response_model=PerformanceOut)
def performance(
    request: Request,
    ref: str,
    start: date | None = Query(None, description="Period start (default: a year before end)"),
    end: date | None = Query(None, description="Period end (default: today)"),
) -> PerformanceOut:
    with db_of(request).read() as s:
        return PerformanceOut.model_validate(
            partners.partner_performance(s, ref, start, end, project_id=current_project(request))
        )


@router.get("/partners/{ref}/health", response_model=HealthOut)
def health(
    request: Request, ref: str, today: date | None = Query(None, description="As of this day")
) -> HealthOut:
    with db_of(request).read() as s:
        return HealthOut.model_validate(
            partners.partner_health(s, ref, today, project_id=current_project(request))
        )


# -- programmes ----------------------------------------------------------------------------


@router.get("/partner-programmes", response_model=Page[ProgrammeOut])
def list_programmes(
    request: Request,
    page: PageParams = Depends(page_params),
    kind: ProgrammeKind | None = None,
) -> Page[ProgrammeOut]:
    with db_of(request).read() as s:
        rows, total = programmes.list_programmes(s, page, kind, project_id=current_project(request))
        items = [ProgrammeOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/partner-programmes", status_code=201, response_model=ProgrammeOut)
def create_programme(request: Request, body: ProgrammeCreate) -> ProgrammeOut:
    with db_of(request).session() as s:
        return ProgrammeOut.model_validate(
            programmes.create_programme(s, body, who(request), project_id=current_project(request))
        )


@router.get("/partner-programmes/{ref}", response_model=ProgrammeOut)
def show_programme(request: Request, ref: str) -> ProgrammeOut:
    with db_of(request).read() as s:
        return ProgrammeOut.model_validate(
            find_programme(s, ref, project_id=current_project(request))
        )


@router.post("/partner-programmes/{ref}/enrol", status_code=201, response_model=EnrolmentOut)
def enrol(request: Request, ref: str, body: EnrolIn) -> EnrolmentOut:
    with db_of(request).session() as s:
        return EnrolmentOut.model_validate(
            programmes.enrol(
                s, ref, body.partner, who(request), project_id=current_project(request)
            )
        )


@router.get("/partner-programmes/{ref}/enrolments", response_model=list[EnrolmentOut])
def enrolments(request: Request, ref: str) -> list[EnrolmentOut]:
    with db_of(request).read() as s:
        return [
            EnrolmentOut.model_validate(e)
            for e in programmes.enrolments(s, ref, project_id=current_project(request))
        ]


router.include_router(api_deals.router)
router.include_router(api_money.router)
