"""ORM models of the security slice: projects (tenants) and their members, users, web
sessions, API tokens, recovery codes and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped

DEFAULT_PROJECT_ID = "proj-default"


class Project(Timestamped, Base):
    """A tenant: it owns VMs, images, placement groups and corporate records."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(String(512), default="")
    # Quotas: None is unlimited. Checked when a VM is placed.
    quota_vms: Mapped[int | None] = mapped_column(Integer)
    quota_vcpus: Mapped[int | None] = mapped_column(Integer)
    quota_memory_mib: Mapped[int | None] = mapped_column(Integer)
    quota_disk_gib: Mapped[int | None] = mapped_column(Integer)


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    """Login name, lower case."""
    display_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    """Argon2id PHC string; None for single-sign-on-only users."""
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(512))
    """The sealed seed (``nsec$…``, see ``totp_seeds``); never the plaintext."""
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The last TOTP time step accepted: a code is good once."""
    oidc_issuer: Mapped[str | None] = mapped_column(String(512))
    oidc_subject: Mapped[str | None] = mapped_column(String(256))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)


class ProjectMember(Timestamped, Base):
    """A user's role in a project; the casbin grouping policy ``g, user, role, project``."""

    __tablename__ = "project_members"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A browser sign-in. Only hashes of the cookie and of the CSRF token are stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mfa_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    """Password accepted, second factor still to come: the session grants nothing yet."""
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


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
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    """The user a ``user`` token acts for; it never has more rights than its user."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """What the token may do, e.g. ``["compute:read", "corporate:write"]``; ``*`` is all."""
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    """A token bound to one project cannot act in another."""
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditRecord(Base):
    """One entry of the append-only audit log (NIST SP 800-53 AU-3 content).

    ``hash`` = SHA-256 over ``prev_hash`` and the canonical JSON of the other fields, so
    changing, inserting or deleting any record breaks every hash after it."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    """Who: the user or agent name, ``anonymous`` for unauthenticated requests."""
    actor_kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(128))
    """What: ``vm.create``, ``auth.login``, ``http.post`` …"""
    target: Mapped[str] = mapped_column(String(512), default="")
    project_id: Mapped[str | None] = mapped_column(String(64))
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    """``success``, ``failure`` (the action failed) or ``denied`` (not allowed)."""
    status_code: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_log_ts", "ts"),
        Index("ix_audit_log_actor_ts", "actor", "ts"),
    )


class AuditAnchor(Base):
    """Where the retained chain starts after old records were pruned (one row)."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    """The last pruned record's seq; the chain resumes at the next one."""
    hash: Mapped[str] = mapped_column(String(64))
    pruned_total: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_at: Mapped[datetime] = mapped_column(DateTime)


class SecurityState(Base):
    """Counters that every replica reads to learn that its cached policy is stale."""

    __tablename__ = "security_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
