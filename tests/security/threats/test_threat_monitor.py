"""The threat rules running in a real server: audit-log attacks and QEMU log lines become
security alerts; the agent's log shipper sends each line once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from novacron.agent.qemu_logs import QemuLogShipper
from novacron.core.database import Database
from novacron.security.threats.audit_events import action_of
from novacron.security.tokens import issue_token
from novacron.testing.cluster import Cluster
from novacron.testing.security import user_token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster.start(tmp_path_factory.mktemp("threats"), None, with_agent=False)
    try:
        yield cluster
    finally:
        cluster.stop()


def alerts_for(cluster: Cluster, rule_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = cluster.api.get("/security/alerts", params={"limit": 1000}).json()["items"]
        found = [a for a in items if a["rule_id"] == rule_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_route_actions_read_like_rule_actions() -> None:
    assert action_of("http.delete_vm") == "vm.delete"
    assert action_of("http.create_image") == "image.create"
    assert action_of("auth.login") == "auth.login"
    assert action_of("http.start_vm") == "vm.start"


def test_brute_force_against_one_account_raises_one_alert(server: Cluster) -> None:
    url = f"{server.url}/api/v1/auth/login"
    for i in range(12):
        httpx.post(url, json={"name": "victim", "password": f"guess-{i}-guess-guess"})
    found = alerts_for(server, "brute-force-actor")
    assert len(found) == 1  # once per window, not once per guess past the threshold
    alert = found[0]
    assert alert["group_key"] == {"actor": "victim"}
    assert alert["event_count"] >= 10
    assert alert["mitre_technique"].startswith("T1110")
    assert alert["status"] == "open"
    # Somebody takes it: the change is kept and audited.
    acked = server.api.patch(
        f"/security/alerts/{alert['id']}", json={"status": "acknowledged", "note": "on it"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status_by"] == "admin"
    audit = server.api.get("/audit", params={"action": "alert."}).json()["items"]
    assert [r["action"] for r in audit] == ["alert.acknowledged"]


def test_mass_deletion_of_anothers_objects_is_detected(server: Cluster) -> None:
    operator = user_token(server.url, server.token, "cleaner", {"default": "operator"})
    for i in range(22):
        server.api.post("/images", json={"name": f"doomed-{i}"}).raise_for_status()
    headers = {"Authorization": f"Bearer {operator}"}
    for i in range(22):
        resp = httpx.delete(f"{server.url}/api/v1/images/doomed-{i}", headers=headers)
        assert resp.status_code == 204, resp.text
    found = alerts_for(server, "mass-deletion")
    assert [a["group_key"] for a in found] == [{"actor": "cleaner"}]


def test_granting_oneself_admin_is_privilege_escalation(server: Cluster) -> None:
    server.api.post("/projects", json={"name": "escalate"}).raise_for_status()
    resp = server.api.post("/projects/escalate/members", json={"user": "admin", "role": "admin"})
    assert resp.status_code == 201, resp.text
    found = alerts_for(server, "self-grant-privileged-role")
    assert found and found[0]["group_key"] == {"actor": "admin"}
    assert found[0]["priority"] == "critical"


def test_qemu_assertion_lines_from_an_agent_raise_a_critical_alert(server: Cluster) -> None:
    db = Database(server.settings.resolved_database_url)
    try:
        with db.session() as s:
            _, agent_token = issue_token(s, "agent:shipper", "agent", "agent")
    finally:
        db.dispose()
    line = (
        "qemu-system-x86_64: ../hw/scsi/lsi53c895a.c:624: lsi_do_dma: "
        "Assertion `s->current' failed."
    )
    resp = httpx.post(
        f"{server.url}/api/v1/agents/host-events",
        json={
            "host": "node-7",
            "lines": [{"vm_id": "vm-1", "line": "boot ok"}, {"vm_id": "vm-1", "line": line}],
        },
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"accepted": 2, "alerts": 1}
    alerts = server.api.get("/security/alerts", params={"family": "vm_escape"}).json()["items"]
    assert len(alerts) == 1
    assert alerts[0]["group_key"]["host"] == "node-7"
    assert alerts[0]["source"] == "host"
    # Users cannot post host events, and agents cannot read alerts.
    user = httpx.post(
        f"{server.url}/api/v1/agents/host-events",
        json={"host": "x", "lines": []},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert user.status_code == 401
    agent_reads = httpx.get(
        f"{server.url}/api/v1/security/alerts", headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert agent_reads.status_code == 401


def test_the_rule_catalogue_is_served(server: Cluster) -> None:
    rules = server.api.get("/security/threat-rules").json()
    families = {r["family"] for r in rules}
    assert families >= {
        "brute_force",
        "token_misuse",
        "privilege_escalation",
        "mass_deletion",
        "api_volume",
        "vm_escape",
    }
    assert all(r["mitre_technique"].startswith("T") for r in rules)


# -- the agent's shipper -------------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"accepted": 0, "alerts": 0})


async def _ship(shipper: QemuLogShipper, recorder: _Recorder) -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder.handler)) as http:
        return await shipper.ship_once(http)


def test_the_shipper_sends_each_complete_line_once(tmp_path: Path) -> None:
    import asyncio

    log = tmp_path / "vms" / "vm-a" / "qemu.log"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"first\nsecond\npart")
    state = tmp_path / "offsets.json"
    recorder = _Recorder()

    def shipper() -> QemuLogShipper:
        return QemuLogShipper("node", tmp_path / "vms", state, "http://server", lambda: "nca_x")

    assert asyncio.run(_ship(shipper(), recorder)) == 2
    assert [line["line"] for line in recorder.bodies[0]["lines"]] == ["first", "second"]
    with log.open("ab") as f:
        f.write(b"ial third\n")
    # A new shipper (an agent restart) resumes from the saved offset.
    assert asyncio.run(_ship(shipper(), recorder)) == 1
    assert recorder.bodies[1]["lines"] == [{"vm_id": "vm-a", "line": "partial third"}]
    assert asyncio.run(_ship(shipper(), recorder)) == 0
    log.write_bytes(b"new process\n")  # shorter: QEMU started again for this VM
    assert asyncio.run(_ship(shipper(), recorder)) == 1
    assert recorder.bodies[-1]["lines"][0]["line"] == "new process"


def test_the_shipper_waits_until_registered(tmp_path: Path) -> None:
    import asyncio

    (tmp_path / "vms" / "vm-a").mkdir(parents=True)
    (tmp_path / "vms" / "vm-a" / "qemu.log").write_bytes(b"line\n")
    recorder = _Recorder()
    shipper = QemuLogShipper("n", tmp_path / "vms", tmp_path / "o.json", "http://s", lambda: None)
    assert asyncio.run(_ship(shipper, recorder)) == 0
    assert recorder.bodies == []
