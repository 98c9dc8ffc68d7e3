"""ASGI middleware: a request id on every request, an audit record for every mutating
request and every refused one.

It records when the response starts, before its first byte leaves (so a client that has
its answer can already find the record), from what routing and authorization left in the
request state: the principal, the project, the matched route. Bodies are never recorded
(they may hold passwords or secrets). Routes that write their own, more specific security
event (sign-in, tokens) set ``audited`` in the state and are skipped here.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novacron.core.database import Database
from novacron.security.audit.log import AuditEntry, append
from novacron.security.auth import route_template

log = logging.getLogger("novacron.audit")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REQUEST_ID_HEADER = b"x-request-id"


def outcome_of(status: int) -> str:
    if status in (401, 403):
        return "denied"
    return "success" if status < 400 else "failure"


def declared_status(scope: Scope) -> int:
    """The status a matched route answers with on success (FastAPI's default is 200):
    what routes that write their own security event record as its status code."""
    status = getattr(scope.get("route"), "status_code", None)
    return int(status) if status else 200


def action_of(scope: Scope) -> str:
    """``http.<route name>`` (``http.create_vm``) or the raw method for unmatched paths."""
    route = scope.get("route")
    name = getattr(route, "name", None)
    return f"http.{name}" if name else f"http.{scope['method'].lower()}"


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        recorded = False

        async def record(status: int) -> None:
            nonlocal recorded
            if not recorded and self._wanted(scope, status):
                await anyio.to_thread.run_sync(self._record, scope, status, request_id)
            recorded = True

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                await record(int(message["status"]))
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            await record(500)  # no response started: the request failed

    @staticmethod
    def _wanted(scope: Scope, status: int) -> bool:
        state = scope.get("state", {})
        if state.get("audited"):
            return False
        if scope["method"] not in SAFE_METHODS:
            return not scope["path"].startswith("/api/v1/agents/heartbeat") or status >= 400
        return status in (401, 403)

    @staticmethod
    def _record(scope: Scope, status: int, request_id: str) -> None:
        app = scope.get("app")
        db: Database | None = getattr(getattr(app, "state", None), "db", None)
        if db is None:
            return
        state = scope.get("state", {})
        principal = state.get("principal")
        client = scope.get("client")
        entry = AuditEntry(
            actor=getattr(principal, "name", None) or "anonymous",
            actor_kind=getattr(principal, "kind", None) or "anonymous",
            action=action_of(scope) if status not in (401, 403) else "access.denied",
            target=f"{scope['method']} {scope['path']}",
            project_id=state.get("project_id"),
            source_ip=client[0] if client else "",
            outcome=outcome_of(status),
            status_code=status,
            request_id=request_id,
            detail={"route": route_template(scope)},
        )
        try:
            with db.session() as s:
                append(s, entry)
        except Exception:  # the response is gone; never fail the request over the log
            log.exception("could not append an audit record for request %s", request_id)
