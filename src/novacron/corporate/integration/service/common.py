"""What the integration use cases share: finding a programme, today's date, bad-input errors."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.database import Base
from novacron.core.errors import Invalid, NotFound
from novacron.corporate.integration.models import Programme

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=Base)


def today() -> date:
    """The as-of date when a caller gives none (UTC, like every other date we store)."""
    return utcnow().date()


def find_programme(s: Session, ref: str, *, project_id: str, lock: bool = False) -> Programme:
    """A programme of the project by its id or by its M&A target's id (another
    project's is ``NotFound``). Its children are reached through it only."""
    stmt = select(Programme).where(
        Programme.project_id == project_id,
        or_(Programme.id == ref, Programme.target_id == ref),
    )
    if lock:
        stmt = stmt.with_for_update()
    programme = s.scalars(stmt).first()
    if programme is None:
        raise NotFound(f"no integration programme {ref!r}")
    return programme


def child(s: Session, model: type[R], programme: Programme, ref: str, noun: str) -> R:
    """A row of ``model`` that belongs to ``programme``; NotFound otherwise (an id from
    another programme is as unknown as a made-up one)."""
    row = s.get(model, ref)
    if row is None or getattr(row, "programme_id", None) != programme.id:
        raise NotFound(f"no {noun} {ref!r} in programme {programme.id}")
    return row


def validated(model: type[M], data: Any, root: str) -> M:
    """``data`` as ``model``, or ``Invalid`` whose field paths start at ``root`` (for
    callers that hand plain dicts to the service, like the M&A close)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": [root, *err["loc"]], "msg": err["msg"]} for err in exc.errors(include_url=False)
        ]
        raise Invalid(f"invalid {root}", errors=errors) from None


def invalid(field: str, msg: str, detail: str | None = None) -> Invalid:
    return Invalid(detail or f"{field}: {msg}", errors=[{"loc": field.split("."), "msg": msg}])
