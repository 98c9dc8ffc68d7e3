"""What the corporate sub-slices share: the database and the caller's name (routes);
look-ups by id or name, booking to the minor unit and a transaction-scoped lock for
read-check-write use cases (services); the bound on money and URL-safe names (schemas)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from novacron.core.errors import Invalid, NotFound
from novacron.security.tokens import Principal

M = TypeVar("M")

MAX_AMOUNT = Decimal("500000000000")
"""The largest money amount (5e11) any corporate figure may take. SQLite keeps a
``Numeric`` as a binary double: every amount up to this bound (below 2**39) comes back
exactly to the fourth decimal, larger ones can come back a few ten-thousandths off; the
same bound on PostgreSQL keeps both backends accepting the same input."""

URL_NAME = r"^[^/]+$"
"""Names that address a resource in a URL path (``/partners/{name}``): anything but a
slash, which would make the name unreachable there."""


def who(request: Request) -> str:
    principal: Principal = request.state.principal
    return principal.name


def find_by_ref(
    session: Session,
    model: type[M],
    ref: str,
    what: str,
    *,
    project_id: str,
    field: str | None = None,
    by_name: bool = True,
    lock: bool = False,
) -> M:
    """The row of project ``project_id`` whose id (or, with ``by_name``, name: unique
    within the project) is ``ref``; ``model`` is a top-level record (``ProjectOwned``).

    Not found, or in another project (which is not revealed): ``NotFound`` for a
    reference in the URL, or ``Invalid`` naming ``field`` for one that came in a request
    body (the body is what is wrong, not the URL). ``lock`` takes the row's lock
    (PostgreSQL) for writes that check its children."""
    cls: Any = model
    stmt = select(cls).where(
        cls.project_id == project_id,
        or_(cls.id == ref, cls.name == ref) if by_name else cls.id == ref,
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(stmt).first()
    if row is None:
        if field is not None:
            raise Invalid(
                f"{field}: no {what} {ref!r}", errors=[{"loc": [field], "msg": f"no such {what}"}]
            )
        raise NotFound(f"no {what} {ref!r}")
    found: M = row
    return found


def lock_key(key: str) -> int:
    """A stable signed 64-bit number for ``key`` (the same in every process)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def serialize(session: Session, key: str) -> None:
    """Hold a transaction-scoped lock on ``key`` until the session commits or rolls back.

    Use it before a check whose answer a concurrent transaction could change (a budget
    still free, a period not yet booked, no rival approved yet): on PostgreSQL (READ
    COMMITTED) two such transactions would otherwise both pass the check. SQLite runs
    every write transaction as ``BEGIN IMMEDIATE``, one at a time, so it needs nothing.
    Take it before reading the rows the check looks at, so the reads see the winner's
    commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(key)})
