"""Sequence rules: steps matched in order by one group within a window."""

from __future__ import annotations

import math

from .._validate import format_duration
from ..detection import MAX_EVIDENCE, Detection
from ..events import SecurityEvent
from ..rules import Rule, SequenceParams
from .base import Detector, evidence_of, group_text


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
                    f"{n} steps within {format_duration(window)} for {group_text(self.rule, key)}",
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
