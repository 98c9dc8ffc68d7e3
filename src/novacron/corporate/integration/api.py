"""REST routes: Integration programmes generated when a deal closes."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate",
    tags=["corporate: integration"],
    dependencies=[Depends(require_user)],
)
