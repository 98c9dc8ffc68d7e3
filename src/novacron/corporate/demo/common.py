"""What the demo loaders share: the loader state (today, counts), the back-dating clock,
and the by-name existence check that makes the demo idempotent."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import NotFound
from novacron.corporate.demo import data
from novacron.corporate.ma.service import targets as ma_targets

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], **fields: Any) -> M:
    """A service's request model from keyword fields, validated as the API would."""
    return model.model_validate(fields)


# -- the back-dating clock ------------------------------------------------------------------

_MOMENT: ContextVar[datetime | None] = ContextVar("novacron_demo_moment", default=None)
_CLOCK_LOCK = threading.Lock()


def _demo_clock() -> datetime:
    moment = _MOMENT.get()
    return moment if moment is not None else utcnow()


@contextmanager
def backdating() -> Iterator[None]:
    """Route the M&A service's clock through ``_MOMENT`` while the demo loads."""
    with _CLOCK_LOCK:
        original = ma_targets.utcnow
        ma_targets.utcnow = _demo_clock
        try:
            yield
        finally:
            ma_targets.utcnow = original


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    token = _MOMENT.set(moment)
    try:
        yield
    finally:
        _MOMENT.reset(token)


# -- the loader -----------------------------------------------------------------------------


@dataclass
class Loader:
    s: Session
    by: str
    today: date
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    _pairs: Iterator[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self._pairs = _customer_pairs()

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def moment(self, offset: int, hour: int = 10) -> datetime:
        return datetime.combine(self.day(offset), time(hour))

    def count(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    def skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    def next_pair(self) -> tuple[str, str]:
        return next(self._pairs)


def _customer_pairs() -> Iterator[tuple[str, str]]:
    """Distinct (customer, product) pairs for the registrations that don't name one, so
    no accidental duplicate or conflict arises (the demo has one on purpose)."""
    for product in data.PRODUCTS:
        for customer in data.CUSTOMERS:
            if (customer, product) != ("Globex Retail", "NovaCron Platform"):
                yield customer, product


def exists(find: Callable[[Session, str], Any], s: Session, ref: str) -> bool:
    try:
        find(s, ref)
    except NotFound:
        return False
    return True
