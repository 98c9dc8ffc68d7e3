"""Events: persisted in the same transaction as the change they describe.

Replicas and SSE streams read them by increasing id; an in-process notifier wakes
local streams at once instead of waiting for their next poll.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from novacron.core.clock import isoformat, utcnow
from novacron.core.database import Base


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ts: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": isoformat(self.ts),
            "kind": self.kind,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "project_id": self.project_id,
            "data": self.data,
        }


class _Notifier:
    """Wakes in-process waiters when an event was committed locally."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq = 0

    def notify(self) -> None:
        with self._cond:
            self._seq += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            if self._seq == seen:
                self._cond.wait(timeout)
            return self._seq


notifier = _Notifier()


def publish(
    session: Session,
    kind: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any] | None = None,
    project_id: str | None = None,
) -> None:
    session.add(
        Event(
            kind=kind,
            object_type=object_type,
            object_id=object_id,
            project_id=project_id,
            data=data or {},
        )
    )
    # Wake streams once the transaction commits, not before.
    from sqlalchemy import event as sa_event

    if not session.info.get("_notify_hooked"):
        session.info["_notify_hooked"] = True

        def _after_commit(_s: Session) -> None:
            _s.info.pop("_notify_hooked", None)
            notifier.notify()

        sa_event.listen(session, "after_commit", _after_commit, once=True)


def events_after(session: Session, after_id: int, limit: int = 500) -> list[Event]:
    stmt = select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    return list(session.scalars(stmt))


def latest_event_id(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


def prune(session: Session, older_than_hours: float) -> int:
    """Delete events older than the retention window; returns how many went."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = utcnow() - timedelta(hours=older_than_hours)
    result = session.execute(delete(Event).where(Event.ts < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
