"""``/api/v1/audit``: read, verify and export the audit log (platform admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from novacron.core.database import db_of
from novacron.security.audit import log as audit_log
from novacron.security.auth import require_user
from novacron.security.schemas import AuditOut, AuditPage, AuditVerifyOut

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[Depends(require_user)])


@router.get("", response_model=AuditPage)
def list_audit(
    request: Request,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = Query(None, max_length=128),
    action: str | None = Query(None, max_length=128, description="Prefix, e.g. auth."),
    outcome: Literal["success", "failure", "denied"] | None = None,
    project_id: str | None = Query(None, max_length=64),
    after_seq: int | None = Query(None, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> AuditPage:
    with db_of(request).read() as s:
        rows = audit_log.query(
            s,
            since=_naive(since),
            until=_naive(until),
            actor=actor,
            action=action,
            outcome=outcome,
            project_id=project_id,
            after_seq=after_seq,
            limit=limit,
        )
        items = [AuditOut.model_validate(r) for r in rows]
    return AuditPage(items=items, next_after_seq=items[-1].seq if len(items) == limit else None)


def _naive(value: datetime | None) -> datetime | None:
    """Times are stored as naive UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@router.get("/verify", response_model=AuditVerifyOut)
def verify_audit(request: Request) -> AuditVerifyOut:
    """Recompute the whole retained hash chain; ``ok`` false names the first broken record."""
    with db_of(request).read() as s:
        result = audit_log.verify(s)
    return AuditVerifyOut(
        ok=result.ok,
        checked=result.checked,
        first_seq=result.first_seq,
        last_seq=result.last_seq,
        broken_at=result.broken_at,
        reason=result.reason,
        summary=result.summary(),
    )


@router.get("/export", response_class=PlainTextResponse)
def export_audit(
    request: Request,
    format: Literal["json", "csv"] = "json",
    since: datetime | None = None,
    until: datetime | None = None,
) -> PlainTextResponse:
    """JSON Lines or CSV, with each record's hashes so the copy can be verified."""
    with db_of(request).read() as s:
        rows = audit_log.query(s, since=_naive(since), until=_naive(until))
        body = audit_log.export_json(rows) if format == "json" else audit_log.export_csv(rows)
    media = "application/x-ndjson" if format == "json" else "text/csv"
    suffix = "jsonl" if format == "json" else "csv"
    return PlainTextResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="novacron-audit.{suffix}"'},
    )
