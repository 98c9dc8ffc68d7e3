"""The caller's own account: who am I, password, two-factor, API tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.errors import Invalid, NotFound, NovaCronError
from novacron.security import passwords, totp, users
from novacron.security.api import _events
from novacron.security.auth import require_user
from novacron.security.context import current_project
from novacron.security.models import ApiToken, Project, User
from novacron.security.rbac import Authorizer, scope_allows
from novacron.security.schemas import (
    PasswordChange,
    PasswordConfirm,
    ProjectRoles,
    RecoveryCodes,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TotpCode,
    TotpSetup,
    WhoAmI,
)
from novacron.security.secrets.wiring import seed_cipher_for
from novacron.security.tokens import Principal, issue_token

router = APIRouter(prefix="/api/v1", tags=["account"])

T = TypeVar("T")


def _me(s: Session, principal: Principal) -> User:
    assert principal.user_id is not None
    user = s.get(User, principal.user_id, with_for_update=True)
    if user is None:
        raise NotFound("no such user")
    return user


@router.get("/auth/whoami", response_model=WhoAmI)
def whoami(request: Request, principal: Principal = Depends(require_user)) -> WhoAmI:
    with db_of(request).read() as s:
        user = s.get(User, principal.user_id)
        assert user is not None
        grouped: dict[str, ProjectRoles] = {}
        for project, role in users.memberships(s, user.id):
            grouped.setdefault(project.id, ProjectRoles(id=project.id, name=project.name, roles=[]))
            grouped[project.id].roles.append(role)
        if user.platform_admin:
            for project in s.scalars(select(Project).order_by(Project.name)):
                entry = grouped.setdefault(
                    project.id, ProjectRoles(id=project.id, name=project.name, roles=[])
                )
                entry.roles.append("platform-admin")
        return WhoAmI(
            name=user.name,
            user_id=user.id,
            platform_admin=user.platform_admin,
            via=principal.via,
            project=current_project(request),
            projects=sorted(grouped.values(), key=lambda p: p.name),
            scopes=list(principal.scopes),
            mfa_enabled=user.totp_enabled_at is not None,
            must_change_password=user.must_change_password,
        )


@router.post("/auth/password", status_code=204)
def change_password(
    request: Request, body: PasswordChange, principal: Principal = Depends(require_user)
) -> None:
    """Change your password; every one of your web sessions ends."""

    def change(s: Session, user: User) -> None:
        if user.must_change_password and passwords.verify_password(
            user.password_hash, body.new_password
        ):
            raise Invalid(
                "new_password: choose a password of your own, not the one an administrator set",
                errors=[{"loc": ["body", "new_password"], "msg": "same as the temporary one"}],
            )
        users.set_password(s, user, body.new_password, current=None)
        user.must_change_password = False

    _after_password(
        request, principal, body.current_password, "current_password", change, allow_unset=True
    )
    _events.record(request, "auth.password.change", target=f"user:{principal.name}")


@router.post("/auth/totp/setup", response_model=TotpSetup)
def totp_setup(request: Request, principal: Principal = Depends(require_user)) -> TotpSetup:
    """Start two-factor set-up: scan ``uri`` into an authenticator app, then confirm."""
    with db_of(request).session() as s:
        enrolment = totp.begin(_me(s, principal), seed_cipher_for(request.app))
    _events.record(request, "auth.mfa.setup", target=f"user:{principal.name}")
    return TotpSetup(secret=enrolment.secret, uri=enrolment.uri)


@router.post("/auth/totp/confirm", response_model=RecoveryCodes)
def totp_confirm(
    request: Request, body: TotpCode, principal: Principal = Depends(require_user)
) -> RecoveryCodes:
    with db_of(request).session() as s:
        codes = totp.confirm(s, _me(s, principal), body.code, seed_cipher_for(request.app))
    _events.record(request, "auth.mfa.enable", target=f"user:{principal.name}")
    return RecoveryCodes(recovery_codes=codes)


def _after_password(
    request: Request,
    principal: Principal,
    password: str,
    field: str,
    change: Callable[[Session, User], T],
    *,
    allow_unset: bool = False,
) -> T:
    """``change`` the caller's account once their password is confirmed. A wrong password
    counts towards lockout, and that count is committed before the error is raised.
    ``allow_unset``: a user without a password yet (the bootstrap admin, signed in with
    its token) has none to confirm."""
    failure: NovaCronError | None = None
    with db_of(request).session() as s:
        user = _me(s, principal)
        try:
            if user.password_hash is not None or not allow_unset:
                users.confirm_password(user, password, field)
        except NovaCronError as exc:
            failure = exc
        else:
            return change(s, user)
    assert failure is not None
    raise failure


@router.post("/auth/totp/disable", status_code=204)
def totp_disable(
    request: Request, body: PasswordConfirm, principal: Principal = Depends(require_user)
) -> None:
    _after_password(request, principal, body.password, "password", totp.disable)
    _events.record(request, "auth.mfa.disable", target=f"user:{principal.name}")


@router.post("/auth/recovery-codes", response_model=RecoveryCodes)
def new_recovery_codes(
    request: Request, body: PasswordConfirm, principal: Principal = Depends(require_user)
) -> RecoveryCodes:
    """Replace your recovery codes (the old ones stop working)."""

    def renew(s: Session, user: User) -> list[str]:
        if user.totp_enabled_at is None:
            raise Invalid("two-factor authentication is off: there is nothing to recover")
        return totp.new_recovery_codes(s, user)

    codes = _after_password(request, principal, body.password, "password", renew)
    _events.record(request, "auth.mfa.recovery_codes", target=f"user:{principal.name}")
    return RecoveryCodes(recovery_codes=codes)


# -- API tokens -----------------------------------------------------------------------------


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(request: Request, principal: Principal = Depends(require_user)) -> list[TokenOut]:
    """Your API tokens (never their secrets)."""
    with db_of(request).read() as s:
        rows = s.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == principal.user_id, ApiToken.kind == "user")
            .order_by(ApiToken.created_at)
        )
        return [TokenOut.model_validate(r) for r in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    request: Request, body: TokenCreate, principal: Principal = Depends(require_user)
) -> TokenCreated:
    """A new token for scripts: scoped, optionally bound to a project, expiring. A token
    made with a token never has wider scopes than the token that made it."""
    wider = [s for s in body.scopes if not _within(principal.scopes, s)]
    if wider:
        raise Invalid(
            f"scopes: wider than this token's own ({', '.join(wider)})",
            errors=[{"loc": ["body", "scopes"], "msg": "wider than the calling token"}],
        )
    with db_of(request).session() as s:
        project_id = None
        if body.project is not None:
            project = s.scalar(
                select(Project).where((Project.id == body.project) | (Project.name == body.project))
            )
            authorizer: Authorizer = request.app.state.authorizer
            if project is None or (
                principal.user_id is not None
                and not authorizer.roles(principal.user_id, project.id)
                and "*" not in authorizer.projects_of(principal.user_id)
            ):
                raise Invalid(
                    f"project: no project {body.project!r} of yours",
                    errors=[{"loc": ["body", "project"], "msg": "not a project of yours"}],
                )
            project_id = project.id
        bound = principal.bound_project_id
        if bound is not None and project_id not in (None, bound):
            # A bound token must not mint a key to another project.
            raise Invalid(
                "project: this token is bound to another project",
                errors=[{"loc": ["body", "project"], "msg": "not the calling token's project"}],
            )
        project_id = project_id or bound
        expires_at = utcnow() + timedelta(days=body.expires_in_days)
        parent = s.get(ApiToken, principal.token_id) if principal.token_id else None
        if parent is not None and parent.expires_at is not None:
            # Nor outlive it: a short-lived token cannot buy itself a longer life.
            expires_at = min(expires_at, parent.expires_at)
        row, secret = issue_token(
            s,
            body.name,
            "user",
            "user",
            user_id=principal.user_id,
            scopes=body.scopes,
            project_id=project_id,
            expires_at=expires_at,
        )
        out = TokenCreated(**TokenOut.model_validate(row).model_dump(), token=secret)
    _events.record(
        request,
        "token.create",
        target=f"token:{out.id}",
        detail={"name": body.name, "scopes": body.scopes, "project_id": project_id},
    )
    return out


def _within(own: tuple[str, ...], scope: str) -> bool:
    if scope == "*":
        return "*" in own
    res, _, act = scope.partition(":")
    if act == "*":
        return all(scope_allows(own, res, a) for a in ("read", "write", "approve"))
    return scope_allows(own, res, act)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    request: Request, token_id: str, principal: Principal = Depends(require_user)
) -> None:
    with db_of(request).session() as s:
        row = s.get(ApiToken, token_id)
        if row is None or row.user_id != principal.user_id or row.kind != "user":
            raise NotFound(f"no token {token_id!r} of yours")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
    _events.record(request, "token.revoke", target=f"token:{token_id}")
