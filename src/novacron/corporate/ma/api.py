"""REST routes: the M&A pipeline."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate", tags=["corporate: M&A"], dependencies=[Depends(require_user)]
)
