"""API tokens: users' bearer tokens, agents' credentials and the enrolment secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    """``user`` (people and scripts), ``agent`` (one per agent) or ``enrolment``."""
    role: Mapped[str] = mapped_column(String(32), default="admin")
    prefix: Mapped[str] = mapped_column(String(16))
    """First characters of the token, shown in listings so a token can be recognised."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
