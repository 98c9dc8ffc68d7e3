"""The web UI: sign-in, static assets, and every slice's pages mounted on the server app.

``mount(app)`` is the one entry point (called from ``novacron.api``). Slices that have
pages expose ``router`` in their ``web.py``; they are listed in ``PAGE_SLICES``.
"""

from __future__ import annotations

from importlib import import_module
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from novacron.core.database import Database
from novacron.core.errors import Unauthorized
from novacron.security import sessions
from novacron.security.api.login import clear_session_cookie, set_session_cookie
from novacron.security.auth import session_cookie
from novacron.security.sessions import check_csrf
from novacron.security.signin import SecondFactorRequired, sign_in, sign_in_with_token
from novacron.web import ui

PAGE_SLICES = ("novacron.compute.web", "novacron.corporate.web", "novacron.security.web")

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request) -> bool:
    db: Database = request.app.state.db
    with db.read() as s:
        return sessions.find_session(s, session_cookie(request)) is not None


def _login_form(
    request: Request,
    next_path: str,
    error: str = "",
    status_code: int = 200,
    *,
    name: str = "",
    mode: str = "password",
) -> HTMLResponse:
    settings = getattr(request.app.state, "settings", None)
    # Single sign-on offered next to the password when an issuer is configured.
    oidc_name = settings.oidc_display_name if settings and settings.oidc_issuer else ""
    context = {
        "next": next_path,
        "error": error,
        "name": name,
        "mode": mode,
        "oidc_name": oidc_name,
    }
    return ui.render(request, "web/login.html", context, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, mode: str = "password") -> Response:
    next_path = ui.safe_next(next)
    if _signed_in(request):
        return RedirectResponse(next_path, status_code=303)
    return _login_form(request, next_path, mode="token" if mode == "token" else "password")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    name: str = Form("", max_length=64),
    password: str = Form("", max_length=256),
    code: str = Form("", max_length=32),
    token: str = Form("", max_length=256),
    next: str = Form("/"),
) -> Response:
    """Sign in with name + password (+ code when two-factor is on), or with an API token."""
    next_path = ui.safe_next(next)
    mode = "token" if token.strip() and not name.strip() else "password"
    try:
        if mode == "token":
            new = sign_in_with_token(request, token.strip(), success_status=303)
        else:
            if not name.strip() or not password:
                raise Unauthorized("Enter your user name and password.")
            new = sign_in(request, name, password, code.strip() or None, success_status=303)
    except SecondFactorRequired:
        return _login_form(request, next_path, "", 401, name=name, mode="code")
    except Unauthorized as exc:
        message = exc.detail[:1].upper() + exc.detail[1:]
        return _login_form(request, next_path, message, 401, name=name, mode=mode)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(request, response, new)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    cookie = session_cookie(request)
    if cookie:
        check_csrf(cookie, csrf_token)
        db: Database = request.app.state.db
        with db.session() as s:
            row = sessions.find_session(s, cookie)
            if row is not None:
                sessions.revoke_session(s, row.id)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/docs", dependencies=[Depends(ui.page_user)])
def api_docs() -> HTMLResponse:
    """Swagger UI from local assets; signing in first, like every page."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="NovaCron API",
        swagger_js_url="/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ui.LoginRequired)
    target = "/login"
    if exc.next_path not in ("", "/"):
        target += "?" + urlencode({"next": exc.next_path})
    response = RedirectResponse(target, status_code=303)
    if session_cookie(request):  # stale or revoked: drop it
        clear_session_cookie(request, response)
    return response


async def _account_first(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/account", status_code=303)


def mount(app: FastAPI) -> None:
    """Add sign-in, ``/static`` and the pages of every slice to the server app."""
    app.add_exception_handler(ui.LoginRequired, _login_required)
    app.add_exception_handler(ui.AccountFirst, _account_first)
    app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
    app.include_router(router)
    for module in PAGE_SLICES:
        app.include_router(import_module(module).router)
