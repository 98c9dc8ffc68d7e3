"""REST routes of market development funds (``/mdf``) and rebates (``/rebates``);
included by ``api.router`` (prefix and authentication come from it)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.partners.schemas_deals import (
    BalanceOut,
    LedgerEntryOut,
    LedgerOut,
    MDFApprove,
    MDFClaim,
    MDFPay,
    MDFRequestCreate,
    MDFRequestOut,
    ReasonIn,
    RebateComputeIn,
    RebateRunOut,
    ScheduleIn,
    ScheduleOut,
)
from novacron.corporate.partners.service import mdf, rebate_runs
from novacron.corporate.partners.service.common import find_mdf
from novacron.security.context import current_project

router = APIRouter(tags=["corporate: partners"])


@router.get("/mdf", response_model=Page[MDFRequestOut])
def list_mdf(
    request: Request,
    page: PageParams = Depends(page_params),
    partner: str | None = None,
    programme: str | None = None,
    state: str | None = Query(None, pattern="^(requested|approved|rejected|claimed|paid)$"),
) -> Page[MDFRequestOut]:
    with db_of(request).read() as s:
        rows, total = mdf.list_requests(
            s,
            page,
            partner=partner,
            programme=programme,
            state=state,
            project_id=current_project(request),
        )
        items = [MDFRequestOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/mdf", status_code=201, response_model=MDFRequestOut)
def request_mdf(request: Request, body: MDFRequestCreate) -> MDFRequestOut:
    with db_of(request).session() as s:
        return MDFRequestOut.model_validate(
            mdf.request(s, body, who(request), project_id=current_project(request))
        )


@router.get("/mdf/ledger", response_model=LedgerOut)
def ledger(
    request: Request,
    partner: str | None = Query(None, description="Partner id or name"),
    programme: str | None = Query(None, description="Programme id or name"),
) -> LedgerOut:
    with db_of(request).read() as s:
        found = mdf.ledger(s, partner, programme, project_id=current_project(request))
        return LedgerOut(
            entries=[LedgerEntryOut.model_validate(e) for e in found["entries"]],
            balances=[BalanceOut.model_validate(b) for b in found["balances"]],
        )


@router.get("/mdf/{request_id}", response_model=MDFRequestOut)
def show_mdf(request: Request, request_id: str) -> MDFRequestOut:
    with db_of(request).read() as s:
        return MDFRequestOut.model_validate(
            find_mdf(s, request_id, project_id=current_project(request))
        )


@router.post("/mdf/{request_id}/approve", response_model=MDFRequestOut)
def approve_mdf(
    request: Request, request_id: str, body: MDFApprove | None = Body(None)
) -> MDFRequestOut:
    data = body or MDFApprove.model_validate({})
    with db_of(request).session() as s:
        return MDFRequestOut.model_validate(
            mdf.approve(s, request_id, data, who(request), project_id=current_project(request))
        )


@router.post("/mdf/{request_id}/reject", response_model=MDFRequestOut)
def reject_mdf(
    request: Request, request_id: str, body: ReasonIn | None = Body(None)
) -> MDFRequestOut:
    with db_of(request).session() as s:
        return MDFRequestOut.model_validate(
            mdf.reject(
                s, request_id, body.reason if body else "", project_id=current_project(request)
            )
        )


@router.post("/mdf/{request_id}/claim", response_model=MDFRequestOut)
def claim_mdf(request: Request, request_id: str, body: MDFClaim) -> MDFRequestOut:
    with db_of(request).session() as s:
        return MDFRequestOut.model_validate(
            mdf.claim(s, request_id, body, who(request), project_id=current_project(request))
        )


@router.post("/mdf/{request_id}/pay", response_model=MDFRequestOut)
def pay_mdf(request: Request, request_id: str, body: MDFPay | None = Body(None)) -> MDFRequestOut:
    paid_on = body.paid_on if body else None
    with db_of(request).session() as s:
        return MDFRequestOut.model_validate(
            mdf.pay(s, request_id, paid_on, who(request), project_id=current_project(request))
        )


@router.get("/rebates/schedules", response_model=list[ScheduleOut])
def schedules(request: Request) -> list[ScheduleOut]:
    with db_of(request).read() as s:
        return [
            ScheduleOut.model_validate(x)
            for x in rebate_runs.schedules(s, project_id=current_project(request))
        ]


@router.put("/rebates/schedules/{tier}", response_model=ScheduleOut)
def set_schedule(request: Request, tier: str, body: ScheduleIn) -> ScheduleOut:
    with db_of(request).session() as s:
        return ScheduleOut.model_validate(
            rebate_runs.set_schedule(
                s, tier, body, who(request), project_id=current_project(request)
            )
        )


@router.post("/rebates/compute", response_model=RebateRunOut)
def compute(request: Request, body: RebateComputeIn) -> RebateRunOut:
    with db_of(request).session() as s:
        run = rebate_runs.compute(
            s,
            body.period_start,
            body.period_end,
            body.partner,
            body.book,
            who(request),
            project_id=current_project(request),
        )
        return RebateRunOut.model_validate(run)
