"""FastAPI dependencies that authenticate a request's bearer token (header or UI cookie)."""

from __future__ import annotations

from fastapi import Request

from novacron.core.database import Database
from novacron.core.errors import Forbidden, Unauthorized
from novacron.security.tokens import Principal, authenticate, touch

COOKIE = "novacron_token"


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if header:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    cookie = request.cookies.get(COOKIE)
    if cookie and request.method not in SAFE_METHODS:
        _same_origin_only(request)
    return cookie


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin_only(request: Request) -> None:
    """Browsers attach the session cookie to cross-site form posts too (SameSite only
    stops other *sites*, not other ports on this host): a change made with the cookie
    must come from our own pages."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise Forbidden(f"cross-origin request refused ({fetch_site})")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden(f"cross-origin request refused (origin {origin})")


def principal_for(db: Database, token: str | None, kinds: tuple[str, ...]) -> Principal:
    """Authenticate in a read-only transaction; record the token's use at most once a minute."""
    with db.read() as s:
        principal = authenticate(s, token, kinds)
    if principal.needs_touch:
        with db.session() as s:
            touch(s, principal.token_id)
    return principal


def _principal(request: Request, kinds: tuple[str, ...]) -> Principal:
    principal = principal_for(request.app.state.db, bearer(request), kinds)
    request.state.principal = principal
    return principal


def require_user(request: Request) -> Principal:
    return _principal(request, ("user",))


def require_agent(request: Request) -> Principal:
    return _principal(request, ("agent",))
