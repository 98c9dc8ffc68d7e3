"""Audit records and host log lines as the engine's :class:`SecurityEvent`.

The audit middleware names generic actions after their route (``http.delete_vm``); the
rules speak of ``vm.delete``. Security events recorded by routes (``auth.login``,
``role.grant``, ``token.use`` …) keep their names; ``user:bob`` targets become ``bob`` so
rules can compare a target with its actor.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from novacron.security.models import AuditRecord
from novacron.security.threats.events import SecurityEvent

_ROUTE_ACTION = re.compile(r"^http\.(create|delete|update|start|stop)_(\w+)$")


def action_of(action: str) -> str:
    """``http.delete_vm`` → ``vm.delete``; other actions unchanged."""
    found = _ROUTE_ACTION.match(action)
    if not found:
        return action
    verb, obj = found.groups()
    return f"{obj}.{verb}"


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def from_audit(row: AuditRecord) -> SecurityEvent:
    detail: dict[str, Any] = dict(row.detail or {})
    target = row.target
    if target.startswith("user:"):
        target = target.removeprefix("user:")
    if row.action == "role.grant" and detail.get("platform_admin") is True:
        detail.setdefault("role", "platform-admin")
    return SecurityEvent(
        ts=_aware(row.ts),
        source="audit",
        action=action_of(row.action),
        actor=row.actor,
        target=target or None,
        source_ip=row.source_ip or None,
        outcome=row.outcome,
        project=row.project_id,
        request_id=row.request_id or None,
        detail=detail,
    )


def from_qemu_log(host: str, vm_id: str | None, line: str, ts: datetime) -> SecurityEvent:
    return SecurityEvent(
        ts=_aware(ts),
        source="host",
        action="qemu.log",
        target=vm_id,
        host=host,
        message=line,
        outcome="success",
    )
