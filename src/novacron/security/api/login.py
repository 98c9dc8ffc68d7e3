"""``/api/v1/auth/login`` and ``/logout``: web sessions for API clients and pages alike."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from novacron.core.database import Database
from novacron.security import sessions
from novacron.security.api import _events
from novacron.security.auth import require_user
from novacron.security.schemas import Login, LoginOut
from novacron.security.signin import sign_in
from novacron.security.tokens import Principal

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def set_session_cookie(request: Request, response: Response, new: sessions.NewSession) -> None:
    https = request.url.scheme == "https"
    response.set_cookie(
        sessions.cookie_name(https),
        new.cookie,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=https,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    https = request.url.scheme == "https"
    response.delete_cookie(
        sessions.cookie_name(https), path="/", httponly=True, samesite="strict", secure=https
    )


@router.post("/login", response_model=LoginOut)
def login(request: Request, response: Response, body: Login) -> LoginOut:
    """Sign in with name and password (and ``code`` when two-factor is on); sets the
    session cookie. Repeated failures lock the account with growing back-off."""
    new = sign_in(request, body.name, body.password, body.code)
    set_session_cookie(request, response, new)
    return LoginOut(user=body.name.lower(), csrf_token=new.csrf, expires_at=new.row.expires_at)


@router.post("/logout", status_code=204)
def logout(
    request: Request, response: Response, principal: Principal = Depends(require_user)
) -> Response:
    db: Database = request.app.state.db
    if principal.session_id:
        with db.session() as s:
            sessions.revoke_session(s, principal.session_id)
    _events.record(request, "auth.logout")
    response.status_code = 204
    clear_session_cookie(request, response)
    return response
