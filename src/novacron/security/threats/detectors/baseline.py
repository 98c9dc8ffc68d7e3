"""Baseline rules: per-group event rate against its own rolling baseline."""

from __future__ import annotations

import math
from collections import deque

from .._validate import format_duration
from ..detection import MAX_EVIDENCE, Detection
from ..events import SecurityEvent
from ..rules import BaselineParams, Rule
from .base import Detector, evidence_of, group_text


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
        self.evidence: deque[SecurityEvent] = deque(maxlen=MAX_EVIDENCE)


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
        s.evidence.append(e)
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
            tuple(map(evidence_of, s.evidence)),
            f"{s.count} events in one {per} for {group_text(self.rule, key)}; usual "
            f"{expected} per active {per} (limit {limit:.0f}, floor {p.floor})",
            expected=expected,
            threshold=f"{limit:.0f}",
            window=per,
        )

    def prune(self, now: float) -> None:
        cutoff = now - self.p.forget
        for key in [k for k, s in self.groups.items() if s.last < cutoff]:
            del self.groups[key]
