"""The executor against a real database: takeovers, abandoned operations, ownership."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from novacron.compute import operations
from novacron.compute.executor import Executor
from novacron.compute.models import VM, Host, Operation
from novacron.compute.placement import Placement
from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.database import Database


def _running_op(db: Database, owner: str, attempts: int, kind: str = "vm.stop") -> str:
    with db.session() as s:
        op = operations.enqueue(s, kind, "vm", "vm-1", requested_by="test")
        op.state, op.owner, op.attempts = "running", owner, attempts
        op.lease_expires_at = utcnow() + timedelta(seconds=30)
        op.steps = [
            {
                "name": "stop on h1",
                "state": "running",
                "owner": owner,
                "attempt": 1,
                "started_at": None,
                "finished_at": None,
                "detail": "",
            }
        ]
        vm = s.get(VM, "vm-1")
        assert vm is not None
        vm.state, vm.task_operation_id = "stopping", op.id
        return op.id


def _executor(db: Database, tmp_path: Path) -> Executor:
    settings = Settings(data_dir=tmp_path, operation_max_attempts=3)
    return Executor(db, settings, Placement(settings))


def test_an_operation_out_of_attempts_fails_and_keeps_the_claim(
    db: Database, tmp_path: Path
) -> None:
    op_id = _running_op(db, "w/1", attempts=4)
    _executor(db, tmp_path).run(op_id, "w/1")
    with db.read() as s:
        op = s.get(Operation, op_id)
        vm = s.get(VM, "vm-1")
        host = s.query(Host).one()
        assert op is not None and vm is not None
        assert op.state == "failed"
        assert op.error.startswith("abandoned after 3 attempts")
        assert [st["state"] for st in op.steps] == ["failed"]  # open steps are closed
        assert (vm.state, vm.task_operation_id, vm.claimed) == ("error", None, True)
        assert host.alloc_vcpus == 1  # the VM may still exist on h1: its claim stands


def test_a_worker_that_lost_its_lease_changes_nothing(db: Database, tmp_path: Path) -> None:
    op_id = _running_op(db, "w/new-owner", attempts=2)
    _executor(db, tmp_path).run(op_id, "w/old-owner")
    with db.read() as s:
        op = s.get(Operation, op_id)
        vm = s.get(VM, "vm-1")
        assert op is not None and vm is not None
        assert (op.state, op.owner, op.error) == ("running", "w/new-owner", "")
        assert vm.state == "stopping"


def test_takeover_marks_the_previous_workers_steps_interrupted(db: Database) -> None:
    op_id = _running_op(db, "w/dead", attempts=1)
    with db.session() as s:
        op = s.get(Operation, op_id)
        assert op is not None
        op.lease_expires_at = utcnow() - timedelta(seconds=1)
    assert operations.claim_next(db, "w/alive", 30) == op_id
    with db.read() as s:
        op = s.get(Operation, op_id)
        assert op is not None
        assert (op.owner, op.attempts) == ("w/alive", 2)
        assert op.steps[0]["state"] == "interrupted"
    # Leases are renewed for live executions only.
    assert operations.renew_leases(db, ["w/dead"], 30) == 0
    assert operations.renew_leases(db, ["w/alive"], 30) == 1


def test_the_owner_extends_its_lease_whenever_it_takes_the_operation(db: Database) -> None:
    op_id = _running_op(db, "w/1", attempts=1)
    with db.session() as s:
        op = operations.owned(s, op_id, "w/1", lease_s=600)
        before = op.lease_expires_at
    with db.read() as s:
        op = s.get(Operation, op_id)
        assert op is not None
        assert op.lease_expires_at == before
        assert op.lease_expires_at > utcnow() + timedelta(seconds=500)


def test_renewal_skips_an_operation_its_owner_holds_locked(db: Database) -> None:
    held, free = _running_op(db, "w/a", attempts=1), _running_op(db, "w/b", attempts=1)
    if db.dialect != "postgresql":
        assert operations.renew_leases(db, ["w/a", "w/b"], 30) == 2
        return
    # A handler's transaction holds its row: renewal renews the rest without waiting.
    with db.session() as s:
        operations.owned(s, held, "w/a")
        assert operations.renew_leases(db, ["w/a", "w/b"], 600) == 1
    with db.read() as s:
        op = s.get(Operation, free)
        assert op is not None and op.lease_expires_at > utcnow() + timedelta(seconds=500)


def test_an_unknown_kind_fails_and_releases_the_vm(db: Database, tmp_path: Path) -> None:
    op_id = _running_op(db, "w/1", attempts=1, kind="vm.teleport")
    _executor(db, tmp_path).run(op_id, "w/1")
    with db.read() as s:
        op = s.get(Operation, op_id)
        vm = s.get(VM, "vm-1")
        assert op is not None and vm is not None
        assert op.state == "failed" and "no handler" in op.error
        assert (vm.state, vm.task_operation_id) == ("error", None)
