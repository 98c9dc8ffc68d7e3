"""Time in one place: UTC everywhere, ISO 8601 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    """Naive UTC timestamp: SQLite keeps no zone, so we store naive UTC everywhere."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat().replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """A naive timestamp (as read back from the database) marked as the UTC it is."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""For API output models: serialises with its zone (``…Z``), as OpenAPI's ``date-time``
(RFC 3339) requires, and keeps that format in the schema. A plain ``datetime`` field
given a naive database value would go out without one."""
