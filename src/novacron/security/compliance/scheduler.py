"""Scheduled compliance runs: a server thread that runs the checks when
``settings.compliance_schedule`` says a run is due (``every 6h``, ``daily 03:00``;
``off`` disables it).

With several replicas exactly one runs a due slot: the claim — read when the last
scheduled run started, decide it is due, insert the new run row — is one transaction
under a PostgreSQL advisory lock, so a second replica waits for the first's commit and
then finds the slot taken. SQLite has one server, and its ``BEGIN IMMEDIATE``
transactions serialize the same way.

    scheduler = start_scheduler(app)   # in the app's lifespan, after app.state.db is set
    ...
    scheduler.stop()
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from novacron.core.config import Settings
from novacron.core.database import Database, db_now
from novacron.core.errors import Invalid
from novacron.security.compliance import service
from novacron.security.compliance.model import naive_utc
from novacron.security.compliance.models import ComplianceRun
from novacron.security.compliance.schedule import Schedule

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("novacron.compliance")

LOCK_KEY = 0x636F6D70  # "comp"
"""Advisory lock of the claim (7411-7414 are migrations, bootstrap, audit, threats)."""
POLL_S = 60.0
DISABLED = frozenset({"", "off", "never", "none", "disabled"})


def parse_schedule(spec: str) -> Schedule | None:
    """The schedule of ``compliance_schedule``; None when scheduled runs are off."""
    if spec.strip().lower() in DISABLED:
        return None
    try:
        return Schedule.parse(spec)
    except Invalid as exc:
        raise Invalid(f"compliance_schedule: {exc.detail}") from None


def last_scheduled_start(session: Session) -> datetime | None:
    value: datetime | None = session.scalar(
        select(func.max(ComplianceRun.started_at)).where(ComplianceRun.trigger == service.SCHEDULE)
    )
    return value


def claim_due_run(
    session: Session, schedule: Schedule, now: datetime | None = None
) -> ComplianceRun | None:
    """The new run row when a scheduled run is due, else None (see the module doc)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    # The database's clock: replicas must agree on what "due" means.
    moment = naive_utc(now) if now else db_now(session)
    if not schedule.is_due(last_scheduled_start(session), moment):
        return None
    return service.start_run(session, service.SCHEDULE, "scheduler", moment)


def tick(
    db: Database, settings: Settings, schedule: Schedule, now: datetime | None = None
) -> ComplianceRun | None:
    """Run the checks if a scheduled run is due and this process claims it; the finished
    run, or None when nothing was due (or another replica took it)."""
    with db.session() as s:
        run = claim_due_run(s, schedule, now)
    if run is None:
        return None
    log.info("scheduled compliance run %s started (%s)", run.id, schedule)
    try:
        run = service.execute_run(db, settings, run)
    finally:
        with db.session() as s:
            service.audit_scheduled_run(s, service.get_run(s, run.id))
    counts = run.summary.get("counts", {})
    log.info(
        "scheduled compliance run %s: %s passed, %s failed, %s muted",
        run.id,
        counts.get("pass", 0),
        counts.get("fail", 0),
        counts.get("muted", 0),
    )
    return run


class ComplianceScheduler:
    """Checks every ``poll_s`` whether a scheduled run is due (runs are hours apart; a
    minute late is fine, and a run missed while no server was up happens at start)."""

    def __init__(self, db: Database, settings: Settings, *, poll_s: float = POLL_S) -> None:
        self.db, self.settings, self.poll_s = db, settings, poll_s
        self.schedule = parse_schedule(settings.compliance_schedule)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.schedule is None:
            log.info("scheduled compliance runs are off (compliance_schedule)")
            return
        self._thread = threading.Thread(target=self._loop, name="compliance-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def run_once(self, now: datetime | None = None) -> ComplianceRun | None:
        if self.schedule is None:
            return None
        return tick(self.db, self.settings, self.schedule, now)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # try again at the next poll; the log says why
                log.exception("scheduled compliance run failed")
            if self._stop.wait(self.poll_s):
                return


def start_scheduler(app: FastAPI, *, poll_s: float = POLL_S) -> ComplianceScheduler:
    """Start the scheduler of a server app (its ``state.db`` and ``state.settings`` set);
    kept on ``app.state.compliance_scheduler``. Call ``stop()`` on shutdown."""
    state = app.state
    scheduler = ComplianceScheduler(state.db, state.settings, poll_s=poll_s)
    scheduler.start()
    state.compliance_scheduler = scheduler
    return scheduler
