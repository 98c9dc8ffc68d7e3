"""API types of the PKI routes (Pydantic, at the edge only)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from novacron.core.clock import UtcDateTime
from novacron.security.pki.enrolment import MAX_TTL

AGENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
_CSR_MAX = 16_384  # a P-256 CSR is ~500 bytes; RSA 4096 ~1.7 kB


class EnrolRequest(BaseModel):
    token: str = Field(max_length=256, description="The one-time enrolment token (nco_…)")
    name: str = Field(pattern=AGENT_NAME, description="The agent's name")
    csr: str = Field(max_length=_CSR_MAX, description="PEM certificate signing request")


class RotateRequest(BaseModel):
    csr: str = Field(max_length=_CSR_MAX, description="PEM CSR for a new key")


class AgentCertIssued(BaseModel):
    name: str
    serial: str
    certificate: str
    """PEM of the agent's new client certificate."""
    ca: str
    """PEM of the CA that issued it."""
    ca_fingerprint: str
    not_after: UtcDateTime
    registration_token: str | None = None
    """Enrolment only, shown once: what the agent registers with from now on."""


class EnrolmentTokenCreate(BaseModel):
    ttl_seconds: int = Field(3600, ge=60, le=int(MAX_TTL.total_seconds()))
    for_name: str | None = Field(None, pattern=AGENT_NAME, description="Only this agent")


class EnrolmentTokenOut(BaseModel):
    id: str
    state: str
    """``valid``, ``used``, ``expired`` or ``revoked``."""
    created_at: UtcDateTime
    expires_at: UtcDateTime
    for_name: str | None
    used_at: UtcDateTime | None
    used_by: str | None
    revoked_at: UtcDateTime | None
    created_by: str | None


class EnrolmentTokenCreated(EnrolmentTokenOut):
    token: str
    """The secret, shown this once."""
    ca_fingerprint: str | None
    """What the agent pins (``--ca-fingerprint``); None when the server has no CA yet."""


class AgentCertOut(BaseModel):
    serial: str
    agent_name: str
    state: str
    """``valid``, ``expired`` or ``revoked``."""
    issued_at: UtcDateTime
    not_after: UtcDateTime
    revoked_at: UtcDateTime | None


class AgentCertRevoked(AgentCertOut):
    cut_off: bool
    """True when this was the agent's last valid certificate: its tokens were revoked."""


class CaOut(BaseModel):
    fingerprint: str
    subject: str
    not_before: UtcDateTime
    not_after: UtcDateTime
    certificate: str
    tls: bool
    client_certs: str
    """``off``, ``optional`` or ``required``."""
