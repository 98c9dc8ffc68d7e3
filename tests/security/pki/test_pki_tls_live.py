"""Real TLS on 127.0.0.1: uvicorn with our certificates, httpx clients with and without.

Certificates here use the real clock (OpenSSL checks validity at handshake time); the
expired one was issued in the past rather than by waiting.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from novacron.agent.serving import EmbeddedServer, bind_socket
from novacron.core.errors import NovaCronError
from novacron.security.pki import (
    AgentCredentials,
    CertificateAuthority,
    EnrolmentTokens,
    InMemoryEnrolmentTokenStore,
    cert_pem,
    client_ssl_context,
    create_ca,
    enrol,
    identity_from_client_cert,
    issue_server_cert,
    make_csr,
    rotate,
    sign_agent_csr,
    sign_rotation_csr,
    uvicorn_ssl_kwargs,
)
from novacron.security.pki.asgi import H11ClientCertProtocol, client_cert_from_scope

DAY = datetime.timedelta(days=1)


@dataclass
class Pki:
    dir: Path
    ca: CertificateAuthority
    revoked: set[int]
    tokens: EnrolmentTokens

    def path(self, name: str) -> Path:
        return self.dir / name

    def client(self, cert: str | None = None, *, trust: bool = True) -> httpx.Client:
        ctx = client_ssl_context(
            self.path("ca.crt") if trust else None,
            self.path(f"{cert}.crt") if cert else None,
            self.path(f"{cert}.key") if cert else None,
        )
        return httpx.Client(verify=ctx, trust_env=False, timeout=10)


def _write_agent(
    directory: Path,
    stem: str,
    ca: CertificateAuthority,
    name: str,
    at: datetime.datetime,
    days: int,
) -> int:
    request = make_csr(name)
    cert = sign_agent_csr(ca, request.csr_pem, name, days, now=at)
    (directory / f"{stem}.crt").write_text(cert_pem(cert))
    (directory / f"{stem}.key").write_bytes(request.key_pem)
    return cert.serial_number


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)
    ca = create_ca(now=now - 200 * DAY)
    (directory / "ca.crt").write_text(ca.cert_pem)
    server = issue_server_cert(ca, ["localhost"], ["127.0.0.1"], now=now)
    (directory / "server.crt").write_text(server.cert_pem)
    (directory / "server.key").write_bytes(server.key_pem)
    wrong_name = issue_server_cert(ca, ["nova.example.org"], [], now=now)
    (directory / "wrongname.crt").write_text(wrong_name.cert_pem)
    (directory / "wrongname.key").write_bytes(wrong_name.key_pem)

    _write_agent(directory, "agent", ca, "agent-1", now, 90)
    _write_agent(directory, "expired", ca, "agent-1", now - 100 * DAY, 10)
    _write_agent(directory, "foreign", create_ca(now=now), "agent-1", now, 90)
    revoked = _write_agent(directory, "revoked", ca, "agent-9", now, 90)
    return Pki(directory, ca, {revoked}, EnrolmentTokens(InMemoryEnrolmentTokenStore()))


def _app(pki: Pki) -> FastAPI:
    """What the lead's routes will do, in miniature."""
    app = FastAPI()

    @app.exception_handler(NovaCronError)
    async def problem(_: Request, exc: NovaCronError) -> JSONResponse:
        return JSONResponse(exc.problem(), status_code=exc.status)

    def agent(request: Request) -> str | None:
        cert = client_cert_from_scope(request.scope)
        if cert is None:
            return None
        return identity_from_client_cert(cert, pki.ca, revoked=pki.revoked)

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        tls = request.scope["extensions"]["tls"]
        return {"agent": agent(request), "tls_version": tls["tls_version"]}

    @app.post("/enrol")
    async def enrol_route(request: Request) -> dict[str, str]:
        body = await request.json()
        pki.tokens.redeem(body["token"], body["name"])
        return {"cert": cert_pem(sign_agent_csr(pki.ca, body["csr"], body["name"]))}

    @app.post("/rotate")
    async def rotate_route(request: Request) -> dict[str, str]:
        presented = client_cert_from_scope(request.scope)
        if presented is None:
            return JSONResponse({"detail": "no client certificate"}, status_code=401)  # type: ignore[return-value]
        body = await request.json()
        new = sign_rotation_csr(pki.ca, body["csr"], presented, revoked=pki.revoked)
        return {"cert": cert_pem(new)}

    return app


@contextlib.contextmanager
def _serve(
    pki: Pki, *, require: bool = False, server: str = "server", **extra: Any
) -> Iterator[str]:
    kwargs = uvicorn_ssl_kwargs(
        pki.path(f"{server}.crt"), pki.path(f"{server}.key"), pki.path("ca.crt"), require
    )
    kwargs.update(extra)
    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(_app(pki), log_config=None, access_log=False, lifespan="off", **kwargs)
    srv = EmbeddedServer(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not srv.started:
            assert thread.is_alive(), "uvicorn failed to start"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        assert srv.config.ssl is not None
        assert srv.config.ssl.minimum_version >= ssl.TLSVersion.TLSv1_2
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def optional_url(pki: Pki) -> Iterator[str]:
    with _serve(pki, require=False) as url:
        yield url


@pytest.fixture(scope="module")
def required_url(pki: Pki) -> Iterator[str]:
    with _serve(pki, require=True) as url:
        yield url


def test_a_client_trusting_our_ca_connects(pki: Pki, optional_url: str) -> None:
    with pki.client() as client:
        response = client.get(f"{optional_url}/whoami")
    assert response.status_code == 200
    assert response.json()["agent"] is None  # optional: no certificate is fine
    assert response.json()["tls_version"] in (0x0303, 0x0304)


def test_a_client_without_our_ca_fails_verification(pki: Pki, optional_url: str) -> None:
    with pki.client(trust=False) as client, pytest.raises(httpx.ConnectError) as info:
        client.get(f"{optional_url}/whoami")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)


def test_the_server_name_must_match(pki: Pki) -> None:
    with (
        _serve(pki, server="wrongname") as url,
        pki.client() as client,
        pytest.raises(httpx.ConnectError) as info,
    ):
        client.get(f"{url}/whoami")
    assert "mismatch" in str(info.value).lower()


def test_the_server_reads_the_agent_identity(pki: Pki, optional_url: str) -> None:
    with pki.client("agent") as client:
        response = client.get(f"{optional_url}/whoami")
    assert response.status_code == 200
    assert response.json()["agent"] == "agent-1"


def test_tls12_clients_get_the_identity_too(pki: Pki, optional_url: str) -> None:
    ctx = client_ssl_context(pki.path("ca.crt"), pki.path("agent.crt"), pki.path("agent.key"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(verify=ctx, trust_env=False, timeout=10) as client:
        body = client.get(f"{optional_url}/whoami").json()
    assert body == {"agent": "agent-1", "tls_version": 0x0303}


@pytest.mark.parametrize("cert", ["expired", "foreign"])
def test_expired_or_foreign_client_certificates_fail_the_handshake(
    pki: Pki, optional_url: str, cert: str
) -> None:
    with pki.client(cert) as client, pytest.raises(httpx.TransportError):
        client.get(f"{optional_url}/whoami")


def test_a_revoked_certificate_is_refused_by_the_application(pki: Pki, optional_url: str) -> None:
    with pki.client("revoked") as client:
        response = client.get(f"{optional_url}/whoami")
    assert response.status_code == 401
    assert "has been revoked" in response.json()["detail"]


def test_required_client_certificates(pki: Pki, required_url: str) -> None:
    with pki.client() as client, pytest.raises(httpx.TransportError):
        client.get(f"{required_url}/whoami")
    with pki.client("agent") as client:
        assert client.get(f"{required_url}/whoami").json()["agent"] == "agent-1"


def test_h11_protocol_exposes_the_certificate_too(pki: Pki) -> None:
    with (
        _serve(pki, require=True, http=H11ClientCertProtocol) as url,
        pki.client("agent") as client,
    ):
        assert client.get(f"{url}/whoami").json()["agent"] == "agent-1"


def test_enrol_then_rotate_over_tls(pki: Pki, optional_url: str, tmp_path: Path) -> None:
    _, secret = pki.tokens.issue(datetime.timedelta(minutes=10), for_name="agent-2")

    def submit_enrolment(csr: str) -> str:
        with pki.client() as client:  # trusts the CA, no client certificate yet
            response = client.post(
                f"{optional_url}/enrol", json={"token": secret, "name": "agent-2", "csr": csr}
            )
        response.raise_for_status()
        return str(response.json()["cert"])

    creds = enrol(tmp_path, "agent-2", pki.ca.cert_pem, submit_enrolment)
    with httpx.Client(verify=creds.ssl_context(), trust_env=False, timeout=10) as client:
        assert client.get(f"{optional_url}/whoami").json()["agent"] == "agent-2"

    # The token is spent: a second enrolment with it is refused.
    with pki.client() as client:
        again = client.post(
            f"{optional_url}/enrol",
            json={"token": secret, "name": "agent-2", "csr": make_csr("agent-2").csr_pem},
        )
    assert again.status_code == 401
    assert secret not in again.text

    def submit_rotation(current: AgentCredentials, csr: str) -> str:
        with httpx.Client(verify=current.ssl_context(), trust_env=False, timeout=10) as client:
            response = client.post(f"{optional_url}/rotate", json={"csr": csr})
        response.raise_for_status()
        return str(response.json()["cert"])

    rotated = rotate(tmp_path, submit_rotation, force=True)
    assert rotated is not None
    assert rotated.cert.serial_number != creds.cert.serial_number
    with httpx.Client(verify=rotated.ssl_context(), trust_env=False, timeout=10) as client:
        assert client.get(f"{optional_url}/whoami").json()["agent"] == "agent-2"
