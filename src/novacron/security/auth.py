"""FastAPI dependencies that authenticate a request's bearer token (header or UI cookie)."""

from __future__ import annotations

from fastapi import Request

from novacron.core.errors import Unauthorized
from novacron.security.tokens import Principal, authenticate, touch

COOKIE = "novacron_token"


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if header:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return request.cookies.get(COOKIE)


def _principal(request: Request, kinds: tuple[str, ...]) -> Principal:
    db = request.app.state.db
    with db.read() as s:
        principal = authenticate(s, bearer(request), kinds)
    if principal.needs_touch:
        with db.session() as s:
            touch(s, principal.token_id)
    request.state.principal = principal
    return principal


def require_user(request: Request) -> Principal:
    return _principal(request, ("user",))


def require_agent(request: Request) -> Principal:
    return _principal(request, ("agent",))
