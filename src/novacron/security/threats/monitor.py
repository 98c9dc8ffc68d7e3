"""The server's threat monitor: the rules over the audit log as it grows, and over the
QEMU log lines agents send; each detection becomes a security alert.

The audit log is tailed by sequence number from a cursor kept in ``security_state``.
Engine state (windows, baselines, addresses seen) lives in memory: on start the last
``WARMUP`` of the log is replayed into it, without alerting again, so a restart does not
forget a brute force in progress or the addresses a token was used from. On PostgreSQL
one replica holds an advisory lock and does the work; the others wait their turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.core.ids import new_id
from novacron.security.models import AuditRecord, SecurityState
from novacron.security.threats.audit_events import from_audit
from novacron.security.threats.detection import Detection
from novacron.security.threats.engine import Engine
from novacron.security.threats.events import SecurityEvent
from novacron.security.threats.models import SecurityAlert
from novacron.security.threats.rules import Rule, load_rules

log = logging.getLogger("novacron.threats")

CURSOR_KEY = "threat_cursor"
LOCK_KEY = 7414
WARMUP = timedelta(hours=48)
BATCH = 2000


def split_rules(rules: list[Rule]) -> tuple[list[Rule], list[Rule]]:
    """(audit rules, host rules): host log lines go to an engine of their own, fed as
    they arrive, so their timestamps need not interleave with the audit log's."""
    host = [r for r in rules if r.family == "vm_escape"]
    return [r for r in rules if r.family != "vm_escape"], host


class _OrderedEngine:
    """An engine that never sees time go backwards (clock skew between writers)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.engine = Engine(rules)
        self.last: datetime | None = None
        self.lock = threading.Lock()

    def feed(self, event: SecurityEvent) -> list[Detection]:
        with self.lock:
            if self.last is not None and event.ts < self.last:
                event = replace(event, ts=self.last)
            self.last = event.ts
            return self.engine.feed(event)


def store(session: Session, detections: Iterable[Detection], source: str) -> list[SecurityAlert]:
    alerts = []
    for d in detections:
        alert = SecurityAlert(
            id=new_id("alert"),
            rule_id=d.rule_id,
            family=d.family,
            title=d.title,
            priority=d.priority,
            mitre_technique=d.mitre.technique,
            mitre_tactic=d.mitre.tactic,
            tags=list(d.tags),
            group_key=dict(d.group),
            first_ts=_naive(d.first_ts),
            ts=_naive(d.ts),
            event_count=d.count,
            summary=d.summary,
            evidence=list(d.evidence),
            source=source,
            status="open",
            status_by="",
            status_note="",
        )
        session.add(alert)
        alerts.append(alert)
        log.warning("security alert %s [%s] %s", d.rule_id, d.priority, d.summary)
    session.flush()
    return alerts


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


class ThreatMonitor:
    def __init__(self, db: Database, rules: list[Rule] | None = None, poll_s: float = 2.0):
        self.db = db
        audit_rules, host_rules = split_rules(rules if rules is not None else load_rules())
        self.audit = _OrderedEngine(audit_rules)
        self.host = _OrderedEngine(host_rules)
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warm = False
        self._lock_conn: Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="threat-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self._lock_conn is not None:
            self._lock_conn.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._leader():
                    self.tick()
            except Exception:
                log.exception("threat monitor failed; retrying")
            self._stop.wait(self.poll_s)

    def _leader(self) -> bool:
        if self.db.dialect != "postgresql":
            return True
        if self._lock_conn is None:
            self._lock_conn = self.db.engine.connect()
        got = self._lock_conn.execute(text(f"SELECT pg_try_advisory_lock({LOCK_KEY})")).scalar()
        self._lock_conn.commit()
        return bool(got)

    # -- work --------------------------------------------------------------------------

    def tick(self) -> int:
        """Process the audit records written since the last tick; returns alerts made."""
        with self.db.session() as s:
            cursor = self._cursor(s)
            if not self._warm:
                self._warm_up(s, cursor)
            rows = list(
                s.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.seq > cursor)
                    .order_by(AuditRecord.seq)
                    .limit(BATCH)
                )
            )
            if not rows:
                return 0
            detections = [d for row in rows for d in self.audit.feed(from_audit(row))]
            alerts = store(s, detections, "audit")
            self._set_cursor(s, rows[-1].seq)
            return len(alerts)

    def feed_host(self, events: Iterable[SecurityEvent]) -> int:
        """QEMU log lines from an agent; alerts are stored at once."""
        detections = [d for e in events for d in self.host.feed(e)]
        if not detections:
            return 0
        with self.db.session() as s:
            return len(store(s, detections, "host"))

    def _warm_up(self, s: Session, cursor: int) -> None:
        since = utcnow() - WARMUP
        rows = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.seq <= cursor, AuditRecord.ts >= since)
            .order_by(AuditRecord.seq)
        )
        replayed = 0
        for row in rows:
            self.audit.feed(from_audit(row))  # rebuild state; these alerts exist already
            replayed += 1
        self._warm = True
        if replayed:
            log.info("threat monitor: replayed %d audit records into the rules", replayed)

    @staticmethod
    def _cursor(s: Session) -> int:
        value = s.scalar(select(SecurityState.value).where(SecurityState.key == CURSOR_KEY))
        return int(value or 0)

    @staticmethod
    def _set_cursor(s: Session, seq: int) -> None:
        result = s.execute(
            update(SecurityState).where(SecurityState.key == CURSOR_KEY).values(value=seq)
        )
        if getattr(result, "rowcount", 1) == 0:
            s.add(SecurityState(key=CURSOR_KEY, value=seq))
