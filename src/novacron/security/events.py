"""Security events (sign-in, tokens, roles …) written to the audit log by the routes that
know what happened, in their own transaction so a refused attempt is kept too."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from novacron.core.database import Database
from novacron.security.audit.log import AuditEntry, append
from novacron.security.auth import client_ip

log = logging.getLogger("novacron.audit")


def record(
    request: Request,
    action: str,
    *,
    outcome: str = "success",
    actor: str | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> None:
    """Append one security event; the audit middleware then skips this request."""
    principal = getattr(request.state, "principal", None)
    db: Database = request.app.state.db
    entry = AuditEntry(
        actor=actor or getattr(principal, "name", None) or "anonymous",
        actor_kind=getattr(principal, "kind", None) or ("user" if actor else "anonymous"),
        action=action,
        target=target,
        project_id=getattr(request.state, "project_id", None),
        source_ip=client_ip(request),
        outcome=outcome,
        status_code=status_code,
        request_id=getattr(request.state, "request_id", ""),
        detail=detail or {},
    )
    with db.session() as s:
        append(s, entry)
    request.state.audited = True
