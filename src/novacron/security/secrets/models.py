"""ORM models of secrets (tables created by migration 0012)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped


class Secret(Timestamped, Base):
    """One sealed secret of a project. ``sealed`` is ``Sealed.dumps()``: no plaintext here.

    ``key_id`` repeats the master key named inside ``sealed`` so key usage is one
    ``GROUP BY``; ``revision`` is the compare-and-set counter of ``SecretStore``.
    """

    __tablename__ = "secrets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    sealed: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(128), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128), default="")

    __table_args__ = (UniqueConstraint("project_id", "name"),)
