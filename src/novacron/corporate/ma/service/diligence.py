"""Due diligence: the six workstreams, their request lists and the findings register."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid, NotFound
from novacron.core.ids import new_id
from novacron.corporate.ma.models import DiligenceRequest, Finding, Workstream
from novacron.corporate.ma.rollups import (
    FindingFacts,
    RequestFacts,
    diligence_summary,
    is_overdue,
)
from novacron.corporate.ma.schemas_diligence import (
    FindingCreate,
    FindingOut,
    FindingUpdate,
    RequestCreate,
    RequestOut,
    RequestUpdate,
    WorkstreamUpdate,
)
from novacron.corporate.ma.scoring import risk_rating, risk_score
from novacron.corporate.ma.service.targets import find_target
from novacron.corporate.ma.stages import WORKSTREAMS


def today() -> date:
    return utcnow().date()


def ensure_workstreams(session: Session, target_id: str) -> list[Workstream]:
    """The six workstreams of a target the caller found in its project, created the first
    time anyone needs them (entering due_diligence, or the first request or finding)."""
    have = {
        w.workstream: w
        for w in session.scalars(select(Workstream).where(Workstream.target_id == target_id))
    }
    for name in WORKSTREAMS:
        if name not in have:
            have[name] = Workstream(id=new_id("dws"), target_id=target_id, workstream=name)
            session.add(have[name])
    session.flush()
    return [have[name] for name in WORKSTREAMS]


def set_lead(
    session: Session, ref: str, workstream: str, data: WorkstreamUpdate, *, project_id: str
) -> Workstream:
    target = find_target(session, ref, project_id=project_id)
    found = {w.workstream: w for w in ensure_workstreams(session, target.id)}
    if workstream not in found:
        raise NotFound(f"no workstream {workstream!r} (one of: {', '.join(WORKSTREAMS)})")
    found[workstream].lead = data.lead
    session.flush()
    return found[workstream]


# -- requests -----------------------------------------------------------------------------


def request_out(row: DiligenceRequest, as_of: date | None = None) -> RequestOut:
    out = RequestOut.model_validate(
        {
            **{k: getattr(row, k) for k in RequestOut.model_fields if k != "overdue"},
            "overdue": is_overdue(row.status, row.due_on, as_of or today()),
        }
    )
    return out


def requests_query(
    target_id: str, *, workstream: str | None = None, status: str | None = None
) -> Select[DiligenceRequest]:
    stmt = select(DiligenceRequest).where(DiligenceRequest.target_id == target_id)
    if workstream:
        stmt = stmt.where(DiligenceRequest.workstream == workstream)
    if status:
        stmt = stmt.where(DiligenceRequest.status == status)
    order = (DiligenceRequest.workstream, DiligenceRequest.created_at, DiligenceRequest.id)
    return stmt.order_by(*order)


def add_request(
    session: Session, ref: str, data: RequestCreate, by: str, *, project_id: str
) -> DiligenceRequest:
    target = find_target(session, ref, project_id=project_id)
    ensure_workstreams(session, target.id)
    row = DiligenceRequest(
        id=new_id("ddr"), target_id=target.id, created_by=by, **data.model_dump()
    )
    session.add(row)
    session.flush()
    return row


def _own(session: Session, model: type[Any], target_id: str, item_id: str, what: str) -> Any:
    """A child row of the target (found in the caller's project): one of another target,
    hence of another project, is as unknown as a made-up id."""
    row = session.get(model, item_id)
    if row is None or row.target_id != target_id:
        raise NotFound(f"no {what} {item_id!r} on this target")
    return row


def update_request(
    session: Session, ref: str, request_id: str, data: RequestUpdate, *, project_id: str
) -> DiligenceRequest:
    target = find_target(session, ref, project_id=project_id)
    row: DiligenceRequest = _own(session, DiligenceRequest, target.id, request_id, "request")
    _apply(row, data.model_dump(exclude_unset=True), required=("workstream", "title", "status"))
    session.flush()
    return row


def _apply(row: Any, changes: dict[str, Any], required: tuple[str, ...]) -> None:
    for key, value in changes.items():
        if value is None and key in required:
            raise Invalid(f"{key} cannot be null", errors=[{"loc": [key], "msg": "cannot be null"}])
        setattr(row, key, "" if value is None and key in ("description", "mitigation") else value)


# -- findings -----------------------------------------------------------------------------


def finding_out(row: Finding) -> FindingOut:
    score = risk_score(row.severity, row.likelihood)
    values = {k: getattr(row, k) for k in FindingOut.model_fields if k not in ("score", "rating")}
    return FindingOut.model_validate({**values, "score": score, "rating": risk_rating(score)})


def findings_query(
    target_id: str,
    *,
    workstream: str | None = None,
    status: str | None = None,
    deal_breaker: bool | None = None,
) -> Select[Finding]:
    stmt = select(Finding).where(Finding.target_id == target_id)
    if workstream:
        stmt = stmt.where(Finding.workstream == workstream)
    if status:
        stmt = stmt.where(Finding.status == status)
    if deal_breaker is not None:
        stmt = stmt.where(Finding.deal_breaker.is_(deal_breaker))
    # Worst first: severity × likelihood isn't a column, so order by its factors' product.
    return stmt.order_by(
        (Finding.severity * Finding.likelihood).desc(), Finding.created_at, Finding.id
    )


def add_finding(
    session: Session, ref: str, data: FindingCreate, by: str, *, project_id: str
) -> Finding:
    target = find_target(session, ref, project_id=project_id)
    ensure_workstreams(session, target.id)
    row = Finding(id=new_id("ddf"), target_id=target.id, created_by=by, **data.model_dump())
    session.add(row)
    session.flush()
    return row


def update_finding(
    session: Session, ref: str, finding_id: str, data: FindingUpdate, *, project_id: str
) -> Finding:
    target = find_target(session, ref, project_id=project_id)
    row: Finding = _own(session, Finding, target.id, finding_id, "finding")
    required = ("workstream", "title", "severity", "likelihood", "status", "deal_breaker")
    _apply(row, data.model_dump(exclude_unset=True), required=required)
    session.flush()
    return row


# -- summary ------------------------------------------------------------------------------


def summary(
    session: Session, ref: str, as_of: date | None = None, *, project_id: str
) -> dict[str, Any]:
    """Per-workstream progress, overdue requests, top risks and the heat map."""
    target = find_target(session, ref, project_id=project_id)
    leads = {
        w.workstream: w.lead
        for w in session.scalars(select(Workstream).where(Workstream.target_id == target.id))
    }
    requests = [
        RequestFacts(r.workstream, r.status, r.due_on)
        for r in session.scalars(requests_query(target.id))
    ]
    findings = [
        FindingFacts(
            f.id, f.workstream, f.title, f.severity, f.likelihood, f.status, f.deal_breaker
        )
        for f in session.scalars(findings_query(target.id))
    ]
    result = diligence_summary(requests, findings, as_of or today(), leads)
    return {"target_id": target.id, "name": target.name, "stage": target.stage, **result}
