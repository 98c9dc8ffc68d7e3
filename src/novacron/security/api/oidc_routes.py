"""``/auth/oidc/login`` and ``/auth/oidc/callback``: browser sign-in through an OpenID
Connect provider (:mod:`novacron.security.oidc`). Both answer 404 while ``oidc_issuer`` is
unset.

Cookies. The flow cookie is ``SameSite=Lax``: the provider sends the browser back with a
cross-site top-level GET, which carries Lax cookies and drops Strict ones. The session
cookie stays Strict, and a browser does not send Strict cookies along a redirect chain
that passed through another site either: a 303 from the callback would land on the next
page without the new session. So when the callback was reached cross-site
(``Sec-Fetch-Site: cross-site``) it answers with a small page that moves on with a meta
refresh — a fresh navigation from our own origin; otherwise it answers 303.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from novacron.core.database import Database
from novacron.core.errors import NotFound, NovaCronError
from novacron.security import events, oidc, sessions
from novacron.security.api.login import set_session_cookie
from novacron.security.auth import client_ip, session_cookie
from novacron.web import ui

router = APIRouter(prefix="/auth/oidc", tags=["auth"], include_in_schema=False)

FLOW_COOKIE_PATH = "/auth/oidc"


def _config(request: Request) -> oidc.OidcConfig:
    cfg = oidc.OidcConfig.from_settings(request.app.state.settings)
    if cfg is None:
        raise NotFound("single sign-on is not configured on this server")
    return cfg


def _signed_in(request: Request) -> bool:
    db: Database = request.app.state.db
    with db.read() as s:
        row = sessions.find_session(s, session_cookie(request))
        return row is not None and not row.mfa_pending


def _set_flow_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        oidc.FLOW_COOKIE,
        value,
        max_age=oidc.FLOW_TTL_S,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _clear_flow_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        oidc.FLOW_COOKIE,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.get("/login", name="oidc_login")
def oidc_login(request: Request, next: str | None = None) -> Response:
    """Send the browser to the provider; ``next`` (a local path) is where it ends up."""
    next_path = ui.safe_next(next)
    try:
        cfg = _config(request)
        if _signed_in(request):
            return RedirectResponse(next_path, status_code=303)
        callback = str(request.url_for("oidc_callback"))
        url, flow = oidc.begin(cfg, oidc.provider_for(cfg.issuer), callback, next_path)
    except NotFound:
        raise
    except NovaCronError as exc:  # provider down or settings wrong: say so, in a page
        return ui.error_page(request, exc.status, exc.title, exc.detail)
    response = RedirectResponse(url, status_code=302)
    _set_flow_cookie(request, response, oidc.seal_flow(flow, cfg.flow_key))
    return response


@router.get("/callback", name="oidc_callback")
def oidc_callback(request: Request) -> Response:
    """Where the provider sends the browser back: validate, open a session, move on."""
    cfg = _config(request)
    params = {k: v[:4096] for k, v in request.query_params.items()}
    db: Database = request.app.state.db
    try:
        flow = oidc.open_flow(request.cookies.get(oidc.FLOW_COOKIE), cfg.flow_key)
        claims = oidc.complete(cfg, oidc.provider_for(cfg.issuer), flow, params)
        with db.session() as s:
            result = oidc.user_for_claims(s, cfg, claims)
            new = sessions.open_session(
                s, result.user, client_ip(request), request.headers.get("user-agent", "")
            )
    except oidc.AccountDisabled as exc:
        return _failed(request, cfg, exc, exc.user_name)
    except NovaCronError as exc:
        return _failed(request, cfg, exc, "anonymous")
    response = _continue(request, ui.safe_next(flow.next_path))
    _audit_success(request, cfg, result, response.status_code)
    set_session_cookie(request, response, new)
    _clear_flow_cookie(request, response)
    return response


def _continue(request: Request, next_path: str) -> Response:
    if request.headers.get("sec-fetch-site") != "cross-site":
        return RedirectResponse(next_path, status_code=303)
    target = html.escape(next_path, quote=True)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        "<title>Signed in</title></head><body>"
        f'<p>Signed in. <a href="{target}" data-testid="oidc-continue">Continue</a></p>'
        "</body></html>"
    )
    return HTMLResponse(page, headers=ui.SECURITY_HEADERS)


def _failed(request: Request, cfg: oidc.OidcConfig, exc: NovaCronError, actor: str) -> Response:
    events.record(
        request,
        "auth.login",
        actor=actor,
        outcome="failure",
        detail={"method": "oidc", "issuer": cfg.issuer, "reason": exc.detail},
        status_code=exc.status,
    )
    detail = exc.detail[:1].upper() + exc.detail[1:]
    response = ui.error_page(request, exc.status, "Single sign-on failed", detail)
    _clear_flow_cookie(request, response)
    return response


def _audit_success(
    request: Request, cfg: oidc.OidcConfig, result: oidc.SsoSignIn, status: int
) -> None:
    name = result.user.name
    base = {"method": "oidc", "issuer": cfg.issuer}
    if result.created:
        events.record(
            request,
            "user.create",
            actor=name,
            target=f"user:{name}",
            detail=base,
            status_code=status,
        )
    if result.granted is not None:
        project, role = result.granted
        events.record(
            request,
            "role.grant",
            actor=name,
            target=f"user:{name}",
            detail={**base, "role": role, "project": project},
            status_code=status,
        )
    if result.platform_admin_changed:
        events.record(
            request,
            "role.grant" if result.user.platform_admin else "role.revoke",
            actor=name,
            target=f"user:{name}",
            detail={**base, "platform_admin": result.user.platform_admin, "group": cfg.admin_group},
            status_code=status,
        )
    events.record(request, "auth.login", actor=name, detail=base, status_code=status)
