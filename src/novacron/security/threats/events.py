"""The one event shape the threat engine reads.

Audit log rows (``source="audit"``) and host log lines such as QEMU's stderr or the
kernel's audit records (``source="host"``, ``action="qemu.log"``, the line in
``message``) are both mapped to :class:`SecurityEvent` before they reach the engine, so
rules never know where an event came from beyond ``source``.

Conventions the shipped rules rely on (the mapping from audit rows must follow them):

- ``auth.login``: ``actor`` is the account name tried (also on failure), ``source_ip``
  the client address.
- ``token.use``: ``actor`` is the token's owner, ``target`` the token id.
- ``role.grant``: ``actor`` grants ``detail["role"]`` to ``target``;
  ``detail["actor_role"]`` is the granting actor's own role at that moment.
- ``*.delete``: ``target`` is the deleted object's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from novacron.core.errors import Invalid

SOURCES = ("audit", "host")
OUTCOMES = ("success", "failure", "denied")
FIELDS = (
    "source",
    "action",
    "actor",
    "target",
    "source_ip",
    "outcome",
    "project",
    "request_id",
    "host",
    "message",
)
"""Fields a rule may name; ``detail.<key>[.<key>…]`` reaches into ``detail``."""

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    ts: datetime
    """When it happened: timezone-aware; stored in UTC."""
    source: str
    action: str
    actor: str | None = None
    target: str | None = None
    source_ip: str | None = None
    outcome: str = "success"
    project: str | None = None
    request_id: str | None = None
    host: str | None = None
    message: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Read-only by convention (not copied, for speed)."""

    def __post_init__(self) -> None:
        offset = self.ts.utcoffset()
        if offset is None:
            raise Invalid("ts: must be timezone-aware (UTC)")
        if offset != _ZERO or self.ts.tzinfo is not UTC:
            object.__setattr__(self, "ts", self.ts.astimezone(UTC))
        if self.source not in SOURCES:
            raise Invalid(f"source: {self.source!r} is not one of {', '.join(SOURCES)}")
        if self.outcome not in OUTCOMES:
            raise Invalid(f"outcome: {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        if not self.action:
            raise Invalid("action: must not be empty")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ts`` as ISO 8601 with ``Z``."""
        out: dict[str, Any] = {"ts": self.ts.isoformat().replace("+00:00", "Z")}
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.detail:
            out["detail"] = dict(self.detail)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SecurityEvent:
        """The inverse of :meth:`as_dict`; unknown keys are refused."""
        unknown = set(data) - {"ts", "detail", *FIELDS}
        if unknown:
            raise Invalid(f"unknown event field(s): {', '.join(sorted(unknown))}")
        try:
            ts = datetime.fromisoformat(str(data["ts"]).replace("Z", "+00:00"))
        except (KeyError, ValueError) as exc:
            raise Invalid(f"ts: {exc}") from None
        kwargs = {name: data[name] for name in FIELDS if name in data}
        return cls(ts=ts, detail=dict(data.get("detail") or {}), **kwargs)
