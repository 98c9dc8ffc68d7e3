"""Heartbeat reconciliation against the database: one stale snapshot changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from novacron.compute import hosts
from novacron.compute.models import VM, Agent
from novacron.compute.schemas import Heartbeat
from novacron.core.database import Database

INFO = {"driver": "sim", "vcpus": 8, "memory_mib": 8192, "disk_gib": 100}  # as in conftest


def beat(db: Database, vms: list[tuple[str, str]]) -> dict[str, list[str]]:
    body = Heartbeat.model_validate(
        {
            "hosts": [
                {
                    "name": "h1",
                    "info": {"name": "h1", **INFO},
                    "vms": [{"id": i, "power_state": p} for i, p in vms],
                }
            ]
        }
    )
    with db.session() as s:
        agent = s.query(Agent).one()
        return hosts.heartbeat(s, agent, body)


def state(db: Database) -> str:
    with db.read() as s:
        vm = s.get(VM, "vm-1")
        assert vm is not None
        return vm.state


def test_one_stale_report_is_ignored_two_are_believed(db: Database) -> None:
    beat(db, [("vm-1", "stopped")])
    assert state(db) == "running"
    beat(db, [("vm-1", "running")])  # the next snapshot agrees again: counter resets
    beat(db, [("vm-1", "stopped")])
    assert state(db) == "running"
    beat(db, [("vm-1", "stopped")])
    assert state(db) == "stopped"


def test_missing_vm_needs_two_reports(db: Database) -> None:
    beat(db, [])
    assert state(db) == "running"
    beat(db, [])
    assert state(db) == "error"
    with db.read() as s:
        vm = s.get(VM, "vm-1")
        assert vm is not None and vm.fault == "the host no longer reports this VM"


def test_orphans_are_deleted_vms_only_never_unknown_ones(db: Database) -> None:
    with db.session() as s:
        s.add(
            VM(
                id="vm-gone",
                project_id="proj-default",
                name="gone",
                name_key=None,
                state="deleted",
                vcpus=1,
                memory_mib=512,
                disk_gib=1,
            )
        )
    reported = [("vm-1", "running"), ("vm-gone", "stopped"), ("vm-stranger", "running")]
    # A VM deleted here is destroyed; one this database never knew is left alone.
    assert beat(db, reported) == {"h1": ["vm-gone"]}
    assert state(db) == "running"


def test_a_host_moves_to_another_agent_only_when_its_agent_is_silent(
    db: Database, tmp_path: Path
) -> None:
    from datetime import timedelta

    from novacron.compute.schemas import AgentRegister
    from novacron.core.clock import utcnow
    from novacron.core.config import Settings
    from novacron.core.errors import Conflict

    settings = Settings(data_dir=tmp_path, heartbeat_timeout_s=10)
    rogue = AgentRegister(
        enrolment_token="nce_compute-test-0123456789abcdef",
        name="a2",
        url="http://127.0.0.1:2",
        api_secret="r" * 32,
        hosts=[{"name": "h1", **INFO}],
    )
    with (
        pytest.raises(Conflict, match="belongs to agent a1, which is still reporting"),
        db.session() as s,
    ):
        hosts.register_agent(s, rogue, settings)
    with db.session() as s:
        s.query(Agent).filter_by(name="a1").one().last_seen_at = utcnow() - timedelta(minutes=5)
    with db.session() as s:
        out = hosts.register_agent(s, rogue, settings)
        assert hosts.find_host(s, "h1").agent_id == out.agent_id


def test_two_different_stale_reports_do_not_add_up(db: Database) -> None:
    beat(db, [("vm-1", "crashed")])
    beat(db, [("vm-1", "stopped")])
    assert state(db) == "running"
    beat(db, [("vm-1", "stopped")])
    assert state(db) == "stopped"


def test_a_copy_of_a_vm_placed_on_another_agents_host_is_an_orphan(
    db: Database, tmp_path: Path
) -> None:
    from novacron.compute.schemas import AgentRegister
    from novacron.core.config import Settings

    with db.session() as s:
        hosts.register_agent(
            s,
            AgentRegister(
                enrolment_token="nce_compute-test-0123456789abcdef",
                name="a2",
                url="http://127.0.0.1:2",
                api_secret="t" * 32,
                hosts=[{"name": "h2", **INFO}],
            ),
            Settings(data_dir=tmp_path),
        )
        s.add(
            VM(
                id="vm-flux",
                project_id="proj-default",
                name="f",
                name_key="f",
                state="building",
                vcpus=1,
                memory_mib=512,
                disk_gib=1,
            )
        )
    body = Heartbeat.model_validate(
        {
            "hosts": [
                {
                    "name": "h2",
                    "info": {"name": "h2", **INFO},
                    "vms": [
                        {"id": "vm-1", "power_state": "running"},
                        {"id": "vm-flux", "power_state": "running"},
                    ],
                }
            ]
        }
    )
    with db.session() as s:
        agent = s.query(Agent).filter_by(name="a2").one()
        # vm-1 lives on h1 (agent a1): h2's copy goes; vm-flux has no host yet: kept.
        assert hosts.heartbeat(s, agent, body) == {"h2": ["vm-1"]}
