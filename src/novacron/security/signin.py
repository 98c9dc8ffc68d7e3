"""Sign-in as one use case for the API and the web form: password, then second factor,
then a session; every attempt is audited, failures count towards lockout."""

from __future__ import annotations

from fastapi import Request

from novacron.core.database import Database
from novacron.core.errors import Unauthorized
from novacron.security import events, sessions, users
from novacron.security.audit.middleware import declared_status
from novacron.security.auth import client_ip
from novacron.security.models import User
from novacron.security.secrets.wiring import seed_cipher_for
from novacron.security.tokens import authenticate


class SecondFactorRequired(Unauthorized):
    title = "Second factor required"
    type_slug = "mfa-required"


def sign_in(
    request: Request,
    name: str,
    password: str,
    code: str | None,
    *,
    success_status: int | None = None,
) -> sessions.NewSession:
    """A full session, or an error (audited either way). With TOTP on and no ``code``,
    raises :class:`SecondFactorRequired` and counts nothing against the user.
    ``success_status``: what the caller answers on success (the web form redirects: 303),
    for the audit record; by default the route's declared status."""
    db: Database = request.app.state.db
    failure: Unauthorized | None = None
    created: sessions.NewSession | None = None
    with db.session() as s:
        try:
            checked = users.check_password(s, name, password)
            if checked.mfa_required:
                if not code:
                    raise SecondFactorRequired("enter the code from your authenticator app")
                users.check_second_factor(s, checked.user, code, seed_cipher_for(request.app))
            users.finish_sign_in(checked.user)
            created = sessions.open_session(
                s, checked.user, client_ip(request), request.headers.get("user-agent", "")
            )
        except Unauthorized as exc:
            failure = exc  # keep the failure count: commit, then raise
    _audit(request, name, failure, success_status=success_status)
    if failure is not None:
        raise failure
    assert created is not None
    return created


def sign_in_with_token(
    request: Request, token: str, *, success_status: int | None = None
) -> sessions.NewSession:
    """A session for the user of an unrestricted API token (the bootstrap admin token
    is how the first admin reaches the UI before setting a password)."""
    db: Database = request.app.state.db
    failure: Unauthorized | None = None
    created: sessions.NewSession | None = None
    with db.session() as s:
        try:
            principal = authenticate(s, token, ("user",))
            if principal.user_id is None or "*" not in principal.scopes:
                raise Unauthorized("only an unrestricted user token can open a session")
            if principal.bound_project_id:
                raise Unauthorized("only an unrestricted user token can open a session")
            user = s.get(User, principal.user_id)
            assert user is not None
            users.finish_sign_in(user)
            created = sessions.open_session(
                s, user, client_ip(request), request.headers.get("user-agent", "")
            )
            name = user.name
        except Unauthorized as exc:
            failure, name = exc, "token"
    _audit(request, name, failure, method="token", success_status=success_status)
    if failure is not None:
        raise failure
    assert created is not None
    return created


def _audit(
    request: Request,
    name: str,
    failure: Unauthorized | None,
    method: str = "password",
    *,
    success_status: int | None = None,
) -> None:
    if failure is None:
        events.record(
            request,
            "auth.login",
            actor=name.lower(),
            detail={"method": method},
            status_code=success_status or declared_status(request.scope),
        )
    elif isinstance(failure, SecondFactorRequired):
        events.record(
            request,
            "auth.login.mfa_required",
            actor=name.lower(),
            outcome="denied",
            detail={"method": method},
            status_code=failure.status,
        )
    else:
        action = "auth.lockout" if isinstance(failure, users.LockedOut) else "auth.login"
        events.record(
            request,
            action,
            actor=name.lower(),
            outcome="failure",
            detail={"method": method, "reason": failure.detail},
            status_code=failure.status,
        )
