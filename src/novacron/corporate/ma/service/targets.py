"""Targets: create, find, list, update, delete, and their API shape."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.ma.models import StageChange, SynergyLine, Target
from novacron.corporate.ma.schemas import TargetCreate, TargetOut, TargetUpdate
from novacron.corporate.ma.stages import Stage, default_probability, require_deletable

HUNDRED = Decimal(100)


def find_target(session: Session, ref: str, *, project_id: str, lock: bool = False) -> Target:
    """A target of the project by id or exact name (another project's is ``NotFound``);
    ``lock`` takes its row lock (PostgreSQL) so that concurrent stage moves of one target
    serialize."""
    stmt = select(Target).where(
        Target.project_id == project_id, or_(Target.id == ref, Target.name == ref)
    )
    if lock:
        stmt = stmt.with_for_update()
    target = session.scalar(stmt)
    if target is None:
        raise NotFound(f"no target {ref!r}")
    return target


def _check_category(category: str, custom: str | None) -> None:
    """``custom`` needs its text; the named categories must not carry one."""
    if category == "custom" and not custom:
        raise Invalid(
            "custom_category is required when category is custom",
            errors=[{"loc": ["custom_category"], "msg": "required when category is custom"}],
        )
    if category != "custom" and custom:
        raise Invalid(
            f"custom_category is only for category custom, not {category}",
            errors=[{"loc": ["custom_category"], "msg": "only allowed with category custom"}],
        )


def _check_name_free(
    session: Session, name: str, project_id: str, own_id: str | None = None
) -> None:
    """Names are unique within a project (any case); other projects may use the name."""
    stmt = select(Target.id).where(
        Target.project_id == project_id, func.lower(Target.name) == name.lower()
    )
    if own_id is not None:
        stmt = stmt.where(Target.id != own_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"a target named {name!r} already exists",
            errors=[{"loc": ["name"], "msg": "already taken"}],
        )


def record_change(
    session: Session,
    target: Target,
    to_stage: Stage,
    by: str,
    reason: str | None,
    at: datetime | None = None,
) -> StageChange:
    """Move ``target`` to ``to_stage`` and write the history row, dated ``at`` (default
    now; the demo loader back-dates a portfolio's history with it)."""
    now = at or utcnow()
    change = StageChange(
        id=new_id("stg"),
        target_id=target.id,
        from_stage=target.stage,
        to_stage=to_stage.value,
        by=by,
        at=now,
        reason=reason,
    )
    target.stage = to_stage.value
    target.stage_changed_at = now
    target.probability = None  # a hand-set probability holds for one stage
    session.add(change)
    return change


def create_target(
    session: Session,
    data: TargetCreate,
    created_by: str,
    *,
    project_id: str,
    at: datetime | None = None,
) -> Target:
    """A new target of the project in screening (reused by the CSV import), created
    ``at`` (default now)."""
    _check_category(data.category, data.custom_category)
    _check_name_free(session, data.name, project_id)
    target = Target(
        id=new_id("tgt"),
        project_id=project_id,
        name=data.name,
        category=data.category,
        custom_category=data.custom_category,
        description=data.description or "",
        headquarters=data.headquarters,
        country=data.country,
        website=data.website,
        currency=data.currency,
        revenue=data.revenue,
        ebitda=data.ebitda,
        employees=data.employees,
        financials_year=data.financials_year,
        asking_value=data.asking_value,
        owner=data.owner or created_by,
        probability=data.probability,
        expected_close_on=data.expected_close_on,
        stage=Stage.screening.value,
        stage_changed_at=at or utcnow(),
        nda_signed=bool(data.nda_signed),
        nda_owner=data.nda_owner,
        created_by=created_by,
    )
    session.add(target)
    session.flush()  # no ORM relationship orders the inserts: the target row goes first
    session.add(
        StageChange(
            id=new_id("stg"),
            target_id=target.id,
            from_stage=None,
            to_stage=Stage.screening.value,
            by=created_by,
            at=target.stage_changed_at,
            reason="created",
        )
    )
    session.flush()
    return target


NOT_NULL = ("name", "category", "currency", "owner", "description", "nda_signed")


def update_target(session: Session, ref: str, data: TargetUpdate, *, project_id: str) -> Target:
    """Set the given fields (``null`` clears an optional one). Stage moves go through
    advance/drop/reopen; a currency change is refused once synergy lines exist."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    changes: dict[str, Any] = {k: getattr(data, k) for k in data.model_fields_set}
    for key in NOT_NULL:
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be null", errors=[{"loc": [key], "msg": "cannot be null"}])
    if "name" in changes:
        _check_name_free(session, changes["name"], project_id, target.id)
    category = changes.get("category", target.category)
    custom = changes.get("custom_category", target.custom_category)
    if "category" in changes and category != "custom" and "custom_category" not in changes:
        custom = None  # leaving custom drops its text
        changes["custom_category"] = None
    _check_category(category, custom)
    _check_dates_frozen(target, changes)
    if "currency" in changes and changes["currency"] != target.currency:
        _check_currency_change(session, target, changes["currency"])
    for key, value in changes.items():
        setattr(target, key, value)
    session.flush()
    return target


def _check_dates_frozen(target: Target, changes: dict[str, Any]) -> None:
    """Once closed, the deal's dates are history: the integration programme was laid out
    from the close date."""
    if target.stage not in (Stage.closed, Stage.integration):
        return
    for key in ("signed_on", "closed_on"):
        if key in changes and changes[key] != getattr(target, key):
            raise InvalidState(
                f"{target.name} is {target.stage}: {key} can no longer change",
                errors=[{"loc": [key], "msg": "fixed once the deal is closed"}],
            )


def _check_currency_change(session: Session, target: Target, currency: str) -> None:
    used = session.scalar(
        select(func.count()).select_from(SynergyLine).where(SynergyLine.target_id == target.id)
    )
    if used:
        raise Conflict(
            f"{target.name} has {used} synergy line(s) in {target.currency}: "
            f"restate them before changing the currency to {currency}",
            errors=[{"loc": ["currency"], "msg": f"synergy lines are in {target.currency}"}],
        )


def delete_target(session: Session, ref: str, *, project_id: str) -> None:
    """Delete a screening or dropped target with everything it owns (FK cascade)."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    require_deletable(target.name, Stage(target.stage))
    session.delete(target)
    session.flush()


def query_targets(
    *,
    project_id: str,
    stage: str | None = None,
    category: str | None = None,
    owner: str | None = None,
    name: str | None = None,
) -> Select[Target]:
    stmt = select(Target).where(Target.project_id == project_id).order_by(Target.name, Target.id)
    if stage:
        stmt = stmt.where(Target.stage == stage)
    if category:
        stmt = stmt.where(Target.category == category)
    if owner:
        stmt = stmt.where(Target.owner == owner)
    if name:
        stmt = stmt.where(func.lower(Target.name).contains(name.lower(), autoescape=True))
    return stmt


def list_targets(
    session: Session, params: PageParams, *, project_id: str, **filters: str | None
) -> tuple[list[TargetOut], int]:
    rows, total = paginate(session, query_targets(project_id=project_id, **filters), params)
    return [to_out(t) for t in rows], total


def effective_probability(target: Target) -> int:
    if target.probability is not None:
        return target.probability
    return default_probability(Stage(target.stage))


def to_out(target: Target) -> TargetOut:
    probability = effective_probability(target)
    weighted = None
    if target.asking_value is not None:
        weighted = target.asking_value * probability / HUNDRED
    values = {c: getattr(target, c) for c in TargetOut.model_fields if hasattr(target, c)}
    values.update(
        probability=probability,
        probability_is_default=target.probability is None,
        weighted_value=weighted,
    )
    return TargetOut.model_validate(values)
