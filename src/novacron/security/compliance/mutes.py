"""Mutes: accepted risks, each with a reason, an owner and an end date.

A mute matches findings by check id and a glob over the resource (``host-*``,
``user:breakglass``). It turns a ``fail`` or ``error`` finding into ``muted`` with
the reason; a passing finding has nothing to mute. A mute stops applying at
``expires_at`` — there are no permanent exceptions, only renewed ones.
"""

from __future__ import annotations

import fnmatch
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid, NotFound
from novacron.security.compliance.model import Finding, Status, naive_utc

MUTABLE = frozenset({Status.FAIL, Status.ERROR})


@dataclass(frozen=True)
class Mute:
    id: str
    check_id: str
    resource_pattern: str
    reason: str
    expires_at: datetime
    created_by: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        return naive_utc(now) < self.expires_at

    def matches(self, finding: Finding) -> bool:
        # fnmatchcase: resource names are case-sensitive, like host names in inventory.
        return finding.check_id == self.check_id and fnmatch.fnmatchcase(
            finding.resource, self.resource_pattern
        )


def new_mute(
    check_id: str,
    resource_pattern: str,
    reason: str,
    expires_at: datetime,
    created_by: str,
    *,
    now: datetime | None = None,
    known_checks: Collection[str] | None = None,
) -> Mute:
    """Validate and build a mute; every problem is reported at once (``Invalid.errors``)."""
    now = naive_utc(now) if now else utcnow()
    expires = naive_utc(expires_at)
    errors = []
    if not check_id.strip():
        errors.append(_err("check_id", "a check id is required"))
    elif known_checks is not None and check_id not in known_checks:
        errors.append(_err("check_id", f"no compliance check {check_id}"))
    if not resource_pattern.strip():
        errors.append(_err("resource_pattern", "a resource pattern is required ('*' for all)"))
    if not reason.strip():
        errors.append(_err("reason", "a mute needs a reason"))
    if expires <= now:
        errors.append(_err("expires_at", "must be in the future"))
    if not created_by.strip():
        errors.append(_err("created_by", "the person muting must be recorded"))
    if errors:
        raise Invalid("invalid mute: " + "; ".join(e["msg"] for e in errors), errors=errors)
    return Mute(
        id=f"mute-{secrets.token_hex(6)}",
        check_id=check_id.strip(),
        resource_pattern=resource_pattern.strip(),
        reason=reason.strip(),
        expires_at=expires,
        created_by=created_by.strip(),
        created_at=now,
    )


def _err(field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": "value_error"}


def apply_mutes(
    findings: Iterable[Finding], mutes: Iterable[Mute], now: datetime | None = None
) -> list[Finding]:
    """Findings with active matching mutes applied; the first matching mute (earliest
    expiry first, so the report shows when the exception next needs review) wins."""
    now = naive_utc(now) if now else utcnow()
    live = sorted((m for m in mutes if m.active(now)), key=lambda m: (m.expires_at, m.id))
    out = []
    for finding in findings:
        mute = next((m for m in live if m.matches(finding)), None)
        if finding.status in MUTABLE and mute is not None:
            until = mute.expires_at.strftime("%Y-%m-%d %H:%M UTC")
            finding = replace(
                finding,
                status=Status.MUTED,
                muted_status=finding.status,
                mute_reason=f"{mute.reason} (muted by {mute.created_by} until {until})",
            )
        out.append(finding)
    return out


class MuteStore(Protocol):
    def add(self, mute: Mute) -> None: ...

    def get(self, mute_id: str) -> Mute: ...

    def delete(self, mute_id: str) -> None: ...

    def list(
        self, *, include_expired: bool = False, now: datetime | None = None
    ) -> Sequence[Mute]: ...


class InMemoryMuteStore:
    def __init__(self, mutes: Iterable[Mute] = ()) -> None:
        self._mutes: dict[str, Mute] = {m.id: m for m in mutes}

    def add(self, mute: Mute) -> None:
        self._mutes[mute.id] = mute

    def get(self, mute_id: str) -> Mute:
        try:
            return self._mutes[mute_id]
        except KeyError:
            raise NotFound(f"no mute {mute_id}") from None

    def delete(self, mute_id: str) -> None:
        self.get(mute_id)
        del self._mutes[mute_id]

    def list(self, *, include_expired: bool = False, now: datetime | None = None) -> list[Mute]:
        now = naive_utc(now) if now else utcnow()
        mutes = sorted(self._mutes.values(), key=lambda m: (m.check_id, m.created_at, m.id))
        return mutes if include_expired else [m for m in mutes if m.active(now)]
