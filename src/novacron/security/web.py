"""Pages of the security slice: your account (``/account``: any signed-in user) and the
platform admin's users, projects and audit log (``/security/…``: platform admins only;
:func:`novacron.security.rbac.classify` decides both from the path).

Pages render from the database (view models in ``web_views.py``); every change is a call
to the REST API from ``static/security.js``, so a change made in the UI is the same use
case, checked and audited the same way, as one made with the CLI. The routes here that
are not pages serve that script: fragments it re-fetches after a change, the two-factor
set-up with its QR code drawn on the server, and the sidebar's project switcher.

The sidebar (``web/base.html``) asks :func:`web_nav.nav_context` for the signed-in
user's projects and rights; it is registered below as a Jinja global.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from novacron.core.database import db_of
from novacron.core.errors import Forbidden, NotFound
from novacron.security.api import account as account_api
from novacron.security.auth import require_user
from novacron.security.context import PROJECT_COOKIE
from novacron.security.models import User
from novacron.security.tokens import Principal
from novacron.security.web_nav import may_act_in, nav_context
from novacron.security.web_views import (
    OUTCOMES,
    AuditFilter,
    account_context,
    audit_context,
    own_project_context,
    project_context,
    project_row_context,
    projects_context,
    qr_svg,
    tokens_context,
    user_row_context,
    users_context,
)
from novacron.web import ui

PROJECT_COOKIE_AGE = timedelta(days=365)


class PageRoute(APIRoute):
    """A page answers a refusal or a missing object with the HTML error page and the same
    status (403, 404), not with the API's problem+json: a person is reading it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Forbidden as exc:
                detail = exc.detail
                if request.url.path.startswith("/security"):
                    who = getattr(getattr(request.state, "principal", None), "name", "you")
                    detail = f"This page is for platform admins; {who} is not one."
                return await run_in_threadpool(ui.error_page, request, 403, "Not allowed", detail)
            except NotFound as exc:
                return await run_in_threadpool(ui.error_page, request, 404, "Not found", exc.detail)

        return page_handler


pages = APIRouter(
    include_in_schema=False, route_class=PageRoute, dependencies=[Depends(ui.page_user)]
)
# Fragments and actions for security.js: 401/403 as problem+json, like the API.
parts = APIRouter(include_in_schema=False, dependencies=[Depends(require_user)])
router = APIRouter(include_in_schema=False)


# -- pages -----------------------------------------------------------------------------------


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, principal: Principal = Depends(ui.page_user)) -> Response:
    return ui.render(request, "security/account.html", account_context(request, principal))


@pages.get("/security/users", response_class=HTMLResponse)
def users_page(request: Request) -> Response:
    return ui.render(request, "security/users.html", users_context(request))


@pages.get("/security/projects", response_class=HTMLResponse)
def projects_page(request: Request) -> Response:
    return ui.render(request, "security/projects.html", projects_context(request))


@pages.get("/security/projects/{ref}", response_class=HTMLResponse)
def project_page(request: Request, ref: str) -> Response:
    return ui.render(request, "security/project.html", project_context(request, ref))


@pages.get("/project", response_class=HTMLResponse)
def own_project_page(request: Request, principal: Principal = Depends(ui.page_user)) -> Response:
    return ui.render(request, "security/own_project.html", own_project_context(request, principal))


@pages.get("/security/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    actor: str = Query("", max_length=128),
    action: str = Query("", max_length=128, description="Prefix, e.g. auth."),
    outcome: str = Query("", max_length=16),
    before: int | None = Query(None, ge=0, description="Records older than this seq"),
) -> Response:
    f = AuditFilter(
        actor=actor.strip(),
        action=action.strip(),
        outcome=outcome if outcome in OUTCOMES else "",
        before=before,
    )
    return ui.render(request, "security/audit.html", audit_context(request, f))


# -- fragments, re-fetched by live.js (data-src) after a change -----------------------------


@parts.get("/account/fragments/tokens", response_class=HTMLResponse)
def tokens_part(request: Request, principal: Principal = Depends(require_user)) -> Response:
    return ui.render(request, "security/_tokens.html", tokens_context(request, principal))


@parts.get("/security/fragments/users/{ref}", response_class=HTMLResponse)
def user_row_part(request: Request, ref: str) -> Response:
    return ui.render(request, "security/_user_row.html", user_row_context(request, ref))


@parts.get("/security/fragments/projects/{ref}/row", response_class=HTMLResponse)
def project_row_part(request: Request, ref: str) -> Response:
    return ui.render(request, "security/_project_row.html", project_row_context(request, ref))


@parts.get("/security/fragments/projects/{ref}/quotas", response_class=HTMLResponse)
def project_quotas_part(request: Request, ref: str) -> Response:
    return ui.render(request, "security/_project_quotas.html", project_context(request, ref))


@parts.get("/security/fragments/projects/{ref}/members", response_class=HTMLResponse)
def project_members_part(request: Request, ref: str) -> Response:
    return ui.render(request, "security/_project_members.html", project_context(request, ref))


@parts.get("/project/fragments/members", response_class=HTMLResponse)
def own_members_part(request: Request, principal: Principal = Depends(require_user)) -> Response:
    context = own_project_context(request, principal)
    return ui.render(request, "security/_project_members.html", context)


@parts.get("/project/fragments/quotas", response_class=HTMLResponse)
def own_quotas_part(request: Request, principal: Principal = Depends(require_user)) -> Response:
    context = own_project_context(request, principal)
    return ui.render(request, "security/_project_quotas.html", context)


# -- actions ---------------------------------------------------------------------------------


@parts.post("/account/totp/setup", response_class=HTMLResponse)
def totp_setup_part(request: Request, principal: Principal = Depends(require_user)) -> Response:
    """Start two-factor set-up (the API's use case and audit event) and answer with the
    panel that shows the secret, its ``otpauth://`` URI and their QR code."""
    setup = account_api.totp_setup(request, principal)
    return ui.render(
        request, "security/_totp_setup.html", {"setup": setup, "qr": qr_svg(setup.uri)}
    )


class ProjectSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=128, description="Project id or name")


@parts.post("/account/project")
def switch_project(
    request: Request, body: ProjectSwitch, principal: Principal = Depends(require_user)
) -> JSONResponse:
    """Choose the project the pages act in: sets the project cookie that ``require_user``
    reads when a request names no project. Only a project of the caller's."""
    assert principal.user_id is not None
    with db_of(request).read() as s:
        user = s.get(User, principal.user_id)
        assert user is not None
        project = may_act_in(s, user, principal, body.project)
        chosen = {"id": project.id, "name": project.name}
    response = JSONResponse(chosen)
    response.set_cookie(
        PROJECT_COOKIE,
        project.id,
        max_age=int(PROJECT_COOKIE_AGE.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


router.include_router(pages)
router.include_router(parts)

ui.env.globals.update(nav_context=nav_context)
