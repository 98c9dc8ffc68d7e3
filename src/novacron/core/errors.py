"""The one error tree of NovaCron.

    NovaCronError            any failure we can describe to a user
    ├── Invalid              bad input (422); ``errors`` carries field paths
    ├── NotFound             no such object (404)
    ├── Conflict             duplicate name, concurrent change (409)
    ├── InvalidState         illegal transition, e.g. pausing a stopped VM (409)
    ├── NoCapacity           no host passes placement; ``detail`` says why per filter (409)
    ├── QuotaExceeded        the project's quota would be exceeded (409)
    ├── Unauthorized         missing or bad credentials (401)
    ├── Forbidden            credentials lack the right (403)
    └── DriverError          the hypervisor or agent failed an action (502)
        └── AgentUnreachable the agent did not answer (503)

The API renders each as RFC 9457 problem+json; the CLI prints one line and exits 1.
"""

from __future__ import annotations

from typing import Any


class NovaCronError(Exception):
    status = 500
    title = "Internal error"
    type_slug = "internal"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://novacron.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return body


class Invalid(NovaCronError):
    status = 422
    title = "Invalid request"
    type_slug = "invalid"


class NotFound(NovaCronError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(NovaCronError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class InvalidState(Conflict):
    title = "Invalid state"
    type_slug = "invalid-state"


class NoCapacity(Conflict):
    title = "No valid host"
    type_slug = "no-capacity"


class QuotaExceeded(Conflict):
    title = "Quota exceeded"
    type_slug = "quota-exceeded"


class Unauthorized(NovaCronError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(NovaCronError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class DriverError(NovaCronError):
    status = 502
    title = "Hypervisor error"
    type_slug = "driver"


class AgentUnreachable(DriverError):
    status = 503
    title = "Agent unreachable"
    type_slug = "agent-unreachable"


_BY_SLUG: dict[str, type[NovaCronError]] = {
    cls.type_slug: cls
    for cls in (
        NovaCronError,
        Invalid,
        NotFound,
        Conflict,
        InvalidState,
        NoCapacity,
        Unauthorized,
        Forbidden,
        DriverError,
        AgentUnreachable,
    )
}


def from_problem(body: dict[str, Any]) -> NovaCronError:
    """Rebuild an error from problem+json (agent → server, server → CLI)."""
    slug = str(body.get("type", "")).rsplit("/", 1)[-1]
    cls = _BY_SLUG.get(slug, NovaCronError)
    return cls(str(body.get("detail") or body.get("title") or "error"), errors=body.get("errors"))
