"""Cancelling a pending operation puts its VM back; a running one can't be cancelled."""

from __future__ import annotations

import pytest

from novacron.compute import vms
from novacron.compute.models import VM
from novacron.core.database import Database
from novacron.core.errors import InvalidState
from novacron.security.models import DEFAULT_PROJECT_ID


def test_cancelling_a_pending_stop_puts_the_vm_back(db: Database) -> None:
    with db.session() as s:
        op = vms.act(s, "v", "stop", requested_by="test", project_id=DEFAULT_PROJECT_ID)
        assert s.get(VM, "vm-1").state == "stopping"  # type: ignore[union-attr]
    with db.session() as s:
        cancelled = vms.cancel_operation(s, op.id, project_id=DEFAULT_PROJECT_ID)
        assert (cancelled.state, cancelled.error) == ("cancelled", "cancelled by request")
        vm = s.get(VM, "vm-1")
        assert vm is not None and (vm.state, vm.task_operation_id) == ("running", None)
    with db.session() as s, pytest.raises(InvalidState, match="only pending"):
        vms.cancel_operation(s, op.id, project_id=DEFAULT_PROJECT_ID)


def test_a_running_operation_cannot_be_cancelled(db: Database) -> None:
    with db.session() as s:
        op = vms.act(s, "v", "pause", requested_by="test", project_id=DEFAULT_PROJECT_ID)
        op.state = "running"
    with db.session() as s, pytest.raises(InvalidState, match="is running"):
        vms.cancel_operation(s, op.id, project_id=DEFAULT_PROJECT_ID)
    with db.read() as s:
        assert s.get(VM, "vm-1").state == "pausing"  # type: ignore[union-attr]


def test_cancelling_a_pending_create_frees_the_name(db: Database) -> None:
    from novacron.compute.schemas import VMCreate

    spec = VMCreate(name="later", vcpus=1, memory_mib=256)
    with db.session() as s:
        op = vms.create(s, spec, requested_by="test", project_id=DEFAULT_PROJECT_ID)
    with db.session() as s:
        vms.cancel_operation(s, op.id, project_id=DEFAULT_PROJECT_ID)
        vm = s.get(VM, op.target_id)
        assert vm is not None and (vm.state, vm.name_key) == ("deleted", None)
    with db.session() as s:
        assert (
            vms.create(s, spec, requested_by="test", project_id=DEFAULT_PROJECT_ID).state
            == "pending"
        )
