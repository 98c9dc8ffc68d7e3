"""Claims to an account: find by ``(iss, sub)`` or create (sanitised, de-duplicated
name), default role for newcomers, platform admin following the admin group."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict
from novacron.security import users
from novacron.security.models import Project, User
from novacron.security.oidc.config import AccountDisabled, OidcConfig

log = logging.getLogger("novacron.security.oidc")

USER_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")
_NAME_MAX = 63


def sanitise_name(raw: str) -> str:
    """A user name matching ``^[a-z][a-z0-9._-]{1,62}$`` made from a claim value:
    ASCII-folded, lower case, the part before any ``@``, other characters as ``-``."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = text.split("@", 1)[0]
    text = re.sub(r"[^a-z0-9._-]+", "-", text)
    text = re.sub(r"^[^a-z]+", "", text)[:_NAME_MAX].rstrip("._-")
    if len(text) < 2:
        text = f"user-{text}" if text else "user"
    return text


def unique_name(session: Session, base: str) -> str:
    """``base``, else ``base-2``, ``base-3`` … (shortened to fit) — the first free."""
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        candidate = base[: _NAME_MAX - len(suffix)].rstrip("._-") + suffix
        if session.scalar(select(User.id).where(User.name == candidate)) is None:
            return candidate
    raise Conflict(f"no free user name left for {base!r}")


def in_group(claims: dict[str, Any], group: str) -> bool:
    groups = claims.get("groups")
    if isinstance(groups, str):
        groups = [groups]
    return isinstance(groups, list) and group in groups


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    created: bool
    granted: tuple[str, str] | None = None
    """``(project name, role)`` given to a new user."""
    platform_admin_changed: bool = False


def user_for_claims(session: Session, cfg: OidcConfig, claims: dict[str, Any]) -> SsoSignIn:
    """Find the account of ``(iss, sub)`` or make one; keep profile and platform admin
    in step with the provider. The caller commits and opens the session."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    user = _find(session, issuer, subject)
    if user is not None and user.disabled_at is not None:
        raise AccountDisabled(user.name)
    created, granted = False, None
    if user is None:
        user, created = _create(session, cfg, claims, issuer, subject)
        if created:
            granted = _grant_default(session, cfg, user)
    else:  # the provider owns the profile of its users
        display, email = _profile(claims)
        if display and display != user.display_name:
            user.display_name = display
        if email and email != user.email:
            user.email = email
    changed = False
    if cfg.admin_group is not None:
        wanted = in_group(claims, cfg.admin_group)
        if wanted != user.platform_admin:
            try:
                users.set_platform_admin(session, user, wanted)
                changed = True
            except Conflict:  # the last platform admin keeps the role; say why in the log
                log.warning("%s left %s but is the last platform admin", user.name, cfg.admin_group)
    users.finish_sign_in(user)
    return SsoSignIn(user, created, granted, changed)


def _profile(claims: dict[str, Any]) -> tuple[str, str]:
    """Display name and email; an email the provider says is unverified is left out."""
    display, email = claims.get("name"), claims.get("email")
    if claims.get("email_verified") is False:
        email = None
    return (
        display[:128] if isinstance(display, str) else "",
        email[:256] if isinstance(email, str) else "",
    )


def _find(session: Session, issuer: str, subject: str) -> User | None:
    return session.scalar(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )


def _create(
    session: Session, cfg: OidcConfig, claims: dict[str, Any], issuer: str, subject: str
) -> tuple[User, bool]:
    raw = next(
        (
            str(claims[c])
            for c in (cfg.username_claim, "preferred_username", "email")
            if isinstance(claims.get(c), str) and claims[c].strip()
        ),
        "user",
    )
    display, email = _profile(claims)
    try:
        # A savepoint: a concurrent first sign-in of the same subject wins the unique
        # (issuer, subject) constraint, and this one then finds its account.
        with session.begin_nested():
            user = users.create_user(
                session,
                unique_name(session, sanitise_name(raw)),
                display_name=display,
                email=email,
                platform_admin=False,
            )
            user.oidc_issuer, user.oidc_subject = issuer, subject
            session.flush()
    except (IntegrityError, Conflict) as exc:
        existing = _find(session, issuer, subject)
        if existing is None:
            raise Conflict(
                "another sign-in took this user name at the same moment: try again"
            ) from exc
        return existing, False
    return user, True


def _grant_default(session: Session, cfg: OidcConfig, user: User) -> tuple[str, str] | None:
    if not (cfg.default_project and cfg.default_role):
        return None
    project = session.scalar(
        select(Project).where(
            (Project.id == cfg.default_project) | (Project.name == cfg.default_project)
        )
    )
    if project is None:
        log.warning("oidc_default_project %r does not exist: no role granted", cfg.default_project)
        return None
    users.grant(session, project, user, cfg.default_role)
    return project.name, cfg.default_role
