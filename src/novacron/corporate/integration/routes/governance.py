"""Steering committee and meetings, decision log, escalations, issue and risk register."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from novacron.core.database import db_of
from novacron.core.pagination import Page, PageParams, page_params
from novacron.corporate.common import who
from novacron.corporate.integration.routes.common import as_of
from novacron.corporate.integration.schemas import (
    CommitteeMemberIn,
    CommitteeMemberOut,
    CommitteeOut,
    DecisionIn,
    DecisionOut,
    EscalationIn,
    EscalationOut,
    EscalationResolve,
    MeetingIn,
    MeetingOut,
    RiskIn,
    RiskOut,
    RiskUpdate,
    WorkstreamKey,
)
from novacron.corporate.integration.service import governance as svc
from novacron.security.context import current_project

router = APIRouter()


@router.get("/programmes/{ref}/committee", response_model=CommitteeOut)
def committee(request: Request, ref: str) -> CommitteeOut:
    with db_of(request).read() as s:
        return svc.committee(s, ref, project_id=current_project(request))


@router.post(
    "/programmes/{ref}/committee/members", status_code=201, response_model=CommitteeMemberOut
)
def add_member(request: Request, ref: str, body: CommitteeMemberIn) -> CommitteeMemberOut:
    with db_of(request).session() as s:
        return CommitteeMemberOut.model_validate(
            svc.add_member(s, ref, body, project_id=current_project(request))
        )


@router.post("/programmes/{ref}/committee/meetings", status_code=201, response_model=MeetingOut)
def add_meeting(request: Request, ref: str, body: MeetingIn) -> MeetingOut:
    with db_of(request).session() as s:
        return MeetingOut.model_validate(
            svc.add_meeting(s, ref, body, project_id=current_project(request))
        )


@router.get("/programmes/{ref}/decisions", response_model=Page[DecisionOut])
def list_decisions(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    workstream: WorkstreamKey | None = None,
) -> Page[Any]:
    with db_of(request).read() as s:
        rows, total = svc.list_decisions(
            s, ref, page, workstream, project_id=current_project(request)
        )
        items = [DecisionOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/programmes/{ref}/decisions", status_code=201, response_model=DecisionOut)
def add_decision(
    request: Request, ref: str, body: DecisionIn, day: date = Depends(as_of)
) -> DecisionOut:
    with db_of(request).session() as s:
        return DecisionOut.model_validate(
            svc.add_decision(s, ref, body, who(request), day, project_id=current_project(request))
        )


@router.get("/programmes/{ref}/escalations", response_model=Page[EscalationOut])
def list_escalations(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    status: str | None = Query(None, pattern="^(open|resolved)$"),
) -> Page[Any]:
    with db_of(request).read() as s:
        rows, total = svc.list_escalations(
            s, ref, page, status, project_id=current_project(request)
        )
        items = [EscalationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/programmes/{ref}/escalations", status_code=201, response_model=EscalationOut)
def add_escalation(
    request: Request, ref: str, body: EscalationIn, day: date = Depends(as_of)
) -> EscalationOut:
    with db_of(request).session() as s:
        return EscalationOut.model_validate(
            svc.add_escalation(s, ref, body, who(request), day, project_id=current_project(request))
        )


@router.post("/programmes/{ref}/escalations/{escalation_id}/resolve", response_model=EscalationOut)
def resolve_escalation(
    request: Request,
    ref: str,
    escalation_id: str,
    body: EscalationResolve,
    day: date = Depends(as_of),
) -> EscalationOut:
    with db_of(request).session() as s:
        row = svc.resolve_escalation(
            s, ref, escalation_id, body, who(request), day, project_id=current_project(request)
        )
        return EscalationOut.model_validate(row)


@router.get("/programmes/{ref}/risks", response_model=Page[RiskOut])
def list_risks(
    request: Request,
    ref: str,
    page: PageParams = Depends(page_params),
    kind: str | None = Query(None, pattern="^(issue|risk)$"),
    status: str | None = Query(None, pattern="^(open|mitigating|closed)$"),
    workstream: WorkstreamKey | None = None,
) -> Page[Any]:
    """Issues and risks, highest severity × likelihood first."""
    with db_of(request).read() as s:
        items, total = svc.list_risks(
            s,
            ref,
            page,
            kind=kind,
            status=status,
            workstream=workstream,
            project_id=current_project(request),
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/programmes/{ref}/risks", status_code=201, response_model=RiskOut)
def add_risk(request: Request, ref: str, body: RiskIn) -> RiskOut:
    with db_of(request).session() as s:
        return svc.add_risk(s, ref, body, project_id=current_project(request))


@router.patch("/programmes/{ref}/risks/{risk_id}", response_model=RiskOut)
def update_risk(request: Request, ref: str, risk_id: str, body: RiskUpdate) -> RiskOut:
    with db_of(request).session() as s:
        return svc.update_risk(s, ref, risk_id, body, project_id=current_project(request))
