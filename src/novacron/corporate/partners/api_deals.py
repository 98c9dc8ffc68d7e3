"""REST routes of deal registration (``/api/v1/corporate/deal-registrations``); included
by ``api.router`` (prefix and authentication come from it)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.partners.schemas_deals import (
    CloseIn,
    ExpiredOut,
    ExpireIn,
    ExtendIn,
    ReasonIn,
    RegistrationCreate,
    RegistrationOut,
)
from novacron.corporate.partners.service import deals
from novacron.security.context import current_project

router = APIRouter(tags=["corporate: partners"])
BASE = "/deal-registrations"
STATUS = "^(pending|approved|rejected|won|lost|expired)$"


@router.get(BASE, response_model=Page[RegistrationOut])
def list_registrations(
    request: Request,
    page: PageParams = Depends(page_params),
    partner: str | None = Query(None, description="Partner id or name"),
    status: str | None = Query(None, pattern=STATUS),
    conflict: bool | None = Query(None, description="Only flagged (true) or unflagged"),
    customer: str | None = Query(None, description="Customer name (normalised match)"),
) -> Page[RegistrationOut]:
    # A write session: reading expires registrations whose time has passed.
    with db_of(request).session() as s:
        rows, total = deals.list_registrations(
            s,
            page,
            partner=partner,
            status=status,
            conflict=conflict,
            customer=customer,
            project_id=current_project(request),
        )
        items = [RegistrationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(BASE, status_code=201, response_model=RegistrationOut)
def register(request: Request, body: RegistrationCreate) -> RegistrationOut:
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.register(s, body, who(request), project_id=current_project(request))
        )


@router.post(f"{BASE}/expire", response_model=ExpiredOut)
def expire(request: Request, body: ExpireIn | None = Body(None)) -> ExpiredOut:
    """The sweep of the project: expire every open registration past its ``expires_at``
    (at ``now``)."""
    now = body.now.replace(tzinfo=None) if body and body.now else None
    with db_of(request).session() as s:
        return ExpiredOut(
            expired=deals.expire_registrations(
                s, now or utcnow(), project_id=current_project(request)
            )
        )


@router.get(BASE + "/{reg_id}", response_model=RegistrationOut)
def show(request: Request, reg_id: str) -> RegistrationOut:
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.get_registration(s, reg_id, project_id=current_project(request))
        )


@router.post(BASE + "/{reg_id}/approve", response_model=RegistrationOut)
def approve(request: Request, reg_id: str) -> RegistrationOut:
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.approve(s, reg_id, who(request), project_id=current_project(request))
        )


@router.post(BASE + "/{reg_id}/reject", response_model=RegistrationOut)
def reject(request: Request, reg_id: str, body: ReasonIn | None = Body(None)) -> RegistrationOut:
    reason = body.reason if body else ""
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.reject(s, reg_id, reason, who(request), project_id=current_project(request))
        )


@router.post(BASE + "/{reg_id}/extend", response_model=RegistrationOut)
def extend(request: Request, reg_id: str, body: ExtendIn | None = Body(None)) -> RegistrationOut:
    days = body.days if body else 30
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.extend(s, reg_id, days, project_id=current_project(request))
        )


@router.post(BASE + "/{reg_id}/close", response_model=RegistrationOut)
def close(request: Request, reg_id: str, body: CloseIn) -> RegistrationOut:
    with db_of(request).session() as s:
        return RegistrationOut.model_validate(
            deals.close(s, reg_id, body, who(request), project_id=current_project(request))
        )
