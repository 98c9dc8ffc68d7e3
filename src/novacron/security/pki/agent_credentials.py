"""The agent's side: its key, certificate and trusted CA in a directory; enrol and rotate.

    <dir>/agent.key   0600, made on this host, never sent anywhere
    <dir>/agent.crt   the client certificate the server issued
    <dir>/ca.crt      the NovaCron CA: verifies the server, and checks what it returns

Transport is the caller's: ``enrol`` and ``rotate`` take a ``submit`` function that
sends the CSR to the server and returns the certificate PEM it answers (an httpx call
with the enrolment token, or over mTLS with the current certificate for a rotation).
Whatever comes back is checked before it is installed: it must be for our new key,
name this agent, and come from the CA in ``ca.crt``.

Installing a key and a certificate is two files, so it cannot be one atomic rename.
Both are written as ``*.next`` first, then the key and the certificate are renamed in
turn; if the process dies between the two renames, the next load finds a key that
matches ``agent.crt.next`` and finishes the job.
"""

from __future__ import annotations

import contextlib
import datetime
import hmac
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from novacron.core.errors import Invalid, NovaCronError
from novacron.security.pki import _x509
from novacron.security.pki.agents import (
    AGENT_RENEW_BEFORE,
    AgentKeyRequest,
    identity_from_client_cert,
    make_csr,
    needs_rotation,
)
from novacron.security.pki.ssl_contexts import client_ssl_context

AGENT_KEY_FILE = "agent.key"
AGENT_CERT_FILE = "agent.crt"
AGENT_CA_FILE = "ca.crt"
_NEXT = ".next"


@dataclass(frozen=True)
class AgentCredentials:
    directory: Path
    name: str
    cert: x509.Certificate
    ca_cert: x509.Certificate

    @property
    def key_file(self) -> Path:
        return self.directory / AGENT_KEY_FILE

    @property
    def cert_file(self) -> Path:
        return self.directory / AGENT_CERT_FILE

    @property
    def ca_file(self) -> Path:
        return self.directory / AGENT_CA_FILE

    def ssl_context(self) -> ssl.SSLContext:
        """For httpx: trust our CA, present this agent's certificate."""
        return client_ssl_context(self.ca_file, self.cert_file, self.key_file)


#: CSR PEM in, certificate PEM out (enrolment: the caller holds the token).
EnrolSubmit = Callable[[str], str]
#: Current credentials and CSR PEM in, certificate PEM out (sent over mTLS with them).
RotateSubmit = Callable[[AgentCredentials, str], str]


def check_ca_fingerprint(ca_cert_pem: str, expected: str) -> x509.Certificate:
    """The CA certificate, if its ``sha256:<hex>`` fingerprint is ``expected``.

    For an agent that fetches the CA from the server before it trusts it: the operator
    passes the fingerprint along with the enrolment token, out of band.
    """
    try:
        cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    except ValueError:
        raise Invalid("the CA certificate is not PEM") from None
    want = expected.strip().lower().removeprefix("sha256:").replace(":", "")
    got = _x509.fingerprint(cert).removeprefix("sha256:")
    if not hmac.compare_digest(want, got):
        raise Invalid(
            f"the server's CA has fingerprint sha256:{got}, not the expected one; "
            "refusing to trust it"
        )
    return cert


def enrol(
    directory: Path,
    agent_name: str,
    ca_cert_pem: str,
    submit: EnrolSubmit,
    *,
    now: datetime.datetime | None = None,
) -> AgentCredentials:
    """Make a key and CSR, have the server sign it, check and install the result."""
    try:
        ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    except ValueError:
        raise Invalid("the CA certificate is not PEM") from None
    request = make_csr(agent_name)
    cert = _check_answer(submit(request.csr_pem), request, ca_cert, agent_name, now)
    _x509.write_file(directory / AGENT_CA_FILE, _x509.cert_pem(ca_cert), private=False)
    _install(directory, request, cert)
    return AgentCredentials(directory=directory, name=agent_name, cert=cert, ca_cert=ca_cert)


def rotate(
    directory: Path,
    submit: RotateSubmit,
    *,
    now: datetime.datetime | None = None,
    renew_before: datetime.timedelta = AGENT_RENEW_BEFORE,
    force: bool = False,
) -> AgentCredentials | None:
    """Replace the agent's key and certificate when due (or ``force``); None when not due.

    The current certificate must still be valid: it is what authenticates the request.
    An expired one cannot rotate; the agent enrols again.
    """
    current = load_agent_credentials(directory, now=now)
    if not force and not needs_rotation(current.cert, now, renew_before):
        return None
    request = make_csr(current.name)
    cert = _check_answer(
        submit(current, request.csr_pem), request, current.ca_cert, current.name, now
    )
    _install(directory, request, cert)
    return AgentCredentials(
        directory=directory, name=current.name, cert=cert, ca_cert=current.ca_cert
    )


def load_agent_credentials(
    directory: Path, *, now: datetime.datetime | None = None
) -> AgentCredentials:
    """Read the agent's credentials (finishing an interrupted install first).

    ``Invalid`` names the file at fault; an expired certificate is an error too, since
    nothing can be done with it but enrol again.
    """
    key_file, cert_file = directory / AGENT_KEY_FILE, directory / AGENT_CERT_FILE
    _finish_install(directory)
    ca_cert = _x509.load_cert_file(directory / AGENT_CA_FILE, "agent CA certificate")
    cert = _x509.load_cert_file(cert_file, "agent certificate")
    key = _x509.load_key_file(key_file, "agent key")
    if not _x509.key_matches(cert, key):
        raise Invalid(f"agent key {key_file}: does not match the certificate {cert_file}")
    try:
        name = identity_from_client_cert(cert, ca_cert, now=now)
    except NovaCronError as exc:
        raise Invalid(f"agent certificate {cert_file}: {exc.detail}") from None
    return AgentCredentials(directory=directory, name=name, cert=cert, ca_cert=ca_cert)


# -- helpers ------------------------------------------------------------------------------


def _check_answer(
    cert_pem: str,
    request: AgentKeyRequest,
    ca_cert: x509.Certificate,
    agent_name: str,
    now: datetime.datetime | None,
) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise Invalid("the server's answer is not a PEM certificate") from None
    if not _x509.key_matches(cert, request.key):
        raise Invalid("the server returned a certificate for another key")
    try:
        name = identity_from_client_cert(cert, ca_cert, now=now)
    except NovaCronError as exc:
        raise Invalid(f"the server returned an unusable certificate: {exc.detail}") from None
    if name != agent_name:
        raise Invalid(f"the server returned a certificate for agent {name!r}, not {agent_name!r}")
    return cert


def _install(directory: Path, request: AgentKeyRequest, cert: x509.Certificate) -> None:
    key_file, cert_file = directory / AGENT_KEY_FILE, directory / AGENT_CERT_FILE
    key_next, cert_next = _next(key_file), _next(cert_file)
    _x509.write_file(key_next, request.key_pem, private=True)
    _x509.write_file(cert_next, _x509.cert_pem(cert), private=False)
    os.replace(key_next, key_file)
    os.replace(cert_next, cert_file)


def _finish_install(directory: Path) -> None:
    """Complete or discard an install interrupted between its two renames."""
    key_file, cert_file = directory / AGENT_KEY_FILE, directory / AGENT_CERT_FILE
    cert_next = _next(cert_file)
    if not cert_next.exists():
        return
    if _next(key_file).exists():
        # The key was never renamed: the old pair is intact; drop the half-done one.
        for leftover in (_next(key_file), cert_next):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        return
    with contextlib.suppress(Invalid, FileNotFoundError):
        key = _x509.load_key_file(key_file, "agent key")
        pending = _x509.load_cert_file(cert_next, "agent certificate")
        if _x509.key_matches(pending, key):
            os.replace(cert_next, cert_file)


def _next(path: Path) -> Path:
    return path.with_name(path.name + _NEXT)
