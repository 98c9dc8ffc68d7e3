"""FastAPI dependencies that authenticate and authorize a request.

Credentials: a bearer token (``Authorization`` header) or the web session cookie (with its
CSRF token on every state-changing request). Authorization: the route's need
(:func:`novacron.security.rbac.classify`) must be covered by the token's scopes and by
the caller's roles in the project the request acts in (pycasbin, domains = projects).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.types import Scope

from novacron.core.database import Database
from novacron.core.errors import Forbidden, NotFound, Unauthorized
from novacron.security import sessions
from novacron.security.audit.log import AuditEntry, append
from novacron.security.context import PROJECT_COOKIE, PROJECT_HEADER, PROJECT_QUERY
from novacron.security.models import DEFAULT_PROJECT_ID, Project
from novacron.security.rbac import Authorizer, Need, classify, scope_allows
from novacron.security.tokens import Principal, authenticate, touch

MISSING_CREDENTIALS = "missing bearer token (or sign in for a session)"

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if header:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return None


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(sessions.SECURE_COOKIE) or request.cookies.get(sessions.COOKIE)


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


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def principal_for(db: Database, token: str | None, kinds: tuple[str, ...]) -> Principal:
    """Authenticate a bearer token in a read-only transaction; record its use at most
    once a minute."""
    with db.read() as s:
        principal = authenticate(s, token, kinds)
    if principal.needs_touch and principal.token_id:
        with db.session() as s:
            touch(s, principal.token_id)
    return principal


def _authenticate_user(request: Request, s: Session) -> Principal:
    token = bearer(request)
    if token is not None:
        return authenticate(s, token, ("user",))
    cookie = session_cookie(request)
    if cookie is None:
        raise Unauthorized(MISSING_CREDENTIALS)
    return sessions.session_principal(s, cookie, _idle_timeout(request))


def _idle_timeout(request: Request) -> timedelta:
    settings = getattr(request.app.state, "settings", None)
    minutes = getattr(settings, "session_idle_minutes", None)
    return timedelta(minutes=minutes) if minutes else sessions.IDLE_TIMEOUT


def _check_cookie_request(request: Request) -> None:
    """A change made with the session cookie must come from our pages, with the CSRF
    token (bearer tokens are never sent by a browser on its own: they need neither)."""
    if request.method in SAFE_METHODS:
        return
    _same_origin_only(request)
    cookie = session_cookie(request)
    assert cookie is not None
    # Pages send it from their <meta name="csrf-token"> in a header (live.js).
    sessions.check_csrf(cookie, request.headers.get(sessions.CSRF_HEADER))


def _requested_project(request: Request) -> str | None:
    """The project named by the URL, the header or the query (an explicit choice)."""
    ref = request.path_params.get("project_ref")
    if ref is None:
        ref = request.headers.get(PROJECT_HEADER) or request.query_params.get(PROJECT_QUERY)
    return ref or None


def _cookie_project(
    request: Request, s: Session, authorizer: Authorizer, principal: Principal
) -> str | None:
    """The UI's remembered project, while the user still holds a role there (a stale
    cookie falls back to the default instead of locking every page)."""
    ref = request.cookies.get(PROJECT_COOKIE)
    if not ref or principal.user_id is None:
        return None
    project_id = s.scalar(select(Project.id).where(or_(Project.id == ref, Project.name == ref)))
    if project_id is None:
        return None
    projects = authorizer.projects_of(principal.user_id)
    return project_id if project_id in projects or "*" in projects else None


def _resolve_project(s: Session, ref: str) -> str:
    project_id = s.scalar(select(Project.id).where(or_(Project.id == ref, Project.name == ref)))
    if project_id is None:
        raise NotFound(f"no project {ref!r}")
    return project_id


def _default_project(authorizer: Authorizer, principal: Principal) -> str:
    if principal.bound_project_id:
        return principal.bound_project_id
    assert principal.user_id is not None
    projects = authorizer.projects_of(principal.user_id)
    if "*" in projects or DEFAULT_PROJECT_ID in projects or not projects:
        return DEFAULT_PROJECT_ID
    return projects[0]


def authorize(
    request: Request, s: Session, authorizer: Authorizer, principal: Principal, need: Need
) -> str:
    """The project the request acts in, after checking scopes and roles there."""
    if principal.user_id is None:
        raise Forbidden("this token does not belong to a user")
    if not scope_allows(principal.scopes, need.resource, need.action):
        raise Forbidden(f"the token's scopes do not allow {need.scope}")
    ref = _requested_project(request)
    if ref:
        project_id = _resolve_project(s, ref)
    else:
        chosen = _cookie_project(request, s, authorizer, principal)
        project_id = chosen or _default_project(authorizer, principal)
    if principal.bound_project_id and project_id != principal.bound_project_id:
        raise Forbidden("this token is bound to another project")
    if need.resource == "self":
        return project_id
    if not authorizer.allowed(principal.user_id, project_id, need.resource, need.action):
        raise Forbidden(f"{principal.name} may not {need.action} {need.resource} in this project")
    return project_id


def route_template(scope: Scope) -> str | None:
    """The full path template of the matched route (``/api/v1/corporate/mdf/{id}/approve``).

    FastAPI keeps included routers nested: ``scope["route"]`` is the route as declared, its
    path relative to the router that declared it (``/mdf/{id}/approve``), so a route of a
    sub-router would be classified by its tail alone. The effective route context holds the
    path with every prefix; the plain route path is the fallback when there is none."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if isinstance(template, str) and template:
        return template
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def _route_need(request: Request) -> Need:
    return classify(request.method, route_template(request.scope) or request.url.path)


class PasswordChangeRequired(Forbidden):
    """A user whose password an administrator reset asked for more than their own
    account (with any credential): pages send them to the account page."""

    def __init__(self) -> None:
        super().__init__(
            "an administrator set your password: choose your own first "
            "(the Account page, or: novacron password)"
        )


def _check_password_reset(principal: Principal, need: Need) -> None:
    """Own account only (password, second factor, sign-out) until the password is theirs."""
    if principal.password_reset and need.resource != "self":
        raise PasswordChangeRequired()


def require_user(request: Request) -> Principal:
    """Dependency of every user route: authenticate, authorize, remember both."""
    db: Database = request.app.state.db
    authorizer: Authorizer = request.app.state.authorizer
    need = _route_need(request)
    with db.read() as s:
        principal = _authenticate_user(request, s)
        # Known before authorization, so a refused request is audited under its caller.
        request.state.principal = principal
        if principal.session_id:
            _check_cookie_request(request)
        _check_password_reset(principal, need)
        authorizer.refresh(s)
        project_id = authorize(request, s, authorizer, principal, need)
    if principal.needs_touch:
        with db.session() as s:
            if principal.session_id:
                sessions.touch_session(s, principal.session_id)
            elif principal.token_id:
                touch(s, principal.token_id, client_ip(request))
                # Where a token is used from, once a minute: the token-misuse rule's input.
                append(
                    s,
                    AuditEntry(
                        actor=principal.name,
                        action="token.use",
                        target=principal.token_id,
                        project_id=project_id,
                        source_ip=client_ip(request),
                        request_id=getattr(request.state, "request_id", ""),
                    ),
                )
    request.state.project_id = project_id
    return principal


def require_agent(request: Request) -> Principal:
    """An agent's bearer token and, when the server asks agents for mutual TLS, its
    client certificate (which must name the same agent)."""
    from novacron.security.pki.guard import require_agent_cert  # pki builds on auth

    principal = principal_for(request.app.state.db, bearer(request), ("agent",))
    request.state.principal = principal
    require_agent_cert(request)
    return principal
