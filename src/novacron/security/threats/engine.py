"""The streaming detection engine: events in, in time order; detections out.

    engine = Engine(load_rules())
    for event in stream:
        for detection in engine.feed(event):
            ...

Each rule gets a detector (see ``detectors.py``). Rules whose conditions pin ``action``
(``equals``/``in`` under ``all``/``any``) are indexed by it, so an event is offered only
to rules that could match it. Time is event time: windows, learning periods and
cool-downs never look at the wall clock, so a replay gives the same detections as the
live stream did. Every ``prune_every`` seconds of event time, expired state is dropped;
with the per-rule ``max_groups`` cap this keeps memory bounded on an endless stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from novacron.core.errors import Invalid

from .detection import Detection
from .detectors import Detector, detector_for
from .events import SecurityEvent
from .rules import Rule

__all__ = ["Detection", "Engine"]


class Engine:
    def __init__(
        self, rules: Sequence[Rule], *, max_groups: int = 50_000, prune_every: float = 300.0
    ) -> None:
        """``max_groups``: groups kept per rule before the least recently seen is evicted.
        ``prune_every``: seconds of event time between sweeps of expired state."""
        if max_groups < 1 or prune_every <= 0:
            raise Invalid("max_groups must be >= 1 and prune_every > 0")
        self.rules = tuple(rules)
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise Invalid("rule ids must be unique")
        self.detectors: tuple[Detector[Any], ...] = tuple(
            detector_for(r, max_groups) for r in self.rules
        )
        self._any = tuple(d for d in self.detectors if d.rule.actions is None)
        actions = {a for d in self.detectors for a in d.rule.actions or ()}
        # Per action, the detectors that may match it, in rule order.
        self._by_action = {
            a: tuple(d for d in self.detectors if d.rule.actions is None or a in d.rule.actions)
            for a in actions
        }
        self.prune_every = prune_every
        self.now = -math.inf
        """Event time (POSIX seconds) of the last event fed."""
        self._next_prune = -math.inf
        self.events = 0

    def feed(self, event: SecurityEvent) -> list[Detection]:
        """Detections triggered by ``event``, in rule order. Events must come in time
        order (equal times are fine); an older event is refused, since windows behind
        the engine's clock may already be pruned."""
        t = event.ts.timestamp()
        if t < self.now:
            raise Invalid(
                f"event at {event.ts.isoformat()} is older than the previous one; "
                "feed events in time order"
            )
        self.now = t
        if t >= self._next_prune:
            self.prune(t)
        self.events += 1
        out: list[Detection] = []
        for d in self._by_action.get(event.action, self._any):
            hit = d.feed(event, t)
            if hit is not None:
                out.append(hit)
        return out

    def run(self, events: Iterable[SecurityEvent]) -> list[Detection]:
        """:meth:`feed` every event; all detections in order."""
        out: list[Detection] = []
        for event in events:
            out.extend(self.feed(event))
        return out

    def prune(self, now: float | None = None) -> None:
        """Drop state that can no longer contribute to a detection (windows, cool-downs
        and learning memory that have passed). Called by :meth:`feed` periodically."""
        at = self.now if now is None else now
        for d in self.detectors:
            d.prune(at)
        self._next_prune = at + self.prune_every

    def state_size(self) -> int:
        """Items held over all rules (groups, timestamps, known values)."""
        return sum(d.size() for d in self.detectors)

    @property
    def evicted(self) -> int:
        """Groups dropped because a rule hit ``max_groups`` (state lost, not expired)."""
        return sum(d.evicted for d in self.detectors)
