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

from novacron.core.errors import Unauthorized
from novacron.security.auth import COOKIE, principal_for
from novacron.web import ui

PAGE_SLICES = ("novacron.compute.web", "novacron.corporate.web")
COOKIE_MAX_AGE_S = 7 * 24 * 3600

router = APIRouter(include_in_schema=False)


def _check(request: Request, token: str | None) -> bool:
    """Whether ``token`` is a live user token; records its use like the API does."""
    try:
        principal_for(request.app.state.db, token, ("user",))
    except Unauthorized:
        return False
    return True


def _login_form(
    request: Request, next_path: str, error: str = "", status_code: int = 200
) -> HTMLResponse:
    return ui.render(
        request, "web/login.html", {"next": next_path, "error": error}, status_code=status_code
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    next_path = ui.safe_next(next)
    if _check(request, request.cookies.get(COOKIE)):
        return RedirectResponse(next_path, status_code=303)
    return _login_form(request, next_path)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
    next_path = ui.safe_next(next)
    token = token.strip()
    if not token:
        return _login_form(request, next_path, "Enter your API token.", 401)
    if not _check(request, token):
        return _login_form(
            request, next_path, "That token is not valid, or it has been revoked.", 401
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
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
    if request.cookies.get(COOKIE):  # stale or revoked: drop it
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def mount(app: FastAPI) -> None:
    """Add sign-in, ``/static`` and the pages of every slice to the server app."""
    app.add_exception_handler(ui.LoginRequired, _login_required)
    app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
    app.include_router(router)
    for module in PAGE_SLICES:
        app.include_router(import_module(module).router)
