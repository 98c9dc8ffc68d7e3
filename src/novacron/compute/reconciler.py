"""Periodic fleet checks: hosts that stopped reporting go down, their VMs unknown; HA
recovers the HA VMs of fenced hosts (``compute/migration/ha.py``).

One replica at a time does this: on PostgreSQL each sweep takes a transaction
advisory lock, on SQLite there is only one server.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text

from novacron.compute import hosts
from novacron.compute.migration import ha
from novacron.core import events
from novacron.core.config import Settings
from novacron.core.database import Database

log = logging.getLogger("novacron.reconciler")

LIVENESS_LOCK_KEY = 0x6E6F7661  # "nova"
PRUNE_EVERY_S = 600.0


class Reconciler:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def sweep(self) -> list[str]:
        with self.db.session() as s:
            if self.db.dialect == "postgresql" and not s.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LIVENESS_LOCK_KEY}
            ):
                return []
            down = hosts.mark_down_missing(s, self.settings.heartbeat_timeout_s)
            recovered = ha.sweep(s, self.settings)
            if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
                events.prune(s, self.settings.event_retention_hours)
                self._pruned_at = time.monotonic()
        for line in recovered:
            log.warning("HA: %s", line)
        if down:
            shown = ", ".join(down[:10]) + (f" and {len(down) - 10} more" if len(down) > 10 else "")
            log.warning(
                "%d host(s) missed heartbeats for %.0fs and are marked down: %s",
                len(down),
                self.settings.heartbeat_timeout_s,
                shown,
            )
        return down

    def _loop(self) -> None:
        interval = max(
            0.2, min(self.settings.heartbeat_interval_s, self.settings.heartbeat_timeout_s / 4)
        )
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:
                log.exception("liveness sweep failed")
