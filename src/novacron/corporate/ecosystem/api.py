"""REST routes: the ecosystem (JVs, licensing, labs, academic, government).

Under ``/api/v1/corporate/ecosystem``: ``/joint-ventures``, ``/licenses``, ``/labs``,
``/academic``, ``/government`` (each in its own ``routes_*`` module) and ``/summary``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from novacron.core.database import db_of
from novacron.corporate.ecosystem import service
from novacron.corporate.ecosystem.routes_jv import router as jv_router
from novacron.corporate.ecosystem.routes_licenses import router as licenses_router
from novacron.corporate.ecosystem.routes_programmes import router as programmes_router
from novacron.corporate.ecosystem.routes_programmes import today_or
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate/ecosystem",
    tags=["corporate: ecosystem"],
    dependencies=[Depends(require_user)],
)


@router.get("/summary", response_model=dict[str, Any])
def ecosystem_summary(
    request: Request,
    today: date | None = Query(None, description="As of this date (default: today, UTC)"),
) -> dict[str, Any]:
    """Counts, JV money, royalties recognised this year, certifications expiring."""
    with db_of(request).read() as s:
        return service.summary(s, today_or(today), project_id=current_project(request))


for _sub in (jv_router, licenses_router, programmes_router):
    router.include_router(_sub)
