"""REST routes: the executive dashboard (``GET /api/v1/corporate/dashboard``) and the demo
portfolio loader (``POST /api/v1/corporate/demo``, for the UI's empty state)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.corporate.common import who
from novacron.corporate.strategy import kpis, service
from novacron.corporate.strategy.schemas import DemoOut
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate",
    tags=["corporate: dashboard"],
    dependencies=[Depends(require_user)],
)


@router.get("/dashboard", response_model=dict[str, Any])
def get_dashboard(
    request: Request,
    today: date | None = Query(None, description="As of this date (default: today, UTC)"),
    threshold: list[str] | None = Query(
        None,
        description="Override a threshold: KPI.KEY=VALUE, e.g. win_rate.alert=20 (repeatable)",
    ),
) -> dict[str, Any]:
    """Pipelines, value creation, KPIs with their alert rules, and recommendations (the
    shape is documented on ``novacron.corporate.strategy.service.dashboard``)."""
    overrides = kpis.parse_overrides(threshold or [])
    # A session, not a read: reading registrations expires the ones past their date.
    with db_of(request).session() as s:
        return service.dashboard(
            s, today or utcnow().date(), overrides, project_id=current_project(request)
        )


@router.post("/demo", response_model=DemoOut, status_code=201)
def load_demo(request: Request, response: Response) -> DemoOut:
    """Load the sample portfolio into the request's project through the services; what
    exists there by name is skipped (201 when anything was created, 200 when it was all
    there already)."""
    from novacron.corporate.demo import load

    with db_of(request).session() as s:
        result = load(s, who(request), utcnow().date(), project_id=current_project(request))
    if not any(result.created.values()):
        response.status_code = 200
    return result
