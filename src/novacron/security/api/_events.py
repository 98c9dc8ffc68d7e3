"""Security events written by the routes, with the status code the route answers with."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from novacron.security import events
from novacron.security.audit.middleware import declared_status


def record(
    request: Request,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append the event of a route that succeeded: the audit middleware skips the request,
    so this record carries its status code."""
    events.record(
        request, action, target=target, detail=detail, status_code=declared_status(request.scope)
    )
