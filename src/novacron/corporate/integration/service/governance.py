"""Governance of a programme: steering committee, meetings, decision log, escalations,
and the issue and risk register."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import InvalidState
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.integration.models import (
    CommitteeMember,
    Decision,
    Escalation,
    Meeting,
    Risk,
)
from novacron.corporate.integration.schemas import (
    CommitteeMemberIn,
    CommitteeMemberOut,
    CommitteeOut,
    DecisionIn,
    EscalationIn,
    EscalationResolve,
    MeetingIn,
    MeetingOut,
    RiskIn,
    RiskOut,
    RiskUpdate,
)
from novacron.corporate.integration.service.common import child, find_programme


def committee(s: Session, ref: str, *, project_id: str) -> CommitteeOut:
    programme = find_programme(s, ref, project_id=project_id)
    members = s.scalars(
        select(CommitteeMember)
        .where(CommitteeMember.programme_id == programme.id)
        .order_by(CommitteeMember.created_at, CommitteeMember.id)
    )
    meetings = s.scalars(
        select(Meeting)
        .where(Meeting.programme_id == programme.id)
        .order_by(Meeting.held_on, Meeting.id)
    )
    return CommitteeOut(
        members=[CommitteeMemberOut.model_validate(m) for m in members],
        meetings=[MeetingOut.model_validate(m) for m in meetings],
    )


def add_member(
    s: Session, ref: str, body: CommitteeMemberIn, *, project_id: str
) -> CommitteeMember:
    programme = find_programme(s, ref, project_id=project_id)
    member = CommitteeMember(id=new_id("scm"), programme_id=programme.id, **body.model_dump())
    s.add(member)
    s.flush()
    return member


def add_meeting(s: Session, ref: str, body: MeetingIn, *, project_id: str) -> Meeting:
    programme = find_programme(s, ref, project_id=project_id)
    meeting = Meeting(id=new_id("mtg"), programme_id=programme.id, **body.model_dump())
    s.add(meeting)
    s.flush()
    return meeting


def add_decision(
    s: Session, ref: str, body: DecisionIn, who: str, today: date, *, project_id: str
) -> Decision:
    programme = find_programme(s, ref, project_id=project_id)
    decision = Decision(
        id=new_id("dec"),
        programme_id=programme.id,
        decision=body.decision,
        rationale=body.rationale,
        decided_by=body.decided_by or who,
        decided_on=body.decided_on or today,
        workstream=body.workstream,
    )
    s.add(decision)
    s.flush()
    return decision


def list_decisions(
    s: Session, ref: str, page: PageParams, workstream: str | None = None, *, project_id: str
) -> tuple[list[Decision], int]:
    programme = find_programme(s, ref, project_id=project_id)
    stmt = select(Decision).where(Decision.programme_id == programme.id)
    if workstream is not None:
        stmt = stmt.where(Decision.workstream == workstream)
    return paginate(s, stmt.order_by(Decision.decided_on.desc(), Decision.created_at.desc()), page)


def add_escalation(
    s: Session, ref: str, body: EscalationIn, who: str, today: date, *, project_id: str
) -> Escalation:
    programme = find_programme(s, ref, project_id=project_id)
    escalation = Escalation(
        id=new_id("esc"),
        programme_id=programme.id,
        title=body.title,
        detail=body.detail,
        raised_by=body.raised_by or who,
        raised_to=body.raised_to,
        severity=body.severity,
        status="open",
        workstream=body.workstream,
        raised_on=body.raised_on or today,
    )
    s.add(escalation)
    s.flush()
    return escalation


def list_escalations(
    s: Session, ref: str, page: PageParams, status: str | None = None, *, project_id: str
) -> tuple[list[Escalation], int]:
    programme = find_programme(s, ref, project_id=project_id)
    stmt = select(Escalation).where(Escalation.programme_id == programme.id)
    if status is not None:
        stmt = stmt.where(Escalation.status == status)
    return paginate(s, stmt.order_by(Escalation.raised_on.desc(), Escalation.id), page)


def resolve_escalation(
    s: Session,
    ref: str,
    escalation_id: str,
    body: EscalationResolve,
    who: str,
    today: date,
    *,
    project_id: str,
) -> Escalation:
    programme = find_programme(s, ref, project_id=project_id)
    escalation = child(s, Escalation, programme, escalation_id, "escalation")
    if escalation.status == "resolved":
        raise InvalidState(
            f"escalation {escalation.id} was already resolved on {escalation.resolved_on}"
        )
    escalation.status = "resolved"
    escalation.resolution = body.resolution
    escalation.resolved_by = who
    escalation.resolved_on = today
    s.flush()
    return escalation


def risk_view(risk: Risk) -> RiskOut:
    return RiskOut(
        id=risk.id,
        kind=risk.kind,
        title=risk.title,
        workstream=risk.workstream,
        severity=risk.severity,
        likelihood=risk.likelihood,
        score=risk.severity * risk.likelihood,
        owner=risk.owner,
        status=risk.status,
        mitigation=risk.mitigation,
        due_date=risk.due_date,
    )


def add_risk(s: Session, ref: str, body: RiskIn, *, project_id: str) -> RiskOut:
    programme = find_programme(s, ref, project_id=project_id)
    risk = Risk(id=new_id("risk"), programme_id=programme.id, **body.model_dump())
    s.add(risk)
    s.flush()
    return risk_view(risk)


def list_risks(
    s: Session,
    ref: str,
    page: PageParams,
    *,
    project_id: str,
    kind: str | None = None,
    status: str | None = None,
    workstream: str | None = None,
) -> tuple[list[RiskOut], int]:
    """Highest severity × likelihood first."""
    programme = find_programme(s, ref, project_id=project_id)
    stmt = select(Risk).where(Risk.programme_id == programme.id)
    for column, value in ((Risk.kind, kind), (Risk.status, status), (Risk.workstream, workstream)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by((Risk.severity * Risk.likelihood).desc(), Risk.created_at, Risk.id)
    rows, total = paginate(s, stmt, page)
    return [risk_view(r) for r in rows], total


def update_risk(
    s: Session, ref: str, risk_id: str, body: RiskUpdate, *, project_id: str
) -> RiskOut:
    programme = find_programme(s, ref, project_id=project_id)
    risk = child(s, Risk, programme, risk_id, "risk")
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is not None or field == "due_date":
            setattr(risk, field, value)
    s.flush()
    return risk_view(risk)
