"""Threshold rules: N matching events (or N distinct values) per group in a sliding
window."""

from __future__ import annotations

import math
from collections import OrderedDict, deque

from .._validate import format_duration
from ..detection import MAX_EVIDENCE, Detection
from ..events import SecurityEvent
from ..rules import Rule, ThresholdParams
from .base import Detector, Key, as_text, evidence_of, group_text

MAX_WINDOW_EVENTS = 256
"""Timestamps (or distinct values) kept per threshold group beyond the threshold itself:
a detection's ``count`` saturates at ``max(threshold, MAX_WINDOW_EVENTS)``."""


class _Window:
    __slots__ = ("evidence", "quiet_until", "times", "values")

    def __init__(self, distinct: bool, cap: int) -> None:
        self.times: deque[float] = deque(maxlen=cap)
        self.values: OrderedDict[str | None, float] | None = OrderedDict() if distinct else None
        self.evidence: deque[SecurityEvent] = deque(maxlen=MAX_EVIDENCE)
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
        key = tuple([as_text(g(e)) for g in u.same_get])
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
            value = as_text(p.distinct_get(e))
            if value is None:
                return None
            values[value] = t
            values.move_to_end(value)
            while next(iter(values.values())) < cutoff:
                values.popitem(last=False)
            if len(values) > self.cap:
                values.popitem(last=False)
            count, first = len(values), next(iter(values.values()))
        state.evidence.append(e)
        if count < p.threshold or t < state.quiet_until:
            return None
        state.quiet_until = t + self.rule.cooldown
        window = format_duration(p.window)
        what = f"distinct {p.distinct} values" if p.distinct else "matching events"
        default = f"{count} {what} within {window} for {group_text(self.rule, key)}"
        if state.values is not None:
            default += ": " + ", ".join(str(v) for v in list(state.values)[-MAX_EVIDENCE:])
        return self._detection(
            e,
            first,
            key,
            count,
            tuple(map(evidence_of, state.evidence)),
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
            last = (
                s.times[-1]
                if s.values is None
                else (next(reversed(s.values.values())) if s.values else -math.inf)
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
