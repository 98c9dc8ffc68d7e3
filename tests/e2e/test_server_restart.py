"""``kill -9`` of the server in the middle of operations, then a restart.

Every operation must end succeeded or failed with a reason; none stays running;
no VM is left half-created without a record.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from novacron.core.config import Settings
from novacron.testing.cluster import (
    TERMINAL,
    free_port,
    spawn_agent,
    spawn_server,
    wait_until,
)

pytestmark = pytest.mark.slow


def _client(settings: Settings, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{settings.port}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _healthy(settings: Settings) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{settings.port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _all_ops(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/operations", params={"limit": 1000}).json()["items"])


def test_kill_9_mid_operations_then_restart(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        port=free_port(),
        enrolment_token="nce_restart-test-token-0123456789",
        operation_lease_s=2.0,
        heartbeat_interval_s=0.5,
        heartbeat_timeout_s=30.0,
        executor_threads=4,
    )
    server = spawn_server(settings)
    agent = None
    try:
        wait_until(lambda: _healthy(settings), 60, what="server")
        token = (settings.data_dir / "admin-token").read_text().strip()
        # Slow creates (1 s each) so the kill lands while many are in flight.
        agent = spawn_agent(
            f"http://127.0.0.1:{settings.port}",
            settings.enrolment_token or "",
            "agent-1",
            3,
            ["--sim-delay", "create=1.0", "--sim-delay", "destroy=0.5"],
            log_path=tmp_path / "agent.log",
        )
        api = _client(settings, token)
        wait_until(lambda: api.get("/hosts").json()["total"] == 3, 30, what="hosts")
        ops = [
            api.post("/vms", json={"name": f"k-{i}", "vcpus": 1, "memory_mib": 256}).json()
            for i in range(16)
        ]
        wait_until(
            lambda: sum(o["state"] == "running" for o in _all_ops(api)) >= 3, 20, what="running"
        )
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        api.close()

        server = spawn_server(settings)
        wait_until(lambda: _healthy(settings), 60, what="restarted server")
        api = _client(settings, token)
        wait_until(
            lambda: all(o["state"] in TERMINAL for o in _all_ops(api)), 90, what="operations end"
        )
        finals = {o["id"]: o for o in _all_ops(api)}
        assert set(finals) >= {o["id"] for o in ops}
        for op in finals.values():
            assert op["state"] in ("succeeded", "failed"), op
            if op["state"] == "failed":
                assert op["error"], op
        resumed = [o for o in finals.values() if o["attempts"] > 1]
        assert resumed, "the kill should have interrupted at least one running operation"
        # Every VM has a record in a stable state, and hosts' allocations match the VMs.
        vms = api.get("/vms", params={"limit": 1000}).json()["items"]
        assert len(vms) == 16
        assert {v["state"] for v in vms} <= {"running", "error"}
        assert all(v["task_operation_id"] is None for v in vms)
        hosts = api.get("/hosts").json()["items"]
        claimed = {h["id"]: 0 for h in hosts}
        for v in vms:
            if v["state"] == "running":
                claimed[v["host_id"]] += v["vcpus"]
        assert claimed == {h["id"]: h["alloc_vcpus"] for h in hosts}
        # What the agent runs is exactly what the server believes runs (orphans aside).
        running_ids = {v["id"] for v in vms if v["state"] == "running"}
        from novacron.agent.client import AgentClient
        from novacron.compute.models import Agent
        from novacron.core.database import Database

        db = Database(settings.resolved_database_url)
        with db.session() as s:
            row = s.query(Agent).one()
            agent_api = AgentClient(row.url, row.api_secret)
        db.dispose()

        def agent_vm_ids() -> set[str]:
            return {vm["id"] for h in hosts for vm in agent_api.list_vms(h["name"])}

        wait_until(lambda: agent_vm_ids() == running_ids, 20, what="agent matches server")
    finally:
        if agent:
            agent.terminate()
            agent.wait(10)
        if server.poll() is None:
            server.terminate()
            server.wait(15)
