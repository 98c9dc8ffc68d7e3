"""What the demo loaders share: the loader state (today, moments, counts) and the by-name
existence check that makes the demo idempotent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from novacron.core.errors import NotFound
from novacron.corporate.demo import data

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], **fields: Any) -> M:
    """A service's request model from keyword fields, validated as the API would."""
    return model.model_validate(fields)


# -- the loader -----------------------------------------------------------------------------


@dataclass
class Loader:
    s: Session
    by: str
    today: date
    project_id: str
    """Everything is loaded into this project (and looked up in it)."""
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


def exists(find: Callable[..., Any], ld: Loader, ref: str) -> bool:
    """Whether ``find(session, ref, project_id=…)`` finds ``ref`` in the loader's project."""
    try:
        find(ld.s, ref, project_id=ld.project_id)
    except NotFound:
        return False
    return True
