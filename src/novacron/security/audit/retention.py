"""Audit retention (AU-11): a server thread that prunes records past their retention.

Runs once an hour; pruning takes the audit lock, so replicas doing it at once simply
take turns and the second finds nothing to drop.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.audit.log import prune

log = logging.getLogger("novacron.audit")

INTERVAL_S = 3600.0


class AuditRetention:
    def __init__(self, db: Database, retention_days: float, interval_s: float = INTERVAL_S):
        self.db = db
        self.retention = timedelta(days=retention_days)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.retention <= timedelta(0):
            return  # keep everything
        self._thread = threading.Thread(target=self._loop, name="audit-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def run_once(self) -> int:
        with self.db.session() as s:
            dropped = prune(s, utcnow() - self.retention, actor="retention")
        if dropped:
            log.info("audit retention: pruned %d records older than %s", dropped, self.retention)
        return dropped

    def _loop(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:  # keep trying next hour; the log says why
                log.exception("audit retention failed")
            if self._stop.wait(self.interval_s):
                return
