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
    by_name: bool = True,
    lock: bool = False,
) -> M:
    """The row whose id (or unique name) is ``ref``; ``NotFound`` saying what was sought.
    ``lock`` takes the row's lock (PostgreSQL) so that writes checking its children
    (overlapping sales periods, a party leaving the cap table) serialize."""
    return find_by_ref(session, model, ref, what, by_name=by_name, lock=lock)


def unique_name(session: Session, model: type[Any], name: str, what: str) -> None:
    """``Conflict`` naming the field when another row already has this name."""
    if session.scalar(select(model.id).where(model.name == name)) is not None:
        raise Conflict(
            f"a {what} named {name!r} already exists",
            errors=[{"loc": ["name"], "msg": "already exists"}],
        )
