"""The state machine behind each rule kind.

A detector sees every event its rule's condition might match, in time order, with the
event time ``t`` as POSIX seconds. State is kept per group (the ``group_by`` values) in an
LRU-ordered table that is

- pruned by time: :meth:`Detector.prune` drops groups whose window, learning memory or
  cool-down has passed, so a quiet group costs nothing after a while;
- capped: past ``max_groups`` the least recently seen group is evicted (counted in
  ``evicted``), so a flood of distinct keys (random source addresses) cannot exhaust
  memory. An evicted group simply starts over.

Within a group every structure is bounded too (at most ``threshold``-ish timestamps, a
few request ids of evidence, ``max_values`` known values).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from ..detection import MAX_EVIDENCE, Detection
from ..events import SecurityEvent
from ..rules import Rule

S = TypeVar("S")
Key = tuple[str | None, ...]


def evidence_of(e: SecurityEvent) -> str:
    if e.request_id:
        return e.request_id
    if e.target:
        return e.target
    if e.message:
        return e.message[:200]
    return f"{e.action} {e.ts.isoformat()}"


class Detector(Generic[S]):
    """Shared plumbing: group keys, the bounded group table, building detections."""

    def __init__(self, rule: Rule, max_groups: int) -> None:
        self.rule = rule
        self.condition = rule.condition.test
        self.max_groups = max_groups
        self.groups: OrderedDict[Key, S] = OrderedDict()
        self.evicted = 0
        gets = rule.group_get
        self.key: Callable[[SecurityEvent], Key]
        if not gets:
            self.key = lambda e: ()
        elif len(gets) == 1:
            g = gets[0]
            # as_text() inlined: this runs for every event of every stateful rule.
            self.key = lambda e: (v if (v := g(e)) is None or type(v) is str else str(v),)
        else:
            self.key = lambda e: tuple([as_text(g(e)) for g in gets])

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        raise NotImplementedError

    def prune(self, now: float) -> None:
        raise NotImplementedError

    def size(self) -> int:
        """Items held (groups plus what each group stores): the measure of boundedness."""
        return len(self.groups)

    def _state(self, key: Key, new: Callable[[], S]) -> S:
        groups = self.groups
        state = groups.get(key)
        if state is None:
            state = groups[key] = new()
            if len(groups) > self.max_groups:
                groups.popitem(last=False)
                self.evicted += 1
        else:
            groups.move_to_end(key)
        return state

    def _detection(
        self,
        e: SecurityEvent,
        first_t: float,
        key: Key,
        count: int,
        evidence: tuple[str, ...],
        default: str,
        **extra: Any,
    ) -> Detection:
        rule = self.rule
        group = dict(zip(rule.group_by, key, strict=True))
        group_text = ", ".join(f"{k}={v}" for k, v in group.items()) or "all events"
        summary = default
        if rule.summary is not None:
            fields = {
                "count": count,
                "group": group_text,
                "window": "",
                "threshold": "",
                "value": "",
                "known": "",
                "expected": "",
                "actor": e.actor or "",
                "target": e.target or "",
                "source_ip": e.source_ip or "",
                "host": e.host or "",
                "action": e.action,
                "message": e.message or "",
                **extra,
            }
            summary = rule.summary.format_map(fields)
        return Detection(
            rule_id=rule.id,
            family=rule.family,
            title=rule.title,
            priority=rule.priority,
            mitre=rule.mitre,
            tags=rule.tags,
            ts=e.ts,
            first_ts=e.ts if first_t >= e.ts.timestamp() else datetime.fromtimestamp(first_t, UTC),
            group=group,
            count=count,
            summary=summary,
            evidence=evidence[-MAX_EVIDENCE:],
        )


def as_text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def group_text(rule: Rule, key: Key) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(rule.group_by, key, strict=True)) or "all"


# ================================================================ match


class _Quiet:
    __slots__ = ("quiet_until",)

    def __init__(self) -> None:
        self.quiet_until = -math.inf


class MatchDetector(Detector[_Quiet]):
    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if not self.condition(e):
            return None
        key = self.key(e)
        state = self._state(key, _Quiet)
        if t < state.quiet_until:
            return None
        state.quiet_until = t + self.rule.cooldown
        what = e.message or f"{e.action} by {e.actor or '?'} on {e.target or '?'}"
        return self._detection(e, t, key, 1, (evidence_of(e),), f"{self.rule.title}: {what[:300]}")

    def prune(self, now: float) -> None:
        for key in [k for k, s in self.groups.items() if s.quiet_until <= now]:
            del self.groups[key]
