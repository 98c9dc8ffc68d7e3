"""Audit retention prunes what is past it and leaves a chain that still verifies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.audit.log import AuditEntry, append, query, verify
from novacron.security.audit.retention import AuditRetention
from novacron.security.models import AuditRecord


def test_retention_prunes_old_records_and_the_chain_still_verifies(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    db.upgrade()
    now = utcnow()
    with db.session() as s:
        for days_ago in (400, 380, 10, 1):
            append(s, AuditEntry(actor="alice", action="vm.create"), ts=now - timedelta(days_ago))
    assert AuditRetention(db, retention_days=365).run_once() == 2
    with db.read() as s:
        left = query(s)
        assert [r.actor for r in left] == ["alice", "alice", "retention"]
        assert left[-1].action == "audit.prune"
        assert left[-1].detail["pruned"] == 2
        assert verify(s).ok
    # Nothing more to prune: nothing is dropped, nothing is recorded.
    assert AuditRetention(db, retention_days=365).run_once() == 0
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == 3
    db.dispose()


def test_zero_retention_keeps_everything(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    db.upgrade()
    retention = AuditRetention(db, retention_days=0)
    retention.start()  # does not start a thread
    assert retention._thread is None
    retention.stop()
    db.dispose()
