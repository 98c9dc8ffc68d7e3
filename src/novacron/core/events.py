"""Events: persisted in the same transaction as the change they describe.

Replicas and SSE streams read them by increasing id; an in-process notifier wakes
local streams at once instead of waiting for their next poll.

On PostgreSQL an id is taken from the sequence at INSERT time, not at COMMIT time, so
events become visible out of id order: a reader that has seen id 8 may see id 7 only
later (or never, if its transaction rolled back). :class:`EventCursor` tracks what a
reader has sent so that such late events are still delivered; SQLite serializes
writers, so there ids always become visible in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, or_, select
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


# How long an id below the highest one sent may stay missing before a reader gives up
# on it (its transaction rolled back, or the event was pruned).
GAP_GRACE_S = 10.0
# At most this many id ranges are re-queried one by one; more are read as one range.
MAX_GAP_RANGES = 100


class EventCursor:
    """Where a reader of the events table stands, given ids may commit out of order.

    ``watermark``: every id at or below it was sent or given up on. ``sent``: ids above
    the watermark already sent. Ids between the watermark and the highest id sent that
    were not sent are *gaps*: they are read again on each poll until they appear or have
    been missing for ``grace_s`` seconds (counted from when the first higher id was
    sent); then the watermark moves past them. The watermark is the safe point to resume
    from: nothing at or below it will be sent again.

    Pure bookkeeping, no database: :func:`read_new` does the reading.
    """

    def __init__(
        self,
        after: int,
        grace_s: float = GAP_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watermark = after
        self.grace_s = grace_s
        self._clock = clock
        self._sent: dict[int, float] = {}  # id above the watermark -> when it was sent

    @property
    def highest(self) -> int:
        """The highest id sent (or the watermark when nothing above it was)."""
        return max(self._sent, default=self.watermark)

    @property
    def sent(self) -> frozenset[int]:
        return frozenset(self._sent)

    def is_new(self, event_id: int) -> bool:
        return event_id > self.watermark and event_id not in self._sent

    def mark_sent(self, event_id: int) -> int:
        """Record ``event_id`` as sent; returns the watermark after it."""
        if self.is_new(event_id):
            self._sent[event_id] = self._clock()
            self._settle()
        return self.watermark

    def gaps(self) -> list[tuple[int, int]]:
        """The missing id ranges (inclusive) between the watermark and ``highest``."""
        out = []
        low = self.watermark + 1
        for event_id in sorted(self._sent):
            if event_id > low:
                out.append((low, event_id - 1))
            low = event_id + 1
        return out

    def expire(self) -> int:
        """Move the watermark past gaps missing for ``grace_s``; returns the watermark."""
        now = self._clock()
        while self._sent:
            # Every id sent is above the lowest gap; the earliest of them opened it.
            if now - min(self._sent.values()) < self.grace_s:
                break
            self.watermark = min(self._sent) - 1
            self._settle()
        return self.watermark

    def _settle(self) -> None:
        while self.watermark + 1 in self._sent:
            self.watermark += 1
            del self._sent[self.watermark]


def cursor_after(
    session: Session, after: int, grace_s: float = GAP_GRACE_S, lookback: int = 200
) -> EventCursor:
    """A cursor for a reader who has seen everything committed up to id ``after``.

    Ids just below ``after`` may belong to transactions still open when the reader
    looked (PostgreSQL hands ids out at INSERT): the ids that exist in the last
    ``lookback`` count as sent, the missing ones become gaps, read again until they
    appear or expire.
    """
    cursor = EventCursor(max(0, after - lookback), grace_s)
    if after > cursor.watermark:
        present = session.scalars(
            select(Event.id).where(Event.id > cursor.watermark, Event.id <= after)
        )
        for event_id in present:
            cursor.mark_sent(event_id)
    return cursor


class NewEvent(NamedTuple):
    event: Event
    resume_id: int  # the cursor's watermark once this event was sent


def read_new(session: Session, cursor: EventCursor, limit: int = 500) -> list[NewEvent]:
    """One poll: events not yet sent (late gap fillers and newer ids), by id.

    Marks them sent in ``cursor``; each comes with the id to resume after should the
    reader stop right after it (``Last-Event-ID``): resuming may repeat events, never
    skip one.
    """
    cursor.expire()
    gaps = cursor.gaps()
    extra = 0
    if len(gaps) > MAX_GAP_RANGES:
        # Read the tail as one range, sent ids included; make room for those.
        low = gaps[MAX_GAP_RANGES - 1][0]
        gaps = [*gaps[: MAX_GAP_RANGES - 1], (low, cursor.highest)]
        extra = sum(1 for event_id in cursor.sent if event_id >= low)
    cond = or_(Event.id > cursor.highest, *(Event.id.between(lo, hi) for lo, hi in gaps))
    stmt = select(Event).where(cond).order_by(Event.id).limit(limit + extra)
    out = []
    for ev in session.scalars(stmt):
        if cursor.is_new(ev.id):
            out.append(NewEvent(ev, cursor.mark_sent(ev.id)))
    return out


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
