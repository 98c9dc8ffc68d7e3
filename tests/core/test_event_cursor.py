"""The event stream must not lose events that commit out of id order (PostgreSQL).

PostgreSQL takes an event's id from a sequence at INSERT time and makes it visible at
COMMIT time: a transaction holding id 1 can commit after another one's id 2 is read.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from novacron.core import events
from novacron.core.database import Database
from novacron.core.events import EventCursor, read_new
from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database

PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs NOVACRON_TEST_DATABASE_URL")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- EventCursor: pure bookkeeping ------------------------------------------------------


def test_in_order_ids_move_the_watermark() -> None:
    cursor = EventCursor(after=10)
    assert [cursor.mark_sent(i) for i in (11, 12, 13)] == [11, 12, 13]
    assert cursor.highest == 13 and cursor.gaps() == [] and cursor.sent == frozenset()
    assert not cursor.is_new(12) and cursor.is_new(14)


def test_out_of_order_ids_hold_the_watermark_until_the_gap_fills() -> None:
    clock = FakeClock()
    cursor = EventCursor(after=0, grace_s=10, clock=clock)
    assert cursor.mark_sent(2) == 0  # 1 is missing: not safe to resume after 2
    assert cursor.mark_sent(5) == 0
    assert cursor.highest == 5
    assert cursor.gaps() == [(1, 1), (3, 4)]
    assert cursor.is_new(1) and cursor.is_new(3) and not cursor.is_new(2)
    clock.now += 9
    assert cursor.expire() == 0  # still within the grace period
    assert cursor.mark_sent(1) == 2  # the late commit arrived: 1 and 2 are done
    assert cursor.gaps() == [(3, 4)]
    assert cursor.mark_sent(4) == 2
    assert cursor.mark_sent(3) == 5
    assert cursor.gaps() == [] and cursor.sent == frozenset()
    assert cursor.mark_sent(3) == 5  # sending again changes nothing


def test_a_gap_expires_after_the_grace_period() -> None:
    clock = FakeClock()
    cursor = EventCursor(after=0, grace_s=10, clock=clock)
    cursor.mark_sent(2)  # 1 missing from now
    clock.now += 6
    cursor.mark_sent(4)  # 3 missing from now
    clock.now += 3
    cursor.mark_sent(8)  # 5..7 missing from now
    assert cursor.expire() == 0
    assert cursor.gaps() == [(1, 1), (3, 3), (5, 7)]
    clock.now += 1  # 1 has been missing for 10 s
    assert cursor.expire() == 2
    assert not cursor.is_new(1) and cursor.is_new(3)
    clock.now += 6  # 3 too
    assert cursor.expire() == 4
    assert cursor.gaps() == [(5, 7)]
    clock.now += 3  # and 5..7
    assert cursor.expire() == 8
    assert cursor.gaps() == [] and cursor.sent == frozenset()
    assert not cursor.is_new(3) and not cursor.is_new(6) and cursor.is_new(9)


def test_gaps_expire_one_by_one() -> None:
    clock = FakeClock()
    cursor = EventCursor(after=0, grace_s=10, clock=clock)
    cursor.mark_sent(2)
    cursor.mark_sent(1)  # watermark 2
    clock.now += 5
    cursor.mark_sent(4)  # gap (3, 3) opened at t+5
    clock.now += 5
    cursor.mark_sent(7)  # gap (5, 6) opened at t+10
    clock.now += 4
    assert cursor.expire() == 2
    clock.now += 1
    assert cursor.expire() == 4  # 3 given up on; 5 and 6 are still awaited
    assert cursor.gaps() == [(5, 6)]
    cursor.mark_sent(6)
    clock.now += 5
    assert cursor.expire() == 7


# -- read_new against a database ----------------------------------------------------------


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[Database]:
    if not PG_URL:
        pytest.skip("needs NOVACRON_TEST_DATABASE_URL")
    with fresh_database("postgresql", tmp_path, PG_URL) as url:
        assert url
        db = Database(url)
        db.upgrade()
        try:
            yield db
        finally:
            db.dispose()


def _read(db: Database, cursor: EventCursor) -> list[tuple[str, int]]:
    with db.read() as s:
        return [(new.event.object_id, new.resume_id) for new in read_new(s, cursor)]


def _publish(s: Session, object_id: str) -> None:
    events.publish(s, "test.event", "vm", object_id)


@needs_pg
def test_read_new_returns_an_event_that_commits_after_a_higher_id(pg_db: Database) -> None:
    cursor = EventCursor(after=0)
    with pg_db.sessions() as first, pg_db.sessions() as second:
        first.begin()
        _publish(first, "early")
        first.flush()  # INSERT: takes the lower id, not visible until commit
        with second.begin():
            _publish(second, "late")
        assert _read(pg_db, cursor) == [("late", 0)]  # not safe to resume after it yet
        assert cursor.gaps() == [(1, 1)]
        assert _read(pg_db, cursor) == []
        first.commit()
    late_id = 2
    assert _read(pg_db, cursor) == [("early", late_id)]
    assert cursor.watermark == late_id and cursor.sent == frozenset()
    # The old cursor (the highest id sent) had skipped it for good:
    with pg_db.read() as s:
        assert events.events_after(s, late_id) == []


@needs_pg
def test_read_new_gives_up_on_a_rolled_back_id(pg_db: Database) -> None:
    clock = FakeClock()
    cursor = EventCursor(after=0, grace_s=10, clock=clock)
    with pg_db.sessions() as first:
        first.begin()
        _publish(first, "never")
        first.flush()
        with pg_db.session() as second:
            _publish(second, "kept")
        first.rollback()
    assert [oid for oid, _ in _read(pg_db, cursor)] == ["kept"]
    assert cursor.gaps() == [(1, 1)]
    clock.now += 10
    with pg_db.session() as s:
        _publish(s, "next")
    assert _read(pg_db, cursor) == [("next", 3)]
    assert cursor.gaps() == []


def test_read_new_many_gaps_are_read_as_one_range(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/events.db")
    db.upgrade()
    try:
        with db.session() as s:
            for i in range(1, 401):
                _publish(s, f"e{i}")
        # Every odd id "sent" already: 200 one-id gaps, more than read one by one.
        cursor = EventCursor(after=0)
        for i in range(2, 401, 2):
            cursor.mark_sent(i)
        assert len(cursor.gaps()) == 200 > events.MAX_GAP_RANGES
        got = _read(db, cursor)
        assert [oid for oid, _ in got] == [f"e{i}" for i in range(1, 400, 2)]
        assert got[-1][1] == 400 and cursor.gaps() == []
        with db.session() as s:
            _publish(s, "after")
        assert _read(db, cursor) == [("after", 401)]
    finally:
        db.dispose()


# -- the SSE stream over HTTP -------------------------------------------------------------


class SSEReader:
    """Reads an SSE stream in a thread; messages arrive in ``messages``."""

    def __init__(self, cluster: Cluster, **headers: str) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = httpx.Client(
            base_url=cluster.url,
            headers={"Authorization": f"Bearer {cluster.token}", **headers},
            timeout=httpx.Timeout(30, read=None),
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        msg: dict[str, Any] = {}
        try:
            with self.client.stream("GET", "/api/v1/events/stream") as resp:
                for line in resp.iter_lines():
                    if self.stop.is_set():
                        return
                    if not line:
                        if "event" in msg:
                            self.messages.put(msg)
                        msg = {}
                    elif not line.startswith(":") and ":" in line:
                        key, _, value = line.partition(":")
                        msg[key] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass

    def next(self, timeout: float = 10) -> dict[str, Any]:
        return self.messages.get(timeout=timeout)

    def next_event(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        """(SSE id, event data) of the next event other than ``ready``."""
        while True:
            msg = self.next(timeout)
            if msg["event"] != "ready":
                return msg.get("id", ""), json.loads(msg["data"])

    def close(self) -> None:
        self.stop.set()
        self.client.close()
        self.thread.join(5)


@pytest.fixture
def server(make_cluster: Any) -> Cluster:
    cluster: Cluster = make_cluster(with_agent=False)
    return cluster


@pytest.fixture
def server_db(server: Cluster) -> Iterator[Database]:
    db = Database(server.settings.resolved_database_url)
    yield db
    db.dispose()


def test_stream_resumes_after_last_event_id(server: Cluster, server_db: Database) -> None:
    with server_db.session() as s:
        for name in ("one", "two", "three"):
            _publish(s, name)
    with server_db.read() as s:
        ids = [e.id for e in events.events_after(s, 0)][-3:]
    reader = SSEReader(server, **{"Last-Event-ID": str(ids[0])})
    try:
        assert reader.next()["event"] == "ready"
        sse_id, data = reader.next_event()
        assert (sse_id, data["id"], data["object_id"]) == (str(ids[1]), ids[1], "two")
        sse_id, data = reader.next_event()
        assert (sse_id, data["object_id"]) == (str(ids[2]), "three")
        with server_db.session() as s:
            _publish(s, "four")
        sse_id, data = reader.next_event()
        assert (sse_id, data["object_id"]) == (str(ids[2] + 1), "four")
    finally:
        reader.close()


def test_stream_delivers_an_event_committed_after_a_higher_id(
    backend: str, server: Cluster, server_db: Database
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: ids always commit in order")
    reader = SSEReader(server)
    try:
        start = int(json.loads(reader.next()["data"])["last_id"])
        with server_db.sessions() as first:
            first.begin()
            _publish(first, "early")
            first.flush()
            with server_db.session() as second:
                _publish(second, "late")
            sse_id, data = reader.next_event()
            assert data["object_id"] == "late"
            # Resuming after the late event would skip the early one: the SSE id lags.
            assert int(sse_id) == start
            first.commit()
        sse_id, data = reader.next_event()
        assert data["object_id"] == "early"
        assert int(sse_id) == data["id"] + 1  # now both are sent
    finally:
        reader.close()


def test_a_new_reader_rechecks_ids_just_below_where_it_starts() -> None:
    from novacron.core.events import EventCursor

    # What cursor_after builds when ids 8 and 10 exist but 9 is still uncommitted.
    cursor = EventCursor(0, grace_s=10)
    for event_id in range(1, 9):
        cursor.mark_sent(event_id)
    cursor.mark_sent(10)
    assert cursor.gaps() == [(9, 9)]
    assert cursor.is_new(9) and not cursor.is_new(10) and cursor.is_new(11)


@needs_pg
def test_a_reader_starting_at_the_latest_id_still_gets_an_in_flight_event(
    pg_db: Database,
) -> None:
    from novacron.core.events import cursor_after, latest_event_id

    with pg_db.sessions() as first, pg_db.sessions() as second:
        first.begin()
        _publish(first, "in-flight")
        first.flush()
        with second.begin():
            _publish(second, "rendered")
        # A page renders now: it shows "rendered" and streams after the latest id.
        with pg_db.read() as s:
            cursor = cursor_after(s, latest_event_id(s))
        assert _read(pg_db, cursor) == []
        first.commit()
    assert [object_id for object_id, _ in _read(pg_db, cursor)] == ["in-flight"]
