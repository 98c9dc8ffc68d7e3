"""A TLS cluster with agent mTLS required: real HTTPS on 127.0.0.1, real agent processes.

Agents enrol with one-time tokens (pinning the CA by fingerprint or trusting its file),
register and heartbeat with their client certificates; the token works once; requests
without a valid certificate are refused; rotation replaces the certificate and the agent
keeps working; revoking an agent's last certificate cuts it off and its hosts go down.
"""

from __future__ import annotations

import asyncio
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from novacron.core.errors import Invalid
from novacron.security.pki import client_ssl_context, fingerprint, make_csr
from novacron.security.pki.agent_tls import prepare_agent_tls
from novacron.testing.cli import CLI
from novacron.testing.cluster import FAST_SIM, Cluster, spawn_agent, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster.start(
        tmp_path_factory.mktemp("mtls"),
        None,
        with_agent=False,
        tls=True,
        tls_client_certs="required",
        heartbeat_timeout_s=5.0,
    )
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def ca_fingerprint(cluster: Cluster) -> str:
    assert cluster.ca_file is not None
    return fingerprint(x509.load_pem_x509_certificate(cluster.ca_file.read_bytes()))


def new_token(cluster: Cluster, for_name: str | None = None) -> str:
    resp = cluster.api.post("/security/pki/tokens", json={"ttl_seconds": 600, "for_name": for_name})
    assert resp.status_code == 201, resp.text
    token: str = resp.json()["token"]
    assert token.startswith("nco_")
    return token


@dataclass
class Agent:
    name: str
    dir: Path
    token: str
    proc: subprocess.Popen[bytes]
    args: list[str]

    @property
    def tls(self) -> Path:
        return self.dir / "tls"

    def serial(self) -> str:
        cert = x509.load_pem_x509_certificate((self.tls / "agent.crt").read_bytes())
        return f"{cert.serial_number:x}"


@pytest.fixture(scope="module")
def agent1(cluster: Cluster, ca_fingerprint: str) -> Agent:
    """Enrolled the way an operator does it on a new host: fingerprint and token."""
    token = new_token(cluster, "tls-1")
    directory = cluster.settings.data_dir / "agent-tls-1"
    args = ["--data-dir", str(directory), "--ca-fingerprint", ca_fingerprint]
    proc = cluster.add_agent("tls-1", 2, [*args, "--enrol-token", token], reusable_token=False)
    return Agent("tls-1", directory, token, proc, args)


def host(cluster: Cluster, name: str) -> dict[str, Any]:
    body: dict[str, Any] = cluster.api.get(f"/hosts/{name}").json()
    return body


def heartbeats_advance(cluster: Cluster, name: str) -> None:
    first = host(cluster, name)["last_heartbeat_at"]
    wait_until(
        lambda: host(cluster, name)["last_heartbeat_at"] != first, 20, what=f"{name} heartbeat"
    )
    assert host(cluster, name)["state"] == "up"


def certs(cluster: Cluster, agent: str, valid: bool = False) -> list[dict[str, Any]]:
    resp = cluster.api.get("/security/pki/certs", params={"agent": agent, "valid": valid})
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, Any]] = resp.json()
    return rows


def test_agent_enrols_over_https_and_heartbeats_with_its_certificate(
    cluster: Cluster, agent1: Agent
) -> None:
    assert cluster.url.startswith("https://")
    for private in ("agent.key", "registration-token"):
        assert stat.S_IMODE((agent1.tls / private).stat().st_mode) == 0o600
    assert (agent1.tls / "server-ca.crt").read_bytes() == cluster.ca_file.read_bytes()
    issued = certs(cluster, "tls-1")
    assert [(c["serial"], c["state"]) for c in issued] == [(agent1.serial(), "valid")]
    heartbeats_advance(cluster, "tls-1-001")
    tokens = cluster.api.get("/security/pki/tokens").json()
    used = [t for t in tokens if t["used_by"] == "tls-1"]
    assert [(t["state"], t["for_name"]) for t in used] == [("used", "tls-1")]
    audit = cluster.api.get("/audit", params={"action": "pki.agent.enrol"}).json()["items"]
    assert [(a["actor"], a["target"]) for a in audit] == [("agent:tls-1", "agent:tls-1")]


def _enrol(cluster: Cluster, token: str, name: str) -> httpx.Response:
    return httpx.post(
        f"{cluster.url}/api/v1/agents/enrol",
        json={"token": token, "name": name, "csr": make_csr(name).csr_pem},
        verify=cluster.verify,
        timeout=30,
    )


def test_a_one_time_token_works_once_and_only_for_its_agent(
    cluster: Cluster, agent1: Agent
) -> None:
    again = _enrol(cluster, agent1.token, "tls-1")
    assert again.status_code == 401
    assert "already been used" in again.json()["detail"]
    assert agent1.token not in again.text

    bound = new_token(cluster, "bound-1")
    wrong = _enrol(cluster, bound, "someone-else")
    assert wrong.status_code == 401
    assert "is for agent 'bound-1'" in wrong.json()["detail"]
    # Refusing the wrong name did not use the token up; a CSR for another name neither.
    mismatched = httpx.post(
        f"{cluster.url}/api/v1/agents/enrol",
        json={"token": bound, "name": "bound-1", "csr": make_csr("other").csr_pem},
        verify=cluster.verify,
        timeout=30,
    )
    assert mismatched.status_code == 403, mismatched.text
    assert _enrol(cluster, bound, "bound-1").status_code == 201


@dataclass
class Probe:
    """An agent played by the test: enrolled and registered over mTLS by hand."""

    token: str
    mtls: httpx.Client
    plain: httpx.Client


@pytest.fixture(scope="module")
def probe(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    directory = tmp_path_factory.mktemp("probe")
    request = make_csr("probe-1")
    resp = httpx.post(
        f"{cluster.url}/api/v1/agents/enrol",
        json={"token": new_token(cluster), "name": "probe-1", "csr": request.csr_pem},
        verify=cluster.verify,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    issued = resp.json()
    (directory / "agent.crt").write_text(issued["certificate"])
    (directory / "agent.key").write_bytes(request.key_pem)
    assert cluster.ca_file is not None
    ctx = client_ssl_context(cluster.ca_file, directory / "agent.crt", directory / "agent.key")
    mtls = httpx.Client(base_url=f"{cluster.url}/api/v1/agents", verify=ctx, timeout=30)
    plain = httpx.Client(base_url=f"{cluster.url}/api/v1/agents", verify=cluster.verify, timeout=30)
    registered = mtls.post(
        "/register",
        json={
            "enrolment_token": issued["registration_token"],
            "name": "probe-1",
            "url": "http://127.0.0.1:9",
            "api_secret": "probe-secret-0123456789",
            "hosts": [],
        },
    )
    assert registered.status_code == 200, registered.text
    try:
        yield Probe(registered.json()["token"], mtls, plain)
    finally:
        mtls.close()
        plain.close()


def test_agent_routes_refuse_requests_without_a_valid_client_certificate(
    cluster: Cluster, agent1: Agent, probe: Probe
) -> None:
    auth = {"Authorization": f"Bearer {probe.token}"}
    body: dict[str, Any] = {"hosts": []}
    assert probe.mtls.post("/heartbeat", json=body, headers=auth).status_code == 200

    without = probe.plain.post("/heartbeat", json=body, headers=auth)
    assert without.status_code == 401
    assert "client certificate" in without.json()["detail"]

    assert cluster.ca_file is not None
    other = client_ssl_context(cluster.ca_file, agent1.tls / "agent.crt", agent1.tls / "agent.key")
    with httpx.Client(verify=other, timeout=30) as client:
        borrowed = client.post(f"{cluster.url}/api/v1/agents/heartbeat", json=body, headers=auth)
    assert borrowed.status_code == 403
    assert "'tls-1'" in borrowed.json()["detail"]


def test_rotation_issues_a_new_certificate_and_the_agent_keeps_working(
    cluster: Cluster, agent1: Agent
) -> None:
    old = agent1.serial()
    agent1.proc.terminate()
    agent1.proc.wait(20)
    # Due when fewer than 365 days are left: at once, for a 90-day certificate.
    proc = spawn_agent(
        cluster.url,
        None,
        "tls-1",
        2,
        [*FAST_SIM, *agent1.args, "--cert-renew-days", "365"],
        log_path=cluster.settings.data_dir / "tls-1.log",
    )
    cluster.agents.append(proc)
    agent1.proc = proc
    wait_until(lambda: agent1.serial() != old or proc.poll() is not None, 30, what="rotation")
    assert proc.poll() is None
    new = agent1.serial()
    assert {c["serial"] for c in certs(cluster, "tls-1", valid=True)} == {old, new}
    # The old certificate is revoked; the agent presents the new one and carries on.
    revoked = cluster.api.delete(f"/security/pki/certs/{old}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["cut_off"] is False
    heartbeats_advance(cluster, "tls-1-001")
    heartbeats_advance(cluster, "tls-1-002")
    audit = cluster.api.get("/audit", params={"action": "pki.agent.rotate"}).json()["items"]
    assert [a["detail"]["serial"] for a in audit if a["target"] == "agent:tls-1"] == [new]


def test_revoking_the_last_certificate_cuts_the_agent_off(cluster: Cluster, agent1: Agent) -> None:
    """After the rotation above, the agent's only valid certificate is the new one."""
    serial = agent1.serial()
    resp = cluster.api.delete(f"/security/pki/certs/{serial}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["cut_off"] is True
    assert {c["state"] for c in certs(cluster, "tls-1")} == {"revoked"}
    wait_until(lambda: host(cluster, "tls-1-001")["state"] == "down", 40, what="host down")
    log = (cluster.settings.data_dir / "tls-1.log").read_text()
    assert "may have been revoked" in log
    assert agent1.proc.poll() is None  # it keeps trying; an operator enrols it again


def test_an_agent_trusts_the_ca_only_with_the_pinned_fingerprint(
    cluster: Cluster, ca_fingerprint: str, tmp_path: Path
) -> None:
    token = new_token(cluster, "tls-3")
    with pytest.raises(Invalid, match="refusing to trust it"):
        asyncio.run(
            prepare_agent_tls(
                cluster.url,
                tmp_path / "tls",
                "tls-3",
                enrol_token=token,
                ca_fingerprint="sha256:" + "00" * 32,
            )
        )
    assert not (tmp_path / "tls" / "agent.key").exists()
    tls = asyncio.run(
        prepare_agent_tls(
            cluster.url,
            tmp_path / "tls",
            "tls-3",
            enrol_token=token,
            ca_fingerprint=ca_fingerprint.upper().replace("SHA256:", "sha256:"),
        )
    )
    assert tls is not None and tls.credentials is not None
    assert tls.credentials.name == "tls-3"
    assert tls.registration_token and tls.registration_token.startswith("nce_")


def test_the_pki_cli_against_the_https_server(
    cluster: Cluster, ca_fingerprint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = CLI(cluster.url, cluster.token)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert "cannot reach NovaCron" in cli.error("pki", "ca")  # our CA is not trusted yet
    monkeypatch.setenv("SSL_CERT_FILE", str(cluster.ca_file))

    ca = cli.json("pki", "ca")
    assert (ca["fingerprint"], ca["tls"], ca["client_certs"]) == (ca_fingerprint, True, "required")
    assert cli("pki", "ca", "--pem").stdout == cluster.ca_file.read_text()

    made = cli("pki", "token", "create", "--ttl", "10m", "--for", "cli-agent")
    secret = made.stdout.strip()
    assert secret.startswith("nco_") and "\n" not in secret
    assert f"--ca-fingerprint {ca_fingerprint} --name cli-agent" in made.stderr
    [listed] = [t for t in cli.json("pki", "token", "list") if t["for_name"] == "cli-agent"]
    assert listed["state"] == "valid" and "token" not in listed
    cli("pki", "token", "revoke", listed["id"])
    assert all(t["for_name"] != "cli-agent" for t in cli.json("pki", "token", "list"))
    [revoked] = [t for t in cli.json("pki", "token", "list", "--all") if t["id"] == listed["id"]]
    assert revoked["state"] == "revoked"
    assert _enrol(cluster, secret, "cli-agent").status_code == 401

    shown = cli.json("pki", "certs", "--agent", "probe-1")
    assert [c["agent_name"] for c in shown] == ["probe-1"]
    done = cli.json("pki", "revoke", shown[0]["serial"])
    assert (done["state"], done["cut_off"]) == ("revoked", True)
    assert "no agent certificate with serial abc" in cli.error("pki", "revoke", "0xABC")
    assert "not a duration" in cli.error("pki", "token", "create", "--ttl", "soon")


def test_the_agent_transport_follows_a_rotation(
    cluster: Cluster, ca_fingerprint: str, tmp_path: Path
) -> None:
    """The image fetcher's transport: one client per download, closed after it; each
    request presents the certificate current at that moment."""
    tls = asyncio.run(
        prepare_agent_tls(
            cluster.url,
            tmp_path / "tls",
            "tls-4",
            enrol_token=new_token(cluster, "tls-4"),
            ca_fingerprint=ca_fingerprint,
        )
    )
    assert tls is not None and tls.credentials is not None
    transport = tls.async_transport()

    async def rotate_through_transport() -> str:
        async with (
            httpx.AsyncClient(transport=transport, timeout=30) as client,
            client.stream(
                "POST",
                f"{cluster.url}/api/v1/agents/rotate",
                json={"csr": make_csr("tls-4").csr_pem},
            ) as response,
        ):
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
        assert response.status_code == 201, body
        audit = cluster.api.get("/audit", params={"action": "pki.agent.rotate"}).json()["items"]
        previous: str = audit[-1]["detail"]["previous"]
        return previous

    first = f"{tls.credentials.cert.serial_number:x}"
    assert asyncio.run(rotate_through_transport()) == first
    assert tls.rotate_if_due(cluster.url, force=True) is True
    second = f"{tls.credentials.cert.serial_number:x}"
    assert second != first
    assert asyncio.run(rotate_through_transport()) == second
    assert tls.rotate_if_due(cluster.url) is False  # 90 days left: not due
