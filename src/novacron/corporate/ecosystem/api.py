"""REST routes: the ecosystem (JVs, licensing, labs, academic, government)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate/ecosystem",
    tags=["corporate: ecosystem"],
    dependencies=[Depends(require_user)],
)
