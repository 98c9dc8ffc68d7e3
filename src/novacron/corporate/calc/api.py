"""REST routes: stateless calculations of the finance engine over HTTP.

``POST /api/v1/corporate/calc/{kind}`` takes the kind's inputs as the JSON body and
answers the result; ``GET /api/v1/corporate/calc`` lists the kinds. Nothing is stored:
the M&A slice keeps versioned valuation models and computes them with the same
``service.evaluate``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from novacron.corporate.calc.service import evaluate, kinds
from novacron.security.auth import require_user

router = APIRouter(
    prefix="/api/v1/corporate/calc",
    tags=["corporate: calculations"],
    dependencies=[Depends(require_user)],
)


@router.get("", summary="The calculation kinds, each with a one-line description")
def list_kinds() -> list[dict[str, str]]:
    return kinds()


@router.post("/{kind}", summary="Run one calculation on the JSON inputs")
def calculate(
    kind: str,
    inputs: dict[str, Any] = Body(..., description="The kind's inputs (see GET /calc)"),
) -> dict[str, Any]:
    """A plain (sync) route: FastAPI runs it in its thread pool, so a long Monte Carlo
    does not block the event loop."""
    return evaluate(kind, inputs)
