"""Helpers for the threat detection tests: events at offsets from a fixed time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from novacron.security.threats import Detection, Engine, Rule, SecurityEvent, load_rules

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Ev = Callable[..., SecurityEvent]


@pytest.fixture(scope="session")
def rules() -> list[Rule]:
    return load_rules()


@pytest.fixture
def ev() -> Ev:
    """``ev(seconds_after_T0, action, **fields)``; audit source unless ``message`` is set."""
    counter = iter(range(1, 1_000_000))

    def make(t: float, action: str, **kw: Any) -> SecurityEvent:
        kw.setdefault("source", "host" if action == "qemu.log" else "audit")
        if kw["source"] == "audit":
            kw.setdefault("request_id", f"req-{next(counter)}")
        return SecurityEvent(ts=T0 + timedelta(seconds=t), action=action, **kw)

    return make


@pytest.fixture
def run(rules: list[Rule]) -> Callable[[list[SecurityEvent]], list[Detection]]:
    """Run events (sorted by time) through a fresh engine over the shipped rules."""

    def go(events: list[SecurityEvent]) -> list[Detection]:
        return Engine(rules).run(sorted(events, key=lambda e: e.ts))

    return go
