"""Screening scorecards: versions per target, scored and explained on save."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from novacron.core.errors import NotFound
from novacron.core.ids import new_id
from novacron.corporate.ma.models import Scorecard
from novacron.corporate.ma.schemas import ScorecardCreate
from novacron.corporate.ma.scoring import CriterionScore, score
from novacron.corporate.ma.service.targets import find_target


def next_version(
    session: Session,
    version: InstrumentedAttribute[int],
    target_col: InstrumentedAttribute[str],
    target_id: str,
) -> int:
    """The next version number among a target's rows (1 for the first). Callers hold the
    target's row lock, and (target_id, version) is unique, so two writers can't share one."""
    current = session.scalar(select(func.max(version)).where(target_col == target_id))
    return int(current or 0) + 1


def add_scorecard(
    session: Session, ref: str, data: ScorecardCreate, by: str, *, project_id: str
) -> Scorecard:
    """Score the criteria (``Invalid`` naming the field when inconsistent) and store them as
    the target's next version; the latest version is the one the screening gate reads."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    criteria = [CriterionScore(c.name, c.weight, c.score, c.rationale) for c in data.criteria]
    result = score(criteria, data.scale)
    row = Scorecard(
        id=new_id("scd"),
        target_id=target.id,
        version=next_version(session, Scorecard.version, Scorecard.target_id, target.id),
        scale=data.scale,
        criteria=[c.model_dump() for c in data.criteria],
        total=result.total,
        explanation=result.explanation(),
        note=data.note,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return row


def scorecards_query(target_id: str) -> Select[Scorecard]:
    return (
        select(Scorecard).where(Scorecard.target_id == target_id).order_by(Scorecard.version.desc())
    )


def get_scorecard(session: Session, ref: str, version: int, *, project_id: str) -> Scorecard:
    target = find_target(session, ref, project_id=project_id)
    row = session.scalar(
        select(Scorecard).where(Scorecard.target_id == target.id, Scorecard.version == version)
    )
    if row is None:
        raise NotFound(f"{target.name} has no scorecard v{version}")
    return row
