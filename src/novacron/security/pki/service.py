"""Server-side PKI use cases: enrolment tokens, enrol, rotate, verify and revoke agents.

An enrolled agent holds three things: its key, its certificate, and a *registration
token*, an ``enrolment``-kind API token named ``agent-enrol:<name>`` that it presents to
``/api/v1/agents/register`` in place of the installation's shared enrolment token. It
expires with the certificate (rotation extends it) and is revoked with it, so that
revoking an agent's last valid certificate cuts the agent off even on a server that does
not require client certificates: its agent token and registration token both stop
working, the next heartbeat is refused, and it cannot register again.

The CA lives in ``<data_dir>/tls`` next to the server certificate (``serving.py``);
replicas must share that directory, as they share the image store.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.errors import Conflict, NotFound, Unauthorized
from novacron.security.models import ApiToken
from novacron.security.pki import store
from novacron.security.pki.agents import (
    AGENT_CERT_DAYS,
    identity_from_client_cert,
    sign_agent_csr,
    sign_rotation_csr,
)
from novacron.security.pki.ca import CertificateAuthority, ensure_ca, load_ca
from novacron.security.pki.enrolment import EnrolmentToken, EnrolmentTokens
from novacron.security.pki.models import AgentCertificate
from novacron.security.tokens import issue_token

TLS_DIR = "tls"
REGISTRATION_TOKEN_PREFIX = "agent-enrol:"
AGENT_TOKEN_PREFIX = "agent:"  # what compute's register names an agent's own token


def tls_dir(settings: Settings) -> Path:
    return settings.data_dir / TLS_DIR


def client_cert_mode(settings: Settings) -> str:
    """``off``, ``optional`` or ``required``; always ``off`` without TLS."""
    return settings.tls_client_certs if settings.tls else "off"


def server_ca(settings: Settings) -> CertificateAuthority:
    """The installation's CA: created on first use when TLS is on; without TLS only an
    existing one is loaded (a plain-HTTP server has no use for a new CA)."""
    directory = tls_dir(settings)
    if settings.tls:
        return ensure_ca(directory)
    if not (directory / "ca.crt").exists():
        raise NotFound(f"this server has no CA yet ({directory}): TLS is off")
    return load_ca(directory)


def require_mtls(settings: Settings) -> None:
    """Enrolment and rotation only make sense where agents can present certificates."""
    if client_cert_mode(settings) == "off":
        raise Conflict(
            "agent certificates are off on this server: serve TLS (tls) with "
            "tls_client_certs optional or required"
        )


# -- enrolment tokens ---------------------------------------------------------------------


def enrolment_tokens(session: Session) -> EnrolmentTokens:
    return EnrolmentTokens(store.SqlEnrolmentTokenStore(session))


def issue_enrolment_token(
    session: Session, ttl: datetime.timedelta, for_name: str | None, created_by: str
) -> tuple[EnrolmentToken, str]:
    return enrolment_tokens(session).issue(ttl, for_name, created_by=created_by)


# -- enrol and rotate ---------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    name: str
    cert: x509.Certificate
    token_id: str | None = None
    """The one-time token redeemed (enrolment only)."""
    registration_token: str | None = None
    """Only on enrolment: the secret the agent registers with from now on."""


def enrol_agent(
    session: Session,
    ca: CertificateAuthority,
    secret: str,
    agent_name: str,
    csr_pem: str,
    *,
    days: int = AGENT_CERT_DAYS,
) -> Issued:
    """Redeem a one-time token for a certificate and a registration token.

    Order matters: the token is checked, then the CSR is signed (a bad CSR does not burn
    the token), then the token is claimed atomically (two racing agents: one wins)."""
    tokens = enrolment_tokens(session)
    now = utcnow()
    tokens.check(secret, agent_name, now=now)
    cert = sign_agent_csr(ca, csr_pem, agent_name, days, now=now)
    token = tokens.redeem(secret, agent_name, now=now)
    store.record_certificate(session, cert, agent_name, now)
    registration = _reissue_registration_token(session, agent_name, cert)
    return Issued(agent_name, cert, token.id, registration)


def rotate_agent(
    session: Session, ca: CertificateAuthority, presented: x509.Certificate, csr_pem: str
) -> Issued:
    """A new certificate for the agent that presented ``presented`` over mTLS."""
    now = utcnow()
    verify_agent_cert(session, ca, presented, now=now)
    cert = sign_rotation_csr(ca, csr_pem, presented, now=now)
    name = identity_from_client_cert(cert, ca, now=now)
    store.record_certificate(session, cert, name, now)
    # The registration token lives as long as the newest certificate.
    session.execute(
        update(ApiToken)
        .where(_registration_token(name), ApiToken.revoked_at.is_(None))
        .values(expires_at=store.naive_utc(cert.not_valid_after_utc))
    )
    return Issued(name, cert)


def verify_agent_cert(
    session: Session,
    ca: CertificateAuthority | x509.Certificate,
    cert: x509.Certificate,
    *,
    now: datetime.datetime | None = None,
) -> str:
    """The agent a presented certificate proves; ``Unauthorized`` unless it chains to
    our CA, is current, and is one this server issued and has not revoked.

    Certificates missing from the register are refused as well: after a database
    restore, an agent enrolled since must enrol again rather than be trusted blindly."""
    row = store.find_certificate(session, store.serial_hex(cert))
    revoked = {cert.serial_number} if row is not None and row.revoked_at is not None else set()
    name = identity_from_client_cert(cert, ca, now=now, revoked=revoked)
    if row is None:
        raise Unauthorized(
            f"client certificate {store.serial_hex(cert)} is not one this server issued; "
            "enrol the agent again"
        )
    if row.agent_name != name:
        raise Unauthorized(f"client certificate {row.serial} was issued to another agent")
    return name


# -- revocation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Revoked:
    certificate: AgentCertificate
    cut_off: bool
    """True when it was the agent's last valid certificate: its tokens were revoked too."""


def revoke_certificate(session: Session, serial: str) -> Revoked:
    row = store.get_certificate(session, serial)
    now = utcnow()
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    others = store.list_certificates(session, agent_name=row.agent_name, active_at=now)
    cut_off = not others
    if cut_off:
        session.execute(
            update(ApiToken)
            .where(
                or_(_agent_token(row.agent_name), _registration_token(row.agent_name)),
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    return Revoked(row, cut_off)


def _agent_token(agent_name: str) -> ColumnElement[bool]:
    return and_(ApiToken.kind == "agent", ApiToken.name == AGENT_TOKEN_PREFIX + agent_name)


def _registration_token(agent_name: str) -> ColumnElement[bool]:
    return and_(
        ApiToken.kind == "enrolment", ApiToken.name == REGISTRATION_TOKEN_PREFIX + agent_name
    )


def _reissue_registration_token(session: Session, agent_name: str, cert: x509.Certificate) -> str:
    """A new registration token for ``agent_name``; earlier ones stop working."""
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(_registration_token(agent_name), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    _, secret = issue_token(
        session,
        REGISTRATION_TOKEN_PREFIX + agent_name,
        "enrolment",
        "agent",
        expires_at=store.naive_utc(cert.not_valid_after_utc),
    )
    return secret
