"""Host facts: the sim agent reports its real machine once, under its own name (not per
sim host), and the host checks evaluate what agents report — checked exactly with a
second, hand-driven agent whose facts the test chooses."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
from compliance_live_helpers import findings, ok, problem, run
from sqlalchemy import select, update

from novacron import __version__
from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.compliance.models import HostFactsRecord
from novacron.testing.cluster import Cluster, wait_until

HOST_CHECKS = ("NC-AGT-002", "NC-HST-001", "NC-HST-002", "NC-HST-003", "NC-HST-004")


def _reported(db: Database, name: str) -> HostFactsRecord | None:
    with db.read() as s:
        return s.scalar(select(HostFactsRecord).where(HostFactsRecord.host_name == name))


def test_the_sim_agent_reports_its_machine_once_under_its_name(
    live: Cluster, live_db: Database
) -> None:
    record = wait_until(lambda: _reported(live_db, "agent-1"), 60, what="agent-1's host facts")
    assert record.facts["name"] == "agent-1"
    assert record.facts["agent_version"] == __version__
    ports = record.facts["listening_ports"]
    assert ports is not None  # psutil always answers for this process's own sockets
    agent_url = live.agent_api()[0]
    agent_port = int(agent_url.rsplit(":", 1)[1])
    assert agent_port in record.facts["expected_ports"]
    assert any(p["port"] == agent_port for p in ports)  # it sees its own API listening

    detail = run(live)
    for check in HOST_CHECKS:
        by_host = findings(detail, check)
        assert "agent-1" in by_host, (check, by_host)
        # One machine, not one finding per sim host.
        assert not any(r.startswith("agent-1-") for r in by_host), sorted(by_host)
    assert findings(detail, "NC-HST-004")["agent-1"]["status"] == "pass"
    assert findings(detail, "NC-AGT-002")["agent-1"]["evidence"] == (
        f"agent {__version__} matches server {__version__}"
    )
    ports_check = findings(detail, "NC-HST-002")["agent-1"]
    assert ports_check["status"] in ("pass", "fail"), ports_check  # evaluated, not skipped
    assert f":{agent_port}/" not in ports_check["evidence"]  # its own port is expected


def _register(live: Cluster, name: str, version: str) -> str:
    """An agent driven by the test: registered with one host, never heartbeating."""
    body = {
        "enrolment_token": live.enrolment_token,
        "name": name,
        "url": "http://127.0.0.1:9",
        "api_secret": secrets.token_urlsafe(24),
        "version": version,
        "hosts": [
            {
                "name": f"{name}-host",
                "driver": "sim",
                "vcpus": 2,
                "memory_mib": 1024,
                "disk_gib": 10,
            }
        ],
    }
    response = httpx.post(f"{live.url}/api/v1/agents/register", json=body, timeout=30)
    token: str = ok(response)["token"]
    return token


def _facts(name: str, **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "name": name,
        "agent_version": "0.0.1",
        "collected_at": utcnow().isoformat() + "Z",
        "disk_encryption": {
            "paths": [
                {
                    "path": "/",
                    "mountpoint": "/",
                    "device": "vg-root",
                    "encrypted": True,
                    "via": "sda3 (crypto_LUKS)",
                }
            ]
        },
        "listening_ports": [
            {"protocol": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd", "pid": 1},
            {"protocol": "tcp", "address": "0.0.0.0", "port": 23, "process": "telnetd", "pid": 2},
            {"protocol": "tcp", "address": "0.0.0.0", "port": 9, "process": "agent", "pid": 3},
            {"protocol": "tcp", "address": "127.0.0.1", "port": 5432, "process": "pg", "pid": 4},
        ],
        "pending_updates": {
            "state": "known",
            "updates": [
                {
                    "package": "openssl",
                    "current": "3.0.1",
                    "candidate": "3.0.2",
                    "suites": ["Debian-Security:12/stable-security"],
                    "security": True,
                },
                {
                    "package": "vim",
                    "current": "9.0",
                    "candidate": "9.1",
                    "suites": ["Debian:12/stable"],
                    "security": False,
                },
            ],
            "reason": None,
            "manager": "apt",
        },
        "expected_ports": [],
    }
    facts.update(changes)
    return facts


def test_host_checks_evaluate_what_an_agent_reports(live: Cluster, live_db: Database) -> None:
    name = f"bench-{secrets.token_hex(3)}"
    token = _register(live, name, version="0.0.1")
    headers = {"Authorization": f"Bearer {token}"}
    # Before any report: the host is unmonitored, and nothing else can be judged.
    before = run(live)
    assert findings(before, "NC-HST-004")[name]["evidence"] == (
        "the host has never reported compliance facts"
    )
    assert findings(before, "NC-HST-001")[name]["status"] == "skipped"

    # The body claims another machine's name: facts are kept under the agent's own.
    sent = httpx.post(
        f"{live.url}/api/v1/agents/facts",
        json=_facts("someone-else"),
        headers=headers,
        timeout=30,
    )
    assert ok(sent)["host"] == name
    assert _reported(live_db, "someone-else") is None

    detail = run(live)
    verdicts = {c: findings(detail, c)[name] for c in HOST_CHECKS}
    assert {c: v["status"] for c, v in verdicts.items()} == {
        "NC-AGT-002": "fail",
        "NC-HST-001": "pass",
        "NC-HST-002": "fail",
        "NC-HST-003": "fail",
        "NC-HST-004": "pass",
    }
    assert verdicts["NC-AGT-002"]["evidence"] == f"agent 0.0.1 is behind server {__version__}"
    assert verdicts["NC-HST-001"]["evidence"] == "encrypted: / via sda3 (crypto_LUKS)"
    # 22 is allowed by default, 9 is the agent's own API, 5432 is loopback only.
    assert verdicts["NC-HST-002"]["evidence"] == "unexpected: 0.0.0.0:23/tcp (telnetd)"
    assert verdicts["NC-HST-003"]["evidence"] == (
        "1 security update(s) pending (2 in all): openssl 3.0.2"
    )

    # A report two days old no longer counts as current.
    with live_db.session() as s:
        s.execute(
            update(HostFactsRecord)
            .where(HostFactsRecord.host_name == name)
            .values(collected_at=utcnow() - timedelta(days=2))
        )
    stale = findings(run(live), "NC-HST-004")[name]
    assert stale["status"] == "fail" and stale["evidence"] == "last report 48 h ago (limit 24 h)"

    # A newer report replaces it.
    ports = [{"protocol": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd"}]
    ok(
        httpx.post(
            f"{live.url}/api/v1/agents/facts",
            json=_facts(name, listening_ports=ports),
            headers=headers,
            timeout=30,
        )
    )
    fresh = run(live)
    assert findings(fresh, "NC-HST-004")[name]["status"] == "pass"
    assert findings(fresh, "NC-HST-002")[name]["status"] == "pass"


def test_facts_need_an_agent_token_and_a_valid_body(live: Cluster) -> None:
    url = f"{live.url}/api/v1/agents/facts"
    assert httpx.post(url, json=_facts("x"), timeout=30).status_code == 401
    admin = {"Authorization": f"Bearer {live.token}"}
    assert httpx.post(url, json=_facts("x"), headers=admin, timeout=30).status_code == 401

    token = _register(live, f"bad-{secrets.token_hex(3)}", version=__version__)
    headers = {"Authorization": f"Bearer {token}"}
    bad = _facts("x", listening_ports=[{"protocol": "tcp", "address": "0.0.0.0", "port": "ssh"}])
    body = problem(httpx.post(url, json=bad, headers=headers, timeout=30), 422)
    assert body["errors"][0]["loc"] == ["body", "listening_ports", "0", "port"]
    no_name = problem(
        httpx.post(url, json={"agent_version": "1"}, headers=headers, timeout=30), 422
    )
    assert no_name["errors"][0]["loc"] == ["body", "name"]
