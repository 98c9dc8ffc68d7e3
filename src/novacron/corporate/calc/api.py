"""REST routes: Stateless calculations of the finance engine over HTTP and the CLI."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate/calc",
    tags=["corporate: calculations"],
    dependencies=[Depends(require_user)],
)
