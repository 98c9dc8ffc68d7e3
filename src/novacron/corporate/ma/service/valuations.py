"""Valuation models: immutable versions computed by the finance engine, one approved."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid, NotFound
from novacron.core.ids import new_id
from novacron.corporate.ma.models import Valuation
from novacron.corporate.ma.rollups import diff_inputs
from novacron.corporate.ma.schemas import ValuationCreate
from novacron.corporate.ma.service.scorecards import next_version
from novacron.corporate.ma.service.targets import find_target


def compute(kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The engine's result for ``kind``; its ``Invalid`` field paths are relative to the
    inputs, so they come back under ``["inputs", …]`` to name the request's field."""
    from novacron.corporate.calc.service import evaluate

    try:
        result = evaluate(kind, inputs)
    except Invalid as exc:
        errors = [_under_inputs(err) for err in exc.errors]
        raise type(exc)(exc.detail, errors=errors) from None
    # Stored as JSON: numpy scalars or Decimals the engine might hand back become plain values.
    plain: dict[str, Any] = json.loads(json.dumps(result, default=_jsonable))
    return plain


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    return str(value)


def _under_inputs(err: dict[str, Any]) -> dict[str, Any]:
    loc = list(err.get("loc") or [])
    if not loc or loc[0] not in ("inputs", "kind"):
        loc = ["inputs", *loc]
    return {**err, "loc": loc}


def add_valuation(
    session: Session, ref: str, data: ValuationCreate, by: str, *, project_id: str
) -> Valuation:
    """Version n+1 of the target's valuation: the inputs and what the engine made of them."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    result = compute(data.kind, data.inputs)
    row = Valuation(
        id=new_id("val"),
        target_id=target.id,
        version=next_version(session, Valuation.version, Valuation.target_id, target.id),
        kind=data.kind,
        inputs=data.inputs,
        result=result,
        note=data.note,
        approved=False,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return row


def valuations_query(target_id: str, kind: str | None = None) -> Select[Valuation]:
    stmt = select(Valuation).where(Valuation.target_id == target_id)
    if kind:
        stmt = stmt.where(Valuation.kind == kind)
    return stmt.order_by(Valuation.version.desc())


def get_valuation(session: Session, ref: str, version: int, *, project_id: str) -> Valuation:
    target = find_target(session, ref, project_id=project_id)
    row = session.scalar(
        select(Valuation).where(Valuation.target_id == target.id, Valuation.version == version)
    )
    if row is None:
        raise NotFound(f"{target.name} has no valuation v{version}")
    return row


def approve(session: Session, ref: str, version: int, by: str, *, project_id: str) -> Valuation:
    """Mark one version approved; any other approved version of the target loses it (one
    number is the deal's number). The negotiation gate wants the *latest* approved."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    row = get_valuation(session, target.id, version, project_id=project_id)
    if row.approved:
        return row
    session.execute(
        update(Valuation)
        .where(Valuation.target_id == target.id, Valuation.id != row.id)
        .values(approved=False, approved_by=None, approved_at=None)
    )
    row.approved = True
    row.approved_by = by
    row.approved_at = utcnow()
    session.flush()
    return row


def diff(session: Session, ref: str, a: int, b: int, *, project_id: str) -> dict[str, Any]:
    """The input keys that changed from version ``a`` to version ``b``."""
    old = get_valuation(session, ref, a, project_id=project_id)
    new = get_valuation(session, ref, b, project_id=project_id)
    return {
        "target_id": old.target_id,
        "from_version": a,
        "to_version": b,
        "from_kind": old.kind,
        "to_kind": new.kind,
        "changes": diff_inputs(old.inputs, new.inputs),
    }
