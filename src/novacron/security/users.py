"""Use cases of user accounts: create, sign in with back-off and lockout, passwords,
disable; project membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid, NotFound, Unauthorized
from novacron.core.ids import new_id
from novacron.security import passwords, totp
from novacron.security.lockout import LockoutPolicy
from novacron.security.models import Project, ProjectMember, User
from novacron.security.rbac import ROLES, bump_policy_version
from novacron.security.sessions import revoke_user_sessions

LOCKOUT = LockoutPolicy()
BAD_LOGIN = "wrong user name or password"


class LockedOut(Unauthorized):
    title = "Account locked"
    type_slug = "locked"

    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, round(retry_after_s))
        super().__init__(f"too many failed sign-ins: try again in {seconds} s")
        self.retry_after_s = seconds


@dataclass(frozen=True)
class SignIn:
    """A password check that passed; ``mfa_required`` when a TOTP code must follow."""

    user: User
    mfa_required: bool


def find_user(session: Session, ref: str, *, lock: bool = False) -> User:
    stmt = select(User).where(or_(User.id == ref, User.name == ref.lower()))
    if lock:
        stmt = stmt.with_for_update()
    user = session.scalar(stmt)
    if user is None:
        raise NotFound(f"no user {ref!r}")
    return user


def create_user(
    session: Session,
    name: str,
    *,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    platform_admin: bool = False,
) -> User:
    name = name.lower()
    if session.scalar(select(User.id).where(User.name == name)):
        raise Conflict(f"a user named {name!r} exists")
    user = User(
        id=new_id("usr"),
        name=name,
        display_name=display_name,
        email=email,
        platform_admin=platform_admin,
        failed_logins=0,
        must_change_password=False,
    )
    if password is not None:
        passwords.check_policy(password, name)
        user.password_hash = passwords.hash_password(password)
        user.password_changed_at = utcnow()
    session.add(user)
    session.flush()
    if platform_admin:
        bump_policy_version(session)
    return user


def set_password(session: Session, user: User, new_password: str, *, current: str | None) -> None:
    """Change a password (``current`` is required unless an admin resets it: None), and
    end every session of the user."""
    if current is not None:
        confirm_password(user, current, "current_password")
    passwords.check_policy(new_password, user.name, "new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = current is None
    user.failed_logins, user.locked_until = 0, None
    revoke_user_sessions(session, user.id)


def confirm_password(user: User, password: str, field: str = "password") -> None:
    """Re-check a signed-in user's password before a sensitive change. Wrong answers count
    towards the same lockout as sign-ins, or a stolen session would be a way to guess the
    password without limit: commit the session even when this raises."""
    now = utcnow()
    remaining = LOCKOUT.locked(user.locked_until, now)
    if remaining:
        raise LockedOut(remaining)
    if not passwords.verify_password(user.password_hash, password):
        _count_failure(user, now)
        raise Invalid(
            f"{field}: wrong password",
            errors=[{"loc": ["body", field], "msg": "wrong password"}],
        )


def _count_failure(user: User, now: datetime) -> None:
    user.failed_logins += 1
    lock = LOCKOUT.lock_for(user.failed_logins)
    if lock is not None:
        user.locked_until = now + lock


def check_password(session: Session, name: str, password: str) -> SignIn:
    """Verify a sign-in. Failures count towards lockout; the error never says whether
    the user exists. Commit the session even when this raises: the count must stick."""
    now = utcnow()
    user = session.scalar(select(User).where(User.name == name.strip().lower()))
    if user is not None:
        remaining = LOCKOUT.locked(user.locked_until, now)
        if remaining:
            raise LockedOut(remaining)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or user.disabled_at is not None or not ok:
        if user is not None:
            _count_failure(user, now)
        raise Unauthorized(BAD_LOGIN)
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    mfa_required = user.totp_enabled_at is not None
    if not mfa_required:
        # With two-factor on, only a good code clears the count: otherwise each correct
        # password would reset it and the six-digit code could be guessed without end.
        user.failed_logins, user.locked_until = 0, None
    return SignIn(user, mfa_required=mfa_required)


def finish_sign_in(user: User) -> None:
    user.last_login_at = utcnow()


def check_second_factor(session: Session, user: User, code: str, cipher: totp.SeedCipher) -> str:
    """A TOTP code or a recovery code; returns which one was used. Failures count
    towards the same lockout as passwords."""
    now = utcnow()
    remaining = LOCKOUT.locked(user.locked_until, now)
    if remaining:
        raise LockedOut(remaining)
    used = totp.verify_second_factor(session, user, code, cipher)
    if used is None:
        _count_failure(user, now)
        raise Unauthorized("wrong or already used code")
    user.failed_logins, user.locked_until = 0, None
    return used


def reset_second_factor(session: Session, user: User) -> None:
    """An admin turns a user's two-factor off (a lost phone and lost recovery codes): the
    seed and codes go, and so do the user's sessions; they sign in with the password and
    set two-factor up again."""
    totp.disable(session, user)
    revoke_user_sessions(session, user.id)


def disable_user(session: Session, user: User) -> None:
    if user.platform_admin and _active_platform_admins(session) <= 1:
        raise Conflict("the last platform admin cannot be disabled")
    user.disabled_at = utcnow()
    revoke_user_sessions(session, user.id)
    bump_policy_version(session)


def enable_user(session: Session, user: User) -> None:
    user.disabled_at = None
    bump_policy_version(session)  # a disabled platform admin was left out of the grants


def _active_platform_admins(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.platform_admin.is_(True), User.disabled_at.is_(None))
        )
        or 0
    )


def set_platform_admin(session: Session, user: User, value: bool) -> None:
    if not value and user.platform_admin and _active_platform_admins(session) <= 1:
        raise Conflict("the last platform admin cannot lose the role")
    user.platform_admin = value
    bump_policy_version(session)


def grant(session: Session, project: Project, user: User, role: str) -> ProjectMember:
    if role not in ROLES:
        raise Invalid(
            f"role: unknown role {role!r}; one of {', '.join(ROLES)}",
            errors=[{"loc": ["body", "role"], "msg": f"one of {', '.join(ROLES)}"}],
        )
    member = session.get(ProjectMember, (project.id, user.id, role))
    if member is None:
        member = ProjectMember(project_id=project.id, user_id=user.id, role=role)
        session.add(member)
        session.flush()
        bump_policy_version(session)
    return member


def revoke(session: Session, project: Project, user: User, role: str) -> None:
    member = session.get(ProjectMember, (project.id, user.id, role))
    if member is None:
        raise NotFound(f"{user.name} is not {role} in {project.name}")
    if role == "admin" and _project_admins(session, project.id) <= 1:
        raise Conflict(f"{project.name} would have no admin left")
    session.delete(member)
    bump_policy_version(session)


def _project_admins(session: Session, project_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.role == "admin")
        )
        or 0
    )


def members(session: Session, project_id: str) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, ProjectMember.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.name, ProjectMember.role)
    )
    return [(u, r) for u, r in rows]


def memberships(session: Session, user_id: str) -> list[tuple[Project, str]]:
    rows = session.execute(
        select(Project, ProjectMember.role)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user_id)
        .order_by(Project.name, ProjectMember.role)
    )
    return [(p, r) for p, r in rows]
