"""REST routes: valuations as Excel workbooks with live formulas.

``GET  /api/v1/corporate/targets/{ref}/valuations/{version}/export.xlsx``  a stored version
``POST /api/v1/corporate/calc/dcf/export.xlsx``                            DCF inputs (JSON)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response

from novacron.core.database import db_of
from novacron.corporate.export.service import content_disposition, inputs_xlsx, valuation_xlsx
from novacron.corporate.export.xlsx import XLSX_MEDIA_TYPE
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate",
    tags=["corporate: export"],
    dependencies=[Depends(require_user)],
)

_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The workbook"}
}


def xlsx_response(filename: str, data: bytes) -> Response:
    return Response(
        content=data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename)},
    )


@router.get(
    "/targets/{ref}/valuations/{version}/export.xlsx",
    response_class=Response,
    responses=_XLSX_RESPONSE,
    summary="A DCF valuation version as an auditable .xlsx (live formulas)",
)
def export_valuation(request: Request, ref: str, version: int) -> Response:
    with db_of(request).read() as s:
        filename, data = valuation_xlsx(s, ref, version, project_id=current_project(request))
    return xlsx_response(filename, data)


@router.post(
    "/calc/dcf/export.xlsx",
    response_class=Response,
    responses=_XLSX_RESPONSE,
    summary="DCF inputs (as for POST /calc/dcf) as an auditable .xlsx (live formulas)",
)
def export_dcf(inputs: dict[str, Any] = Body(..., description="The dcf kind's inputs")) -> Response:
    filename, data = inputs_xlsx(inputs)
    return xlsx_response(filename, data)
