"""Helpers the ecosystem services share: lookups by id or name, booking to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, NotFound
from novacron.corporate.finance.money import Money

M = TypeVar("M")


def book(amount: Decimal | None, currency: str) -> Decimal:
    """``amount`` rounded half-even to the currency's minor unit (0 for None)."""
    return Money(amount if amount is not None else Decimal(0), currency).booked().amount


def find(session: Session, model: type[M], ref: str, what: str, *, by_name: bool = True) -> M:
    """The row whose id (or unique name) is ``ref``; ``NotFound`` saying what was sought."""
    cls: Any = model
    cond = or_(cls.id == ref, cls.name == ref) if by_name else cls.id == ref
    row = session.scalars(select(cls).where(cond)).first()
    if row is None:
        raise NotFound(f"no {what} {ref!r}")
    found: M = row
    return found


def unique_name(session: Session, model: type[Any], name: str, what: str) -> None:
    """``Conflict`` naming the field when another row already has this name."""
    if session.scalar(select(model.id).where(model.name == name)) is not None:
        raise Conflict(
            f"a {what} named {name!r} already exists",
            errors=[{"loc": ["name"], "msg": "already exists"}],
        )
