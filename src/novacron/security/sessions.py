"""Browser sessions: an opaque cookie, stored only as a hash, and its CSRF token.

The cookie is HttpOnly and SameSite=Strict (``Secure`` and the ``__Host-`` prefix over
HTTPS). Every state-changing request made with it must also carry the session's CSRF
token (header ``X-CSRF-Token`` or form field ``csrf_token``), on top of the Origin check
in :mod:`novacron.security.auth`. The token is an HMAC of the cookie: pages can render it
from the request, nothing more is stored, and a script on another origin cannot compute it
because it cannot read the HttpOnly cookie (OWASP's signed double-submit cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Forbidden, Unauthorized
from novacron.core.ids import new_id
from novacron.security.models import User, WebSession
from novacron.security.tokens import Principal, hash_token

COOKIE = "novacron_session"
SECURE_COOKIE = "__Host-novacron_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

IDLE_TIMEOUT = timedelta(hours=8)
ABSOLUTE_TIMEOUT = timedelta(days=7)
MFA_PENDING_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class NewSession:
    row: WebSession
    cookie: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.cookie)


def cookie_name(https: bool) -> str:
    return SECURE_COOKIE if https else COOKIE


def open_session(
    session: Session, user: User, source_ip: str, user_agent: str, *, mfa_pending: bool = False
) -> NewSession:
    now = utcnow()
    cookie = secrets.token_urlsafe(32)
    row = WebSession(
        id=new_id("ses"),
        user_id=user.id,
        token_hash=hash_token(cookie),
        mfa_pending=mfa_pending,
        created_at=now,
        expires_at=now + (MFA_PENDING_TIMEOUT if mfa_pending else ABSOLUTE_TIMEOUT),
        last_seen_at=now,
        source_ip=source_ip[:64],
        user_agent=user_agent[:256],
    )
    session.add(row)
    session.flush()
    return NewSession(row, cookie)


def find_session(
    session: Session, cookie: str | None, idle_timeout: timedelta = IDLE_TIMEOUT
) -> WebSession | None:
    """The live session of ``cookie`` (None when absent, expired, idle or revoked)."""
    if not cookie:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(cookie)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if not row.mfa_pending and now - row.last_seen_at > idle_timeout:
        return None
    return row


def session_principal(
    session: Session, cookie: str | None, idle_timeout: timedelta = IDLE_TIMEOUT
) -> Principal:
    row = find_session(session, cookie, idle_timeout)
    if row is None:
        raise Unauthorized("not signed in, or the session has expired")
    if row.mfa_pending:
        raise Unauthorized("second factor required")
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        raise Unauthorized("not signed in, or the session has expired")
    stale = (utcnow() - row.last_seen_at).total_seconds() > 60
    return Principal(
        name=user.name,
        kind="user",
        user_id=user.id,
        session_id=row.id,
        needs_touch=stale,
        password_reset=user.must_change_password,
    )


def touch_session(session: Session, session_id: str) -> None:
    session.execute(
        update(WebSession).where(WebSession.id == session_id).values(last_seen_at=utcnow())
    )


def csrf_for(cookie: str) -> str:
    return hmac.new(cookie.encode(), b"novacron-csrf", hashlib.sha256).hexdigest()


def check_csrf(cookie: str, provided: str | None) -> None:
    if not provided or not hmac.compare_digest(csrf_for(cookie), provided):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def revoke_session(session: Session, session_id: str, now: datetime | None = None) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def revoke_user_sessions(session: Session, user_id: str) -> int:
    """End every session of a user (password change, disable, lockout by an admin)."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
