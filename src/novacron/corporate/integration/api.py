"""REST routes: integration programmes generated when a deal closes.

Everything under ``/api/v1/corporate/programmes``; the routes live in ``routes/`` by area
(programmes and summary, tasks and milestones, governance, synergies and retention)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.corporate.integration.routes import governance, programmes, tasks, value
from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate",
    tags=["corporate: integration"],
    dependencies=[Depends(require_user)],
)
for _area in (programmes, tasks, governance, value):
    router.include_router(_area.router)
