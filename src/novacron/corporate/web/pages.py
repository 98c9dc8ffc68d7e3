"""The corporate pages: dashboard, targets, programmes, partners, ecosystem.

Each page reads through the sub-slices' services in one read transaction (the partner
page and the dashboard in a write one: listing registrations marks expired ones, as the
API does) and renders server-side; charts are JSON data blocks that ``corporate.js`` draws with
plotly.js. Unknown refs answer the UI's 404 page, bad filters its 400 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.errors import Invalid, NotFound
from novacron.corporate.web import dashboard, views_ecosystem, views_ma, views_partners
from novacron.corporate.web import views_programme as views_pg
from novacron.security.context import current_project
from novacron.web import ui

router = APIRouter(
    prefix="/corporate", include_in_schema=False, dependencies=[Depends(ui.page_user)]
)


def _page(
    request: Request, template: str, nav: str, build: Callable[[], dict[str, Any]]
) -> Response:
    """Render ``template`` with what ``build`` returns; NotFound → 404, Invalid → 400."""
    try:
        ctx = build()
    except NotFound as exc:
        return ui.error_page(request, 404, "Not found", exc.detail)
    except Invalid as exc:
        return ui.error_page(request, 400, "Bad request", exc.detail)
    return ui.render(request, f"corporate/{template}", {"nav": nav, **ctx})


@router.get("", response_class=HTMLResponse)
def dashboard_page(request: Request) -> Response:
    def build() -> dict[str, Any]:
        # A write transaction: gathering registrations marks the expired ones, as the
        # API's own listing does.
        with db_of(request).session() as s:
            return dashboard.dashboard_context(
                s, utcnow().date(), project_id=current_project(request)
            )

    return _page(request, "dashboard.html", "corp-dashboard", build)


@router.get("/targets", response_class=HTMLResponse)
def targets_page(
    request: Request,
    stage: str | None = Query(None),
    category: str | None = Query(None),
    name: str | None = Query(None, max_length=200),
    offset: int = Query(0, ge=0),
) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return views_ma.targets_context(
                s,
                stage=stage,
                category=category,
                name=name,
                offset=offset,
                project_id=current_project(request),
            )

    return _page(request, "targets.html", "corp-targets", build)


@router.get("/targets/{ref}", response_class=HTMLResponse)
def target_page(request: Request, ref: str) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return views_ma.target_context(s, ref, project_id=current_project(request))

    return _page(request, "target.html", "corp-targets", build)


@router.get("/programmes", response_class=HTMLResponse)
def programmes_page(request: Request) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return {"programmes": views_pg.programmes_list(s, project_id=current_project(request))}

    return _page(request, "programmes.html", "corp-programmes", build)


@router.get("/programmes/{ref}", response_class=HTMLResponse)
def programme_page(request: Request, ref: str) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return views_pg.programme_context(
                s, ref, utcnow().date(), project_id=current_project(request)
            )

    return _page(request, "programme.html", "corp-programmes", build)


@router.get("/partners", response_class=HTMLResponse)
def partners_page(
    request: Request,
    tier: str | None = Query(None),
    type: str | None = Query(None),
    name: str | None = Query(None, max_length=200),
    offset: int = Query(0, ge=0),
) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return views_partners.partners_context(
                s,
                tier=tier or None,
                type_=type or None,
                name=name or None,
                offset=offset,
                project_id=current_project(request),
            )

    return _page(request, "partners.html", "corp-partners", build)


@router.get("/partners/{ref}", response_class=HTMLResponse)
def partner_page(request: Request, ref: str) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).session() as s:
            return views_partners.partner_context(
                s, ref, utcnow().date(), project_id=current_project(request)
            )

    return _page(request, "partner.html", "corp-partners", build)


@router.get("/ecosystem", response_class=HTMLResponse)
def ecosystem_page(request: Request) -> Response:
    def build() -> dict[str, Any]:
        with db_of(request).read() as s:
            return views_ecosystem.ecosystem_context(
                s, utcnow().date(), project_id=current_project(request)
            )

    return _page(request, "ecosystem.html", "corp-ecosystem", build)
