"""ORM models of pki (tables created by migration 0014): one-time agent enrolment tokens
and the agent certificates the CA issued.

Times are naive UTC, as everywhere the project stores them. A certificate's serial is
kept as lower-case hex (up to 159 bits: 40 characters), the form ``openssl x509
-serial`` and our CLI show, so an operator can paste it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base


class AgentEnrolmentToken(Base):
    """A one-time token a new agent exchanges for its first certificate."""

    __tablename__ = "agent_enrolment_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the secret (256 random bits: no slow hash needed)."""
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    for_name: Mapped[str | None] = mapped_column(String(64))
    """The only agent name that may use it; None for any."""
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(128))


class AgentCertificate(Base):
    """A client certificate issued to an agent (enrolment or rotation)."""

    __tablename__ = "agent_certificates"

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    agent_name: Mapped[str] = mapped_column(String(64), index=True)
    not_after: Mapped[datetime] = mapped_column(DateTime)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
