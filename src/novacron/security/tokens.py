"""Issue and verify bearer tokens. Only a SHA-256 of each token is stored.

Tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing
to brute-force that a slow KDF would protect.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Unauthorized
from novacron.core.ids import new_id
from novacron.security.models import DEFAULT_PROJECT_ID, ApiToken, ProjectMember, User
from novacron.security.rbac import bump_policy_version

PREFIXES = {"user": "nct_", "agent": "nca_", "enrolment": "nce_"}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (through a token or a web session) or an agent."""

    name: str
    kind: str
    """``user``, ``agent`` or ``enrolment``."""
    token_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    scopes: tuple[str, ...] = ("*",)
    bound_project_id: str | None = None
    """Set for tokens bound to one project: they cannot act in another."""
    needs_touch: bool = False
    password_reset: bool = False
    """The user's password was set by an administrator: every credential of theirs
    reaches only their own account (and sign-out) until they choose their own."""

    @property
    def via(self) -> str:
        return "session" if self.session_id else "token"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    name: str,
    kind: str = "user",
    role: str = "admin",
    token: str | None = None,
    *,
    user_id: str | None = None,
    scopes: list[str] | None = None,
    project_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the only copy of the secret."""
    secret = token or PREFIXES[kind] + secrets.token_urlsafe(32)
    row = ApiToken(
        id=new_id("tok"),
        name=name,
        kind=kind,
        role=role,
        prefix=secret[:8],
        token_hash=hash_token(secret),
        user_id=user_id,
        scopes=scopes if scopes is not None else ["*"],
        project_id=project_id,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, token: str | None, kinds: tuple[str, ...]) -> Principal:
    if not token:
        raise Unauthorized("missing bearer token")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.kind not in kinds:
        raise Unauthorized("invalid or revoked token")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("token expired")
    name, password_reset = row.name, False
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is None or user.disabled_at is not None:
            raise Unauthorized("invalid or revoked token")
        name, password_reset = user.name, user.must_change_password
    stale = row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60
    return Principal(
        name=name,
        kind=row.kind,
        token_id=row.id,
        user_id=row.user_id,
        scopes=tuple(row.scopes or ()),
        bound_project_id=row.project_id,
        needs_touch=stale,
        password_reset=password_reset,
    )


def touch(session: Session, token_id: str, source_ip: str | None = None) -> None:
    """Record use of a token (at most once a minute, so reads stay read-only)."""
    values: dict[str, object] = {"last_used_at": utcnow()}
    if source_ip:
        values["last_used_ip"] = source_ip[:64]
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(**values))


def write_secret_file(path: Path, secret: str) -> None:
    """Write a secret readable by its owner only (0600), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_bootstrap_secrets(
    session: Session, data_dir: Path, enrolment_token: str | None, *, reissue_admin: bool = False
) -> dict[str, Path]:
    """On first start: an admin token and an enrolment token, written to the data dir.

    Returns the files written this time (empty when both already existed).
    """
    written: dict[str, Path] = {}
    if session.get_bind().dialect.name == "postgresql":
        # Replicas starting together must agree on one admin token.
        session.execute(text("SELECT pg_advisory_xact_lock(7412)"))
    admin = _ensure_admin_user(session)
    # Tokens made before users existed act for the admin user.
    session.execute(
        update(ApiToken)
        .where(ApiToken.kind == "user", ApiToken.name == "admin", ApiToken.user_id.is_(None))
        .values(user_id=admin.id)
    )
    has_admin = session.scalar(
        select(ApiToken.id).where(ApiToken.kind == "user", ApiToken.user_id == admin.id).limit(1)
    )
    admin_file = data_dir / "admin-token"
    if not has_admin or (reissue_admin and not admin_file.exists()):
        # With reissue_admin (novacron up: the data dir is this machine's), a lost
        # token file gets a new admin token instead of locking the owner out.
        _, secret = issue_token(session, "admin", "user", "admin", user_id=admin.id)
        write_secret_file(data_dir / "admin-token", secret)
        written["admin"] = data_dir / "admin-token"
    if enrolment_token:
        if not session.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(enrolment_token))
        ):
            issue_token(session, "enrolment", "enrolment", "agent", token=enrolment_token)
    elif not session.scalar(select(ApiToken.id).where(ApiToken.kind == "enrolment").limit(1)):
        _, secret = issue_token(session, "enrolment", "enrolment", "agent")
        write_secret_file(data_dir / "enrolment-token", secret)
        written["enrolment"] = data_dir / "enrolment-token"
    return written


def _ensure_admin_user(session: Session) -> User:
    """The first platform admin, ``admin``, also admin of the default project. It has no
    password until one is set (``novacron user passwd admin``): its token is the way in."""
    admin = session.scalar(select(User).where(User.name == "admin"))
    if admin is None:
        admin = User(id=new_id("usr"), name="admin", display_name="Administrator")
        admin.platform_admin = True
        session.add(admin)
        session.flush()
        session.add(ProjectMember(project_id=DEFAULT_PROJECT_ID, user_id=admin.id, role="admin"))
        bump_policy_version(session)
        session.flush()
    return admin
