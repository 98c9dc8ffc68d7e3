"""REST routes: The executive dashboard: pipelines, value creation, KPIs and recommendations."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate/dashboard",
    tags=["corporate: dashboard"],
    dependencies=[Depends(require_user)],
)
