"""Helpers the ecosystem services share: lookups by id or name, booking to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict
from novacron.corporate.common import find_by_ref
from novacron.corporate.finance.money import booked

M = TypeVar("M")


def book(amount: Decimal | None, currency: str) -> Decimal:
    """``amount`` rounded half-even to the currency's minor unit (0 for None)."""
    return booked(amount, currency)


def find(
    session: Session,
    model: type[M],
    ref: str,
    what: str,
    *,
    project_id: str,
    by_name: bool = True,
    lock: bool = False,
) -> M:
    """The project's row whose id (or name, unique in the project) is ``ref``;
    ``NotFound`` saying what was sought (also for another project's row). ``lock`` takes
    the row's lock (PostgreSQL) so that writes checking its children (overlapping sales
    periods, a party leaving the cap table) serialize."""
    return find_by_ref(session, model, ref, what, project_id=project_id, by_name=by_name, lock=lock)


def unique_name(session: Session, model: type[Any], name: str, what: str, project_id: str) -> None:
    """``Conflict`` naming the field when another row of the project has this name."""
    stmt = select(model.id).where(model.project_id == project_id, model.name == name)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"a {what} named {name!r} already exists",
            errors=[{"loc": ["name"], "msg": "already exists"}],
        )
