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

import ipaddress
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from ._validate import format_duration
from .conditions import parse_ip
from .detection import MAX_EVIDENCE, Detection
from .events import SecurityEvent
from .rules import (
    BaselineParams,
    MatchParams,
    NewValueParams,
    Rule,
    SequenceParams,
    ThresholdParams,
)

S = TypeVar("S")
Key = tuple[str | None, ...]
MAX_WINDOW_EVENTS = 256
"""Timestamps (or distinct values) kept per threshold group beyond the threshold itself:
a detection's ``count`` saturates at ``max(threshold, MAX_WINDOW_EVENTS)``."""


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
            self.key = lambda e: (_text(g(e)),)
        else:
            self.key = lambda e: tuple([_text(g(e)) for g in gets])

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


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _group_text(rule: Rule, key: Key) -> str:
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
        return self._detection(
            e, t, key, 1, (evidence_of(e),), f"{self.rule.title}: {what[:300]}"
        )

    def prune(self, now: float) -> None:
        for key in [k for k, s in self.groups.items() if s.quiet_until <= now]:
            del self.groups[key]


# ================================================================ threshold


class _Window:
    __slots__ = ("evidence", "quiet_until", "times", "values")

    def __init__(self, distinct: bool, cap: int) -> None:
        self.times: deque[float] = deque(maxlen=cap)
        self.values: OrderedDict[str | None, float] | None = OrderedDict() if distinct else None
        self.evidence: deque[str] = deque(maxlen=MAX_EVIDENCE)
        self.quiet_until = -math.inf


class ThresholdDetector(Detector[_Window]):
    def __init__(self, rule: Rule, max_groups: int) -> None:
        super().__init__(rule, max_groups)
        assert isinstance(rule.params, ThresholdParams)
        self.p = rule.params
        self.cap = max(rule.params.threshold, MAX_WINDOW_EVENTS)
        # ``unless``: when each (same-fields) key last matched the exempting condition.
        self.recent: OrderedDict[Key, float] = OrderedDict()

    def _unless(self, e: SecurityEvent, t: float) -> bool:
        """Remember an exempting event; say whether ``e`` is exempt."""
        u = self.p.unless
        assert u is not None
        key = tuple([_text(g(e)) for g in u.same_get])
        if None in key:
            return False
        if u.condition.test(e):
            self.recent[key] = t
            self.recent.move_to_end(key)
            if len(self.recent) > self.max_groups:
                self.recent.popitem(last=False)
            return False
        seen = self.recent.get(key)
        return seen is not None and t - seen <= u.within

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if self.p.unless is not None and self._unless(e, t):
            return None
        if not self.condition(e):
            return None
        key = self.key(e)
        if None in key:
            return None
        p = self.p
        state = self._state(key, lambda: _Window(p.distinct_get is not None, self.cap))
        cutoff = t - p.window
        if state.values is None:
            times = state.times
            times.append(t)
            while times[0] < cutoff:
                times.popleft()
            count, first = len(times), times[0]
        else:
            assert p.distinct_get is not None
            values = state.values
            value = _text(p.distinct_get(e))
            if value is None:
                return None
            values[value] = t
            values.move_to_end(value)
            while next(iter(values.values())) < cutoff:
                values.popitem(last=False)
            if len(values) > self.cap:
                values.popitem(last=False)
            count, first = len(values), next(iter(values.values()))
        state.evidence.append(evidence_of(e))
        if count < p.threshold or t < state.quiet_until:
            return None
        state.quiet_until = t + self.rule.cooldown
        window = format_duration(p.window)
        what = f"distinct {p.distinct} values" if p.distinct else "matching events"
        default = f"{count} {what} within {window} for {_group_text(self.rule, key)}"
        if state.values is not None:
            default += ": " + ", ".join(str(v) for v in list(state.values)[-MAX_EVIDENCE:])
        return self._detection(
            e,
            first,
            key,
            count,
            tuple(state.evidence),
            f"{default} (threshold {p.threshold})",
            window=window,
            threshold=p.threshold,
        )

    def prune(self, now: float) -> None:
        if self.p.unless is not None:
            horizon = now - self.p.unless.within
            while self.recent and next(iter(self.recent.values())) < horizon:
                self.recent.popitem(last=False)
        cutoff = now - self.p.window
        stale = []
        for key, s in self.groups.items():
            last = s.times[-1] if s.values is None else (
                next(reversed(s.values.values())) if s.values else -math.inf
            )
            if last < cutoff and s.quiet_until <= now:
                stale.append(key)
        for key in stale:
            del self.groups[key]

    def size(self) -> int:
        return len(self.recent) + sum(
            1 + len(s.times) + (len(s.values) if s.values is not None else 0)
            for s in self.groups.values()
        )


# ================================================================ new value


class _Known:
    __slots__ = ("first", "last", "quiet_until", "values")

    def __init__(self, t: float) -> None:
        self.first = t
        self.last = t
        self.values: OrderedDict[str, float] = OrderedDict()
        self.quiet_until = -math.inf


@lru_cache(maxsize=16384)
def _place(value: str, v4: int, v6: int) -> str:
    """An address as its network (``203.0.113.0/24``), anything else unchanged."""
    addr = parse_ip(value)
    if addr is None:
        return value
    prefix = v4 if addr.version == 4 else v6
    if prefix == addr.max_prefixlen:
        return str(addr)
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


class NewValueDetector(Detector[_Known]):
    def __init__(self, rule: Rule, max_groups: int) -> None:
        super().__init__(rule, max_groups)
        assert isinstance(rule.params, NewValueParams)
        self.p = rule.params

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if not self.condition(e):
            return None
        raw = _text(self.p.value_get(e))
        if raw is None:
            return None
        key = self.key(e)
        if None in key:
            return None
        p = self.p
        value = _place(raw, p.ipv4_prefix, p.ipv6_prefix)
        state = self._state(key, lambda: _Known(t))
        state.last = t
        values = state.values
        if value in values:
            values[value] = t
            values.move_to_end(value)
            return None
        known = list(values)
        values[value] = t
        if len(values) > p.max_values:
            values.popitem(last=False)
        # Learning is per group: a group's own first weeks (and its first value) never
        # fire, so a token created today is not flagged for its second address.
        if not known or t - state.first < p.learning or t < state.quiet_until:
            return None
        state.quiet_until = t + self.rule.cooldown
        shown = ", ".join(known[-5:]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
        group = _group_text(self.rule, key)
        return self._detection(
            e,
            t,
            key,
            1,
            (evidence_of(e),),
            f"{group}: {p.value} {raw} never seen before (known: {shown})",
            value=raw,
            known=shown,
        )

    def prune(self, now: float) -> None:
        cutoff = now - self.p.forget
        for key in [k for k, s in self.groups.items() if s.last < cutoff]:
            del self.groups[key]

    def size(self) -> int:
        return sum(1 + len(s.values) for s in self.groups.values())


# ================================================================ sequence


class _Partial:
    __slots__ = ("evidence", "quiet_until", "starts")

    def __init__(self, n: int) -> None:
        # starts[i]: start time of the most recent partial match that has completed
        # steps 0..i (the most recent start leaves the most time to complete it).
        self.starts: list[float | None] = [None] * (n - 1)
        self.evidence: list[tuple[str, ...]] = [()] * (n - 1)
        self.quiet_until = -math.inf


class SequenceDetector(Detector[_Partial]):
    def __init__(self, rule: Rule, max_groups: int) -> None:
        super().__init__(rule, max_groups)
        assert isinstance(rule.params, SequenceParams)
        self.p = rule.params
        self.steps = tuple(s.test for s in rule.params.steps)

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if not self.condition(e):
            return None
        hits = [step(e) for step in self.steps]
        if not any(hits):
            return None
        key = self.key(e)
        if None in key:
            return None
        n = len(self.steps)
        state = self.groups.get(key)
        if state is None:
            if not hits[0]:
                return None  # only a first step opens state
            state = self._state(key, lambda: _Partial(n))
        else:
            self.groups.move_to_end(key)
        window = self.p.window
        item = evidence_of(e)
        found: Detection | None = None
        # Last step first, so one event matching two steps cannot chain with itself.
        for i in range(n - 1, -1, -1):
            if not hits[i]:
                continue
            if i == 0:
                state.starts[0] = t
                state.evidence[0] = (item,)
                continue
            start = state.starts[i - 1]
            if start is None or t - start > window:
                continue
            evidence = (*state.evidence[i - 1], item)
            if i < n - 1:
                prev = state.starts[i]
                if prev is None or start >= prev:
                    state.starts[i] = start
                    state.evidence[i] = evidence[-MAX_EVIDENCE:]
                continue
            state.starts = [None] * (n - 1)
            state.evidence = [()] * (n - 1)
            if t >= state.quiet_until:
                state.quiet_until = t + self.rule.cooldown
                found = self._detection(
                    e,
                    start,
                    key,
                    n,
                    evidence,
                    f"{n} steps within {format_duration(window)} for "
                    f"{_group_text(self.rule, key)}",
                    window=format_duration(window),
                )
            break
        return found

    def prune(self, now: float) -> None:
        cutoff = now - self.p.window
        stale = [
            k
            for k, s in self.groups.items()
            if s.quiet_until <= now and all(x is None or x < cutoff for x in s.starts)
        ]
        for key in stale:
            del self.groups[key]

    def size(self) -> int:
        return len(self.groups) * len(self.steps)


# ================================================================ baseline


class _Rate:
    __slots__ = ("bucket", "count", "evidence", "last", "mean", "n", "quiet_until", "var")

    def __init__(self) -> None:
        self.bucket = -1
        self.count = 0
        self.mean = 0.0
        self.var = 0.0
        self.n = 0
        self.last = -math.inf
        self.quiet_until = -math.inf
        self.evidence: deque[str] = deque(maxlen=MAX_EVIDENCE)


class BaselineDetector(Detector[_Rate]):
    """Events per bucket (minute) per group against an exponentially weighted mean and
    variance of the group's *active* buckets.

    - Only buckets with activity are learned: a quiet night must not make the morning's
      first burst look anomalous, and bursty-but-regular traffic (CI pipelines) keeps the
      large variance it has.
    - A bucket is winsorised at ``max(mean + k·sd, floor)`` before it is learned, so an
      attack — even one during the learning period — teaches the baseline only a little,
      while anything below the floor is learned as it is.
    - ``sd`` is at least ``sqrt(mean)`` (Poisson noise) and 1, so a perfectly regular
      actor is not flagged for one extra request; ``floor`` keeps small absolute counts
      quiet whatever the history.
    """

    def __init__(self, rule: Rule, max_groups: int) -> None:
        super().__init__(rule, max_groups)
        assert isinstance(rule.params, BaselineParams)
        self.p = rule.params

    def _sd(self, s: _Rate) -> float:
        return max(math.sqrt(s.var), math.sqrt(s.mean), 1.0)

    def _learn(self, s: _Rate, x: float) -> None:
        p = self.p
        if s.n:
            x = min(x, max(s.mean + p.k * self._sd(s), p.floor))
        # 1/(n+1) until it drops below alpha: the first buckets give a plain mean and
        # variance instead of a baseline dragged towards the initial zero.
        alpha = max(p.alpha, 1.0 / (s.n + 1))
        diff = x - s.mean
        incr = alpha * diff
        s.mean += incr
        s.var = (1.0 - alpha) * (s.var + diff * incr)
        s.n += 1

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if not self.condition(e):
            return None
        key = self.key(e)
        if None in key:
            return None
        p = self.p
        s = self._state(key, _Rate)
        bucket = int(t // p.bucket)
        if bucket != s.bucket:
            if s.count:
                self._learn(s, s.count)
            s.bucket, s.count = bucket, 0
            s.evidence.clear()
        s.count += 1
        s.last = t
        s.evidence.append(evidence_of(e))
        if s.count < p.floor or s.n < p.min_history or t < s.quiet_until:
            return None
        limit = s.mean + p.k * self._sd(s)
        if s.count <= limit:
            return None
        s.quiet_until = t + self.rule.cooldown
        per = format_duration(p.bucket)
        expected = f"{s.mean:.1f} ± {self._sd(s):.1f}"
        return self._detection(
            e,
            bucket * p.bucket,
            key,
            s.count,
            tuple(s.evidence),
            f"{s.count} events in one {per} for {_group_text(self.rule, key)}; usual "
            f"{expected} per active {per} (limit {limit:.0f}, floor {p.floor})",
            expected=expected,
            threshold=f"{limit:.0f}",
            window=per,
        )

    def prune(self, now: float) -> None:
        cutoff = now - self.p.forget
        for key in [k for k, s in self.groups.items() if s.last < cutoff]:
            del self.groups[key]


def detector_for(rule: Rule, max_groups: int) -> Detector[Any]:
    kinds: dict[type, type[Detector[Any]]] = {
        MatchParams: MatchDetector,
        ThresholdParams: ThresholdDetector,
        NewValueParams: NewValueDetector,
        SequenceParams: SequenceDetector,
        BaselineParams: BaselineDetector,
    }
    return kinds[type(rule.params)](rule, max_groups)
