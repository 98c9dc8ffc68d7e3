"""Agent client certificates: CSRs, signing, identity, rotation checks (server side).

An agent's identity is a URI SAN ``urn:novacron:agent:<name>`` in a clientAuth
certificate signed directly by our CA. The common name repeats the name for humans
and logs; only the URI is trusted.

Enrolment: the agent makes its own key and a CSR (``make_csr``), so no private key
ever leaves the host; the server checks the CSR's signature and that it asks for the
name the enrolment token allows, then ``sign_agent_csr`` issues a certificate carrying
only the extensions we choose (whatever else the CSR requests is ignored: a CSR can
never obtain a CA or server certificate).

Rotation: before its certificate expires the agent sends a new CSR over mTLS with its
current, still valid certificate; ``sign_rotation_csr`` takes the identity from that
certificate, never from the request. Revocation is a set of serial numbers the
caller keeps (a table at integration); ``identity_from_client_cert`` checks it on
every request, so a revoked agent is refused at once, without restarting the server.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Container
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from novacron.core.errors import Forbidden, Invalid, Unauthorized
from novacron.security.pki import _x509
from novacron.security.pki._x509 import PrivateKey
from novacron.security.pki.ca import CertificateAuthority

AGENT_URN_PREFIX = "urn:novacron:agent:"
AGENT_CERT_DAYS = 90
AGENT_RENEW_BEFORE = datetime.timedelta(days=30)
AGENT_ORGANIZATION = "NovaCron agents"

# The same rule as compute's NAME_PATTERN for agent names; every character it allows
# is also allowed, unescaped, in a URN.
_AGENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class AgentKeyRequest:
    """The agent's half of an enrolment or a rotation: a new key (kept) and a CSR (sent)."""

    key: PrivateKey
    csr_pem: str

    @property
    def key_pem(self) -> bytes:
        return _x509.key_pem(self.key)


def check_agent_name(agent_name: str) -> str:
    if not _AGENT_NAME_RE.match(agent_name):
        raise Invalid(
            f"{agent_name!r} is not a valid agent name (letters, digits, '_', '.', '-'; "
            "at most 63 characters, starting with a letter or digit)"
        )
    return agent_name


def agent_uri(agent_name: str) -> str:
    return AGENT_URN_PREFIX + check_agent_name(agent_name)


def agent_name_from_uri(uri: str) -> str | None:
    """The agent name in ``urn:novacron:agent:<name>``, or None for any other URI."""
    if not uri.startswith(AGENT_URN_PREFIX):
        return None
    name = uri[len(AGENT_URN_PREFIX) :]
    return name if _AGENT_NAME_RE.match(name) else None


def make_csr(agent_name: str) -> AgentKeyRequest:
    """A new P-256 key and a CSR for agent ``agent_name`` (run on the agent)."""
    key = _x509.new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_x509.name(check_agent_name(agent_name), AGENT_ORGANIZATION))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(agent_uri(agent_name))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return AgentKeyRequest(key=key, csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode())


def load_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    """Parse a CSR and check its self-signature (proof the sender holds the key)."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except (ValueError, TypeError):
        raise Invalid("not a PEM certificate signing request") from None
    try:
        valid = csr.is_signature_valid
    except (UnsupportedAlgorithm, ValueError, TypeError):  # cannot be checked: refuse
        valid = False
    if not valid:
        raise Invalid("the certificate signing request's signature does not verify")
    _x509.check_public_key(csr.public_key(), "certificate signing request")
    return csr


def csr_agent_names(csr: x509.CertificateSigningRequest) -> set[str]:
    """Every name a CSR asks for: its common name and the agents in its URI SANs.

    Other SAN entries (DNS names, addresses, foreign URIs) come back verbatim, so a CSR
    asking for anything besides one agent name never matches an enrolment.
    """
    names = {str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return names
    for general in san:
        if isinstance(general, x509.UniformResourceIdentifier):
            names.add(agent_name_from_uri(general.value) or general.value)
        else:
            names.add(str(general.value))
    return names


def sign_agent_csr(
    ca: CertificateAuthority,
    csr_pem: str,
    agent_name: str,
    days: int = AGENT_CERT_DAYS,
    *,
    now: datetime.datetime | None = None,
) -> x509.Certificate:
    """Issue agent ``agent_name`` a clientAuth certificate for the key in ``csr_pem``.

    ``Forbidden`` when the CSR asks for another name than the enrolment allows.
    """
    check_agent_name(agent_name)
    csr = load_csr(csr_pem)
    asked = csr_agent_names(csr)
    if asked != {agent_name}:
        shown = ", ".join(sorted(asked)) or "no name"
        raise Forbidden(
            f"the certificate request asks for {shown}; this enrolment is for agent {agent_name!r}"
        )
    start = _x509.utc(now)
    not_before, not_after = _x509.validity(start, days, ca.cert)
    public = csr.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_x509.name(agent_name, AGENT_ORGANIZATION))
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_x509.leaf_key_usage(public), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(agent_uri(agent_name))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


def check_not_revoked(cert: x509.Certificate, revoked: Container[int]) -> None:
    """``Unauthorized`` when ``cert``'s serial is in ``revoked`` (a set, or a store
    answering ``in``)."""
    if cert.serial_number in revoked:
        raise Unauthorized(f"client certificate {cert.serial_number:x} has been revoked")


def identity_from_client_cert(
    cert: x509.Certificate,
    ca: CertificateAuthority | x509.Certificate,
    *,
    now: datetime.datetime | None = None,
    revoked: Container[int] = frozenset(),
) -> str:
    """The agent name a client certificate proves, or ``Unauthorized`` saying why not.

    The TLS handshake already verified the chain when the server requires client
    certificates; this check stands on its own anyway (optional client certificates,
    TLS ended by a proxy, revocation, which the handshake does not know about).
    """
    ca_cert = ca.cert if isinstance(ca, CertificateAuthority) else ca
    at = _x509.utc(now)
    if not _x509.issued_by(cert, ca_cert):
        raise Unauthorized("client certificate not issued by this NovaCron CA")
    check_not_revoked(cert, revoked)
    if _x509.is_expired(cert, at):
        raise Unauthorized(
            f"client certificate expired on {_x509.iso(cert.not_valid_after_utc)}; "
            "the agent must enrol again"
        )
    if _x509.is_not_yet_valid(cert, at):
        raise Unauthorized(
            f"client certificate not valid before {_x509.iso(cert.not_valid_before_utc)}"
        )
    if not _has_client_auth(cert):
        raise Unauthorized("not a client certificate (no clientAuth extended key usage)")
    names = _agent_names(cert)
    if len(names) != 1:
        raise Unauthorized("client certificate does not name exactly one NovaCron agent")
    return names[0]


def needs_rotation(
    cert: x509.Certificate,
    now: datetime.datetime | None = None,
    renew_before: datetime.timedelta = AGENT_RENEW_BEFORE,
) -> bool:
    """True when ``cert`` expires within ``renew_before`` of ``now`` (or already has)."""
    return cert.not_valid_after_utc - _x509.utc(now) <= renew_before


def sign_rotation_csr(
    ca: CertificateAuthority,
    csr_pem: str,
    presented: x509.Certificate,
    *,
    days: int = AGENT_CERT_DAYS,
    now: datetime.datetime | None = None,
    revoked: Container[int] = frozenset(),
) -> x509.Certificate:
    """Server side of rotation: a new certificate for the agent that presented
    ``presented`` (its current client certificate, from the TLS connection).

    The name comes from ``presented``; an expired or revoked certificate cannot rotate
    (the agent enrols again with a token). The new CSR must carry a new key.
    """
    agent_name = identity_from_client_cert(presented, ca, now=now, revoked=revoked)
    csr = load_csr(csr_pem)
    if _x509.public_key_der(presented) == csr.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise Invalid("rotation needs a new key; the request reuses the current one")
    return sign_agent_csr(ca, csr_pem, agent_name, days, now=now)


def _has_client_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False  # ours always carry one; a certificate without it is not ours
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku


def _agent_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    return [n for n in (agent_name_from_uri(u) for u in uris) if n is not None]
