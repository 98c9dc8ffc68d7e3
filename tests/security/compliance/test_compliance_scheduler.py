"""Scheduled runs on the live server's database: a due slot runs once, whoever asks;
two schedulers racing for one slot make one run; the scheduler thread runs on its own;
``compliance_schedule`` is parsed, or refused with the setting's name."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from compliance_live_helpers import BASE, ok
from fastapi import FastAPI
from sqlalchemy import func, select

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.core.errors import Invalid
from novacron.security.compliance.models import ComplianceRun
from novacron.security.compliance.schedule import Schedule
from novacron.security.compliance.scheduler import (
    ComplianceScheduler,
    parse_schedule,
    start_scheduler,
    tick,
)
from novacron.testing.cluster import Cluster, wait_until

EVERY_6H = Schedule.parse("every 6h")


def _scheduled(db: Database) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(ComplianceRun)
                .where(ComplianceRun.trigger == "schedule")
            )
            or 0
        )


def _age_scheduled_runs(db: Database, by: timedelta) -> None:
    """Move every scheduled run into the past: the next slot is then due. (Row by row:
    SQLite keeps times as text, so ``started_at - interval`` in SQL would not work.)"""
    with db.session() as s:
        for row in s.scalars(select(ComplianceRun).where(ComplianceRun.trigger == "schedule")):
            row.started_at -= by


def test_a_due_slot_runs_once(live: Cluster, live_db: Database) -> None:
    _age_scheduled_runs(live_db, timedelta(days=1))
    first = tick(live_db, live.settings, EVERY_6H)
    assert first is not None and first.trigger == "schedule" and first.status == "done"
    assert first.requested_by == "scheduler"
    # Not due again for six hours.
    assert tick(live_db, live.settings, EVERY_6H) is None
    assert tick(live_db, live.settings, EVERY_6H, utcnow() + timedelta(hours=5)) is None

    detail = ok(live.api.get(f"{BASE}/runs/{first.id}"))
    assert detail["trigger"] == "schedule" and len(detail["findings"]) >= 15
    audit = ok(live.api.get("/audit", params={"action": "compliance.run", "actor": "scheduler"}))
    assert any(a["target"] == f"compliance-run:{first.id}" for a in audit["items"])

    _age_scheduled_runs(live_db, timedelta(hours=7))
    second = tick(live_db, live.settings, EVERY_6H)
    assert second is not None and second.id != first.id


def test_two_schedulers_racing_for_a_slot_make_one_run(live: Cluster, live_db: Database) -> None:
    _age_scheduled_runs(live_db, timedelta(days=1))
    before = _scheduled(live_db)
    results: list[object] = []
    barrier = threading.Barrier(2)

    def replica() -> None:
        barrier.wait()
        results.append(tick(live_db, live.settings, EVERY_6H))

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    assert sum(r is not None for r in results) == 1
    assert _scheduled(live_db) == before + 1


def test_the_scheduler_thread_runs_due_slots(live: Cluster, live_db: Database) -> None:
    _age_scheduled_runs(live_db, timedelta(days=1))
    before = _scheduled(live_db)
    app = FastAPI()
    app.state.db = live_db
    app.state.settings = live.settings.model_copy(update={"compliance_schedule": "every 6h"})
    scheduler = start_scheduler(app, poll_s=0.05)
    try:
        assert app.state.compliance_scheduler is scheduler
        wait_until(lambda: _scheduled(live_db) > before, 60, what="a scheduled run")
    finally:
        scheduler.stop()
    assert _scheduled(live_db) == before + 1  # polled many times, ran once


def test_schedules_off_and_invalid(live: Cluster, live_db: Database) -> None:
    assert parse_schedule("off") is None and parse_schedule("") is None
    assert str(parse_schedule("daily 02:30")) == "daily 02:30"
    with pytest.raises(Invalid, match=r"^compliance_schedule: schedule must be"):
        parse_schedule("hourly")
    off = ComplianceScheduler(
        live_db, live.settings.model_copy(update={"compliance_schedule": "off"})
    )
    off.start()
    assert off.run_once() is None
    off.stop()
