"""The agent's TLS to the server: which CA to trust, enrolment, its client certificate,
rotation. Used by ``novacron agent`` (``agent/main.py``) and its reporter.

    <dir>/server-ca.crt       the CA pinned with --ca-fingerprint (verifies the server)
    <dir>/ca.crt              NovaCron's CA (checks the certificates the server returns)
    <dir>/agent.key, .crt     the agent's key (0600) and client certificate
    <dir>/registration-token  0600: what the agent registers with once enrolled

First start with ``--enrol-token``: the CA is fetched without verification and accepted
only if its SHA-256 fingerprint is the one the operator passed (``--ca-fingerprint``), or
read from ``--ca-file``; then, over a verified connection, the agent sends a CSR with the
token and installs what comes back. Later starts find the files and need neither.
A server with a public certificate needs no CA option: the system's trust store is used.

HTTP is httpx, synchronous: these calls happen at start-up and once a day, from a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from novacron.core.errors import Invalid, NovaCronError, from_problem
from novacron.security.pki import _x509
from novacron.security.pki.agent_credentials import (
    AGENT_CERT_FILE,
    AgentCredentials,
    check_ca_fingerprint,
    enrol,
    load_agent_credentials,
    rotate,
)
from novacron.security.pki.agents import AGENT_RENEW_BEFORE, needs_rotation
from novacron.security.pki.ssl_contexts import client_ssl_context

log = logging.getLogger("novacron.agent.tls")

SERVER_CA_FILE = "server-ca.crt"
REGISTRATION_TOKEN_FILE = "registration-token"
CA_PATH = "/api/v1/pki/ca.crt"
ENROL_PATH = "/api/v1/agents/enrol"
ROTATE_PATH = "/api/v1/agents/rotate"


class ServerUnavailable(Exception):
    """No answer, a timeout or a 5xx: worth trying again later."""


@dataclass
class AgentTLS:
    """What the agent's HTTP clients need to talk to an https server."""

    directory: Path
    server_ca: Path | None
    """Verifies the server; None: the system's trust store."""
    credentials: AgentCredentials | None = None
    """The client certificate, once enrolled."""
    registration_token: str | None = None
    renew_before: datetime.timedelta = AGENT_RENEW_BEFORE
    _context: ssl.SSLContext | None = field(default=None, repr=False)

    @property
    def enrolled(self) -> bool:
        return self.credentials is not None

    def ssl_context(self) -> ssl.SSLContext:
        """Verify the server; present the client certificate when enrolled. Rebuilt after
        a rotation (a context keeps the certificate it was loaded with)."""
        if self._context is None:
            creds = self.credentials
            self._context = client_ssl_context(
                self.server_ca,
                creds.cert_file if creds else None,
                creds.key_file if creds else None,
            )
        return self._context

    def rotation_due(self, now: datetime.datetime | None = None) -> bool:
        return self.credentials is not None and needs_rotation(
            self.credentials.cert, now, self.renew_before
        )

    def rotate_if_due(self, server_url: str, *, timeout: float = 30.0, force: bool = False) -> bool:
        """Rotate the key and certificate over mTLS when due (or ``force``); True if it
        did. Raises ``ServerUnavailable`` or the server's refusal."""
        if self.credentials is None or not (force or self.rotation_due()):
            return False

        def submit(current: AgentCredentials, csr_pem: str) -> str:
            verify = client_ssl_context(self.server_ca, current.cert_file, current.key_file)
            body = _post(server_url + ROTATE_PATH, {"csr": csr_pem}, verify, timeout)
            return str(body["certificate"])

        rotated = rotate(self.directory, submit, renew_before=self.renew_before, force=force)
        if rotated is None:
            return False
        old = self.credentials.cert
        self.credentials, self._context = rotated, None
        log.info(
            "rotated the agent certificate: serial %x (until %s) replaces %x",
            rotated.cert.serial_number,
            _x509.iso(rotated.cert.not_valid_after_utc),
            old.serial_number,
        )
        return True

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """For clients made and closed per use (the image fetcher): each request gets the
        TLS context current at that moment, so a rotation needs no restart."""
        return _CurrentContextTransport(self.ssl_context)


async def prepare_agent_tls(
    server_url: str,
    directory: Path,
    name: str,
    *,
    enrol_token: str | None = None,
    ca_file: Path | None = None,
    ca_fingerprint: str | None = None,
    renew_before: datetime.timedelta | None = None,
    timeout: float = 30.0,
    retry_max_s: float = 10.0,
) -> AgentTLS | None:
    """The agent's TLS set-up for ``server_url`` (None for plain http), enrolling first
    when it has no certificate and was given a one-time token.

    An unreachable server is retried with capped backoff (the agent may start before
    the server); a refusal (bad token, wrong fingerprint) raises at once."""
    if not server_url.startswith("https://"):
        given = [
            opt
            for opt, value in (
                ("--enrol-token", enrol_token),
                ("--ca-fingerprint", ca_fingerprint),
                ("--ca-file", ca_file),
            )
            if value
        ]
        if given:
            raise Invalid(f"{', '.join(given)} need an https:// server URL, not {server_url}")
        return None
    backoff, reported = 0.5, False
    while True:
        try:
            return await asyncio.to_thread(
                _prepare,
                server_url,
                directory,
                name,
                enrol_token,
                ca_file,
                ca_fingerprint,
                AGENT_RENEW_BEFORE if renew_before is None else renew_before,
                timeout,
            )
        except ServerUnavailable as exc:
            if not reported:
                log.warning("server at %s unreachable (%s); retrying", server_url, exc)
                reported = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, retry_max_s)


def _prepare(
    server_url: str,
    directory: Path,
    name: str,
    enrol_token: str | None,
    ca_file: Path | None,
    ca_fingerprint: str | None,
    renew_before: datetime.timedelta,
    timeout: float,
) -> AgentTLS:
    server_ca = _server_ca(server_url, directory, ca_file, ca_fingerprint, timeout)
    tls = AgentTLS(directory, server_ca, renew_before=renew_before)
    credentials = _existing_credentials(directory, name, enrol_token is not None)
    if credentials is not None:
        if enrol_token:
            log.info(
                "agent %s is already enrolled (certificate %x, until %s): --enrol-token unused",
                name,
                credentials.cert.serial_number,
                _x509.iso(credentials.cert.not_valid_after_utc),
            )
        tls.credentials = credentials
        tls.registration_token = _read_token(directory / REGISTRATION_TOKEN_FILE)
        return tls
    if enrol_token:
        tls.credentials, tls.registration_token = _enrol(
            server_url, directory, name, enrol_token, tls.ssl_context(), timeout
        )
        tls._context = None  # now with the client certificate
    return tls


def _server_ca(
    server_url: str,
    directory: Path,
    ca_file: Path | None,
    ca_fingerprint: str | None,
    timeout: float,
) -> Path | None:
    if ca_file is not None:
        _x509.load_cert_file(ca_file, "CA certificate (--ca-file)")
        return ca_file
    saved = directory / SERVER_CA_FILE
    if saved.exists():
        cert = _x509.load_cert_file(saved, "pinned server CA")
        if ca_fingerprint is None or _same_fingerprint(cert, ca_fingerprint):
            return saved
        log.warning("the pinned CA in %s has another fingerprint: fetching it again", saved)
    if ca_fingerprint is None:
        return None
    # Unverified on purpose: the fingerprint, passed out of band, is what we trust.
    response = _send("GET", server_url + CA_PATH, None, False, timeout)
    cert = check_ca_fingerprint(response.text, ca_fingerprint)
    _x509.write_file(saved, _x509.cert_pem(cert), private=False)
    log.info("pinned the server's CA %s in %s", _x509.fingerprint(cert), saved)
    return saved


def _same_fingerprint(cert: x509.Certificate, expected: str) -> bool:
    want = expected.strip().lower().removeprefix("sha256:").replace(":", "")
    return _x509.fingerprint(cert).removeprefix("sha256:") == want


def _existing_credentials(directory: Path, name: str, can_enrol: bool) -> AgentCredentials | None:
    if not (directory / AGENT_CERT_FILE).exists():
        return None
    try:
        credentials = load_agent_credentials(directory)
    except Invalid as exc:
        if can_enrol:
            log.warning("%s; enrolling again with the one-time token", exc.detail)
            return None
        raise Invalid(
            f"{exc.detail}; enrol again: --enrol-token from novacron pki token create"
        ) from None
    if credentials.name != name:
        raise Invalid(
            f"the certificate in {directory} is agent {credentials.name!r}'s, not {name!r}'s: "
            "use that name, or another --data-dir"
        )
    return credentials


def _enrol(
    server_url: str,
    directory: Path,
    name: str,
    secret: str,
    verify: ssl.SSLContext,
    timeout: float,
) -> tuple[AgentCredentials, str | None]:
    # NovaCron's CA, over a verified connection (it differs from the server's CA when the
    # operator brings their own server certificate).
    ca_pem = _send("GET", server_url + CA_PATH, None, verify, timeout).text
    answer: dict[str, Any] = {}

    def submit(csr_pem: str) -> str:
        answer.update(
            _post(
                server_url + ENROL_PATH,
                {"token": secret, "name": name, "csr": csr_pem},
                verify,
                timeout,
            )
        )
        return str(answer["certificate"])

    credentials = enrol(directory, name, ca_pem, submit)
    token = answer.get("registration_token")
    if isinstance(token, str) and token:
        _x509.write_file(directory / REGISTRATION_TOKEN_FILE, token + "\n", private=True)
    log.info(
        "agent %s enrolled: certificate %x until %s",
        name,
        credentials.cert.serial_number,
        _x509.iso(credentials.cert.not_valid_after_utc),
    )
    return credentials, token if isinstance(token, str) else None


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _post(
    url: str, payload: dict[str, Any], verify: ssl.SSLContext, timeout: float
) -> dict[str, Any]:
    body = _send("POST", url, payload, verify, timeout).json()
    if not isinstance(body, dict):
        raise Invalid(f"{url}: the answer is not a JSON object")
    return body


def _send(
    method: str,
    url: str,
    payload: dict[str, Any] | None,
    verify: ssl.SSLContext | bool,
    timeout: float,
) -> httpx.Response:
    try:
        response = httpx.request(method, url, json=payload, verify=verify, timeout=timeout)
    except httpx.ConnectError as exc:
        if _is_verification_error(exc):
            raise Invalid(
                f"cannot verify the server at {url}: {exc}; check --ca-fingerprint / --ca-file"
            ) from exc
        raise ServerUnavailable(str(exc) or type(exc).__name__) from exc
    except httpx.TransportError as exc:
        raise ServerUnavailable(str(exc) or type(exc).__name__) from exc
    if response.status_code >= 500:
        raise ServerUnavailable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise _refusal(response)
    return response


def _refusal(response: httpx.Response) -> NovaCronError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("detail" in body or "type" in body):
        error = from_problem(body)
    else:
        error = NovaCronError(f"HTTP {response.status_code}: {response.text[:200]}")
    # Say which call was refused: enrolment and rotation look alike in a log.
    return type(error)(f"{response.request.url.path}: {error.detail}", errors=error.errors)


def _is_verification_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


class _CurrentContextTransport(httpx.AsyncBaseTransport):
    """One connection per request with the context of the moment; closing the response
    closes the connection (image downloads are few and large: no pool to keep)."""

    def __init__(self, context: Callable[[], ssl.SSLContext]) -> None:
        self._context = context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = httpx.AsyncHTTPTransport(verify=self._context())
        try:
            response = await inner.handle_async_request(request)
        except BaseException:
            await inner.aclose()
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ClosingStream(response, inner),
            extensions=response.extensions,
        )


class _ClosingStream(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, transport: httpx.AsyncHTTPTransport) -> None:
        self._response = response
        self._transport = transport

    async def __aiter__(self) -> AsyncIterator[bytes]:
        stream = self._response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        async for chunk in stream:
            yield chunk

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self._response.aclose()
        await self._transport.aclose()
