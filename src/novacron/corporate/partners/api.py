"""REST routes: Partners, tiers, programmes, deal registration, MDF and rebates."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate", tags=["corporate: partners"], dependencies=[Depends(require_user)]
)
