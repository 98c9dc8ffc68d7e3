"""Restart policies: which reported changes restart a VM, and when a policy gives up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from novacron.compute import hosts
from novacron.compute.models import VM, Agent, Operation
from novacron.compute.restart_policy import REQUESTER, wants_restart
from novacron.compute.schemas import Heartbeat
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.core.events import Event


@pytest.mark.parametrize(
    ("policy", "previous", "reported", "restart"),
    [
        ("never", "running", "crashed", False),
        ("on-failure", "running", "crashed", True),
        ("always", "running", "crashed", True),
        ("on-failure", "running", "stopped", False),  # the guest powered itself off
        ("always", "running", "stopped", True),
        ("always", "unknown", "stopped", False),  # not known to have been running
        ("always", "running", "paused", False),
    ],
)
def test_which_changes_restart(policy: str, previous: str, reported: str, restart: bool) -> None:
    assert wants_restart(policy, previous, reported) is restart


def crash_reported(db: Database, settings: Settings) -> None:
    """Two heartbeats (the server believes the second) reporting vm-1 crashed."""
    beat = Heartbeat.model_validate(
        {
            "hosts": [
                {
                    "name": "h1",
                    "info": {
                        "name": "h1",
                        "driver": "qemu",
                        "vcpus": 8,
                        "memory_mib": 8192,
                        "disk_gib": 100,
                    },
                    "vms": [
                        {"id": "vm-1", "power_state": "crashed", "fault": "guest kernel panic"}
                    ],
                }
            ]
        }
    )
    for _ in range(2):
        with db.session() as s:
            agent = s.scalars(select(Agent)).one()
            hosts.heartbeat(s, agent, beat, settings)


def test_a_crash_is_announced_and_restarted_until_the_policy_gives_up(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, restart_max=2, restart_window_s=600)
    with db.session() as s:
        s.get(VM, "vm-1").restart_policy = "on-failure"  # type: ignore[union-attr]
    for attempt in (1, 2):
        crash_reported(db, settings)
        with db.session() as s:
            vm = s.get(VM, "vm-1")
            assert vm is not None and vm.state == "starting" and vm.restarts == attempt
            op = s.get(Operation, vm.task_operation_id)
            assert op is not None and op.kind == "vm.start" and op.requested_by == REQUESTER
            # The start "succeeds": the VM runs until the next crash.
            vm.state, vm.task_operation_id = "running", None
    crash_reported(db, settings)
    with db.session() as s:
        vm = s.get(VM, "vm-1")
        assert vm is not None and vm.state == "crashed"
        assert vm.fault == "guest kernel panic; restart policy gave up after 2 restarts within 600s"
        crashes = s.scalars(select(Event).where(Event.kind == "vm.crashed")).all()
        assert [e.data["reason"] for e in crashes] == ["guest kernel panic"] * 3


def test_never_leaves_a_crashed_vm_crashed(db: Database, tmp_path: Path) -> None:
    crash_reported(db, Settings(data_dir=tmp_path))
    with db.session() as s:
        vm = s.get(VM, "vm-1")
        assert vm is not None and vm.state == "crashed" and vm.fault == "guest kernel panic"
        assert s.scalars(select(Operation)).all() == []
