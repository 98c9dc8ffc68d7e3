"""Two server replicas on one PostgreSQL never execute the same operation twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from novacron.core.config import Settings
from novacron.testing.cluster import TERMINAL, free_port, spawn_agent, spawn_server, wait_until

pytestmark = pytest.mark.slow


def test_two_replicas_share_the_work_without_double_execution(
    tmp_path: Path, backend: str, database_url: str | None
) -> None:
    if backend != "postgresql":
        pytest.skip("replicas need PostgreSQL (SQLite runs one server)")
    common = dict(
        database_url=database_url,
        enrolment_token="nce_replica-test-token-0123456789",
        operation_lease_s=3.0,
        executor_threads=4,
        heartbeat_interval_s=0.5,
    )
    a = Settings(data_dir=tmp_path / "a", port=free_port(), **common)  # type: ignore[arg-type]
    b = Settings(data_dir=tmp_path / "b", port=free_port(), **common)  # type: ignore[arg-type]
    servers = [spawn_server(a), spawn_server(b)]
    agent = None
    try:
        for s in (a, b):
            wait_until(lambda s=s: _healthy(s.port), 60, what="replica")
        # Exactly one replica bootstrapped the admin token; the other found it.
        token_files = [p for p in (a.data_dir, b.data_dir) if (p / "admin-token").exists()]
        assert len(token_files) == 1
        token = (token_files[0] / "admin-token").read_text().strip()
        agent = spawn_agent(
            f"http://127.0.0.1:{a.port}",
            common["enrolment_token"],
            "agent-1",
            4,  # type: ignore[arg-type]
            ["--sim-delay", "create=0.2"],
            log_path=tmp_path / "agent.log",
        )
        apis = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{s.port}/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            for s in (a, b)
        ]
        wait_until(lambda: apis[1].get("/hosts").json()["total"] == 4, 30, what="hosts")
        ops = [
            apis[i % 2].post("/vms", json={"name": f"r-{i}", "vcpus": 1, "memory_mib": 256}).json()
            for i in range(60)
        ]
        wait_until(
            lambda: all(
                apis[0].get(f"/operations/{o['id']}").json()["state"] in TERMINAL for o in ops
            ),
            120,
            what="operations end",
        )
        finals = [apis[0].get(f"/operations/{o['id']}").json() for o in ops]
        assert all(o["state"] == "succeeded" for o in finals), [o["error"] for o in finals]
        # Each operation ran once: one attempt, one owner for all its steps.
        owners = Counter()
        for op in finals:
            assert op["attempts"] == 1, op
            step_owners = {s["owner"] for s in op["steps"]}
            assert len(step_owners) == 1, op["steps"]
            owners[step_owners.pop().split("/")[0]] += 1  # worker process id
        assert len(owners) == 2, f"both replicas should have worked: {owners}"
        vms = apis[1].get("/vms", params={"limit": 1000}).json()["items"]
        assert len({v["id"] for v in vms}) == 60
        assert sum(h["alloc_vcpus"] for h in apis[0].get("/hosts").json()["items"]) == 60
    finally:
        if agent:
            agent.terminate()
            agent.wait(10)
        for srv in servers:
            srv.terminate()
            srv.wait(15)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
