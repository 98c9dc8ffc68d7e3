"""What the engine reports: one :class:`Detection` per rule, group and cool-down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .rules import Mitre

MAX_EVIDENCE = 10
"""Request ids (or targets, or log lines) kept per detection: enough to pivot into the
audit log, bounded so a flood does not make a detection unbounded."""


@dataclass(frozen=True, slots=True)
class Detection:
    rule_id: str
    family: str
    title: str
    priority: str
    mitre: Mitre
    tags: tuple[str, ...]
    ts: datetime
    """Time of the event that triggered it (event time, not wall-clock)."""
    first_ts: datetime
    """Start of the evidence: the oldest event of the window or the first step."""
    group: Mapping[str, str | None]
    count: int
    summary: str
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        def iso(t: datetime) -> str:
            return t.isoformat().replace("+00:00", "Z")

        return {
            "rule_id": self.rule_id,
            "family": self.family,
            "title": self.title,
            "priority": self.priority,
            "mitre": {"technique": self.mitre.technique, "tactic": self.mitre.tactic},
            "tags": list(self.tags),
            "ts": iso(self.ts),
            "first_ts": iso(self.first_ts),
            "group": dict(self.group),
            "count": self.count,
            "summary": self.summary,
            "evidence": list(self.evidence),
        }
