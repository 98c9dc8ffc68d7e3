"""REST routes: CSV import of targets and partners.

``POST /api/v1/corporate/targets/import`` and ``…/partners/import`` take the CSV as a
multipart upload (field ``file``) or as the raw body (``text/csv``), with
``?dry_run=&partial=&encoding=``. The answer is the report
``{"created", "rows", "valid", "dry_run", "partial", "errors": [{row, field, column, msg,
value, loc}]}``: 200 when the import went through (or, dry, would), 422 problem+json
carrying the same report when rows failed and ``partial`` was not asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from novacron.core.database import Database, db_of
from novacron.core.errors import Invalid
from novacron.corporate.common import who
from novacron.corporate.imports import csv_import as ci
from novacron.corporate.imports.service import IMPORTERS, ImportReport, rejection, run_import
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(
    prefix="/api/v1/corporate",
    tags=["corporate: import"],
    dependencies=[Depends(require_user)],
)

MULTIPART_SLACK = 64 * 1024
"""Room for the multipart envelope around a file at the size limit."""

DRY_RUN = Query(False, description="Validate and report; write nothing")
PARTIAL = Query(False, description="Write the valid rows even when some rows fail")
ENCODING = Query(None, description="Text encoding when not UTF-8 (e.g. cp1252)")


async def read_csv(request: Request) -> bytes:
    """The uploaded file (multipart field ``file``) or the raw body, refused past the limit
    without reading it all."""
    length = request.headers.get("content-length", "")
    if length.isdigit():
        ci.check_size(max(0, int(length) - MULTIPART_SLACK))
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            msg = "send the CSV as the multipart file field 'file'"
            raise Invalid(msg, errors=[{"loc": ["body", "file"], "msg": msg}])
        data = await upload.read(ci.MAX_BYTES + 1)
        ci.check_size(len(data))
        return data
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        ci.check_size(size)
        chunks.append(chunk)
    return b"".join(chunks)


def _import(
    db: Database,
    kind: str,
    data: bytes,
    by: str,
    project_id: str,
    dry_run: bool,
    partial: bool,
    encoding: str | None,
) -> ImportReport:
    with db.session() as s:
        return run_import(
            s,
            IMPORTERS[kind],
            data,
            by,
            project_id=project_id,
            dry_run=dry_run,
            partial=partial,
            encoding=encoding,
        )


async def _respond(request: Request, kind: str, dry_run: bool, partial: bool,
                   encoding: str | None) -> Response:  # fmt: skip
    data = await read_csv(request)
    report = await run_in_threadpool(
        _import,
        db_of(request),
        kind,
        data,
        who(request),
        current_project(request),
        dry_run,
        partial,
        encoding,
    )
    if report.rejected:
        problem = rejection(report, IMPORTERS[kind].spec.noun).problem(str(request.url.path))
        return JSONResponse(
            {**problem, **report.as_dict()}, status_code=422, media_type="application/problem+json"
        )
    return JSONResponse(report.as_dict())


OPENAPI_EXTRA: dict[str, Any] = {
    "requestBody": {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        }
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"description": "Rows failed (and not partial): the report as problem+json"}
}


@router.post(
    "/targets/import",
    summary="Import targets from CSV",
    openapi_extra=OPENAPI_EXTRA,
    responses=RESPONSES,
)
async def import_targets(
    request: Request,
    dry_run: bool = DRY_RUN,
    partial: bool = PARTIAL,
    encoding: str | None = ENCODING,
) -> Response:
    """Columns: the fields of ``POST /targets`` (header matched ignoring case and spaces)."""
    return await _respond(request, "targets", dry_run, partial, encoding)


@router.post(
    "/partners/import",
    summary="Import partners from CSV",
    openapi_extra=OPENAPI_EXTRA,
    responses=RESPONSES,
)
async def import_partners(
    request: Request,
    dry_run: bool = DRY_RUN,
    partial: bool = PARTIAL,
    encoding: str | None = ENCODING,
) -> Response:
    """Columns: the fields of ``POST /partners``; one contact via ``contact_name``,
    ``contact_email``, ``contact_role``, ``contact_phone``."""
    return await _respond(request, "partners", dry_run, partial, encoding)
