"""Stage moves: gather the gate's facts, evaluate it, advance, drop, reopen, history.

Closing a deal generates its integration programme in the same transaction, through the
integration slice's service: the deal can't be recorded as closed without its programme.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from novacron.core.errors import InvalidState
from novacron.corporate.ma.models import (
    DiligenceRequest,
    Finding,
    Scorecard,
    StageChange,
    SynergyLine,
    Target,
    Valuation,
)
from novacron.corporate.ma.service.diligence import ensure_workstreams
from novacron.corporate.ma.service.targets import find_target, record_change
from novacron.corporate.ma.stages import (
    DEFAULT_MIN_SCORE,
    Gate,
    GateFacts,
    Stage,
    evaluate_gate,
    require_advance,
    require_droppable,
    require_reopenable,
)


def gate_facts(session: Session, target: Target, min_score: float | None = None) -> GateFacts:
    """Everything any gate looks at, read in a handful of queries."""
    scorecard = session.scalars(
        select(Scorecard)
        .where(Scorecard.target_id == target.id)
        .order_by(Scorecard.version.desc())
        .limit(1)
    ).first()
    valuation = session.scalars(
        select(Valuation)
        .where(Valuation.target_id == target.id)
        .order_by(Valuation.version.desc())
        .limit(1)
    ).first()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(DiligenceRequest.workstream, DiligenceRequest.status, func.count())
        .where(DiligenceRequest.target_id == target.id)
        .group_by(DiligenceRequest.workstream, DiligenceRequest.status)
    )
    for workstream, status, n in rows:
        counts[workstream][status] = int(n)
    breakers = session.scalars(
        select(Finding.title)
        .where(
            Finding.target_id == target.id, Finding.deal_breaker.is_(True), Finding.status == "open"
        )
        .order_by(Finding.title)
    )
    return GateFacts(
        latest_score=scorecard.total if scorecard else None,
        latest_scorecard_version=scorecard.version if scorecard else None,
        min_score=DEFAULT_MIN_SCORE if min_score is None else min_score,
        valuation_versions=valuation.version if valuation else 0,
        latest_valuation_version=valuation.version if valuation else None,
        latest_valuation_approved=bool(valuation and valuation.approved),
        nda_signed=target.nda_signed,
        nda_owner=target.nda_owner,
        requests=dict(counts),
        open_deal_breakers=tuple(breakers),
        signed_on=target.signed_on,
        closed_on=target.closed_on,
        integration_programme_id=target.integration_programme_id,
    )


def gate(
    session: Session, ref: str, min_score: float | None = None, *, project_id: str
) -> dict[str, Any]:
    """The gate out of the target's stage, as the API shows it (a preview: nothing moves)."""
    target = find_target(session, ref, project_id=project_id)
    result = evaluate_gate(Stage(target.stage), gate_facts(session, target, min_score))
    return {"target_id": target.id, "name": target.name, **result.as_dict()}


def advance(
    session: Session,
    ref: str,
    by: str,
    *,
    project_id: str,
    reason: str | None = None,
    min_score: float | None = None,
    at: datetime | None = None,
) -> Target:
    """Move the target to its next stage if the gate passes; ``InvalidState`` listing the
    unmet criteria otherwise. ``at`` dates the move (default now)."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    result: Gate = evaluate_gate(Stage(target.stage), gate_facts(session, target, min_score))
    to_stage = require_advance(target.name, result)
    if to_stage is Stage.closed:
        _generate_programme(session, target, by)
    record_change(session, target, to_stage, by, reason, at)
    if to_stage is Stage.due_diligence:
        ensure_workstreams(session, target.id)
    session.flush()
    return target


def _generate_programme(session: Session, target: Target, by: str) -> None:
    """The integration slice builds the programme from the close date and synergy plan,
    in the deal's currency (also when the plan is empty) and the deal's project."""
    from novacron.corporate.integration.service import generate_programme

    if target.closed_on is None:  # the gate checked it; keep mypy and a reader sure
        raise InvalidState(f"{target.name} has no closed_on date")
    lines = session.scalars(
        select(SynergyLine)
        .where(SynergyLine.target_id == target.id)
        .order_by(SynergyLine.created_at, SynergyLine.id)
    )
    # Exactly the fields the integration slice's plan line takes (it forbids others).
    plan = [
        {
            "category": line.category,
            "name": line.name,
            "run_rate": line.run_rate,
            "currency": line.currency,
            "phase_in": [repr(float(share)) for share in line.phase_in],
            "one_off_cost": line.one_off_cost,
        }
        for line in lines
    ]
    programme = generate_programme(
        session,
        target_id=target.id,
        target_name=target.name,
        close_date=target.closed_on,
        synergy_plan=plan,
        created_by=by,
        currency=target.currency,
        project_id=target.project_id,
    )
    target.integration_programme_id = str(programme.id)


def drop(
    session: Session,
    ref: str,
    by: str,
    reason: str,
    *,
    project_id: str,
    at: datetime | None = None,
) -> Target:
    """Abandon an open deal, remembering where it was so it can be reopened there."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    stage = Stage(target.stage)
    require_droppable(target.name, stage)
    target.dropped_from = stage.value
    target.drop_reason = reason
    record_change(session, target, Stage.dropped, by, reason, at)
    session.flush()
    return target


def reopen(
    session: Session, ref: str, by: str, reason: str | None = None, *, project_id: str
) -> Target:
    """A dropped deal back in the stage it was dropped from (its gate had passed)."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    back_to = require_reopenable(target.name, Stage(target.stage), target.dropped_from)
    record_change(session, target, back_to, by, reason or f"reopened to {back_to.value}")
    target.dropped_from = None
    target.drop_reason = None
    session.flush()
    return target


def history_query(target_id: str) -> Select[StageChange]:
    """The stage history of a target the caller found in its project."""
    return (
        select(StageChange)
        .where(StageChange.target_id == target_id)
        .order_by(StageChange.at, StageChange.id)
    )
