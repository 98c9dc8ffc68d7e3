"""Pieces of the snapshot/resize handlers that decide what a retried step means."""

from __future__ import annotations

from typing import Any

import pytest

from novacron.compute.definition_handlers import _resized_anyway, _take
from novacron.core.errors import AgentUnreachable, Conflict


class FakeAgent:
    """Just the agent calls the helpers make (a fake, not a mock: it keeps state)."""

    def __init__(self, snapshots: list[dict[str, Any]], vm: dict[str, Any] | None = None) -> None:
        self._snapshots = snapshots
        self._vm = vm

    def snapshot_create(self, host: str, vm_id: str, name: str) -> dict[str, Any]:
        if any(s["name"] == name for s in self._snapshots):
            raise Conflict(f"VM {vm_id} already has a snapshot named {name!r}")
        snap = {"name": name, "vm_state_bytes": 1, "created_at": 0.0}
        self._snapshots.append(snap)
        return snap

    def snapshots(self, host: str, vm_id: str) -> list[dict[str, Any]]:
        return list(self._snapshots)

    def get_vm(self, host: str, vm_id: str) -> dict[str, Any] | None:
        if self._vm is None:
            raise AgentUnreachable("agent unreachable")
        return self._vm


def test_a_retried_snapshot_adopts_the_one_the_host_already_took() -> None:
    """Regression: the retry failed with a conflict and the snapshot was never recorded."""
    agent = FakeAgent([{"name": "s1", "vm_state_bytes": 7, "created_at": 1.0}])
    assert _take(agent, "h", "vm-1", "s1")["vm_state_bytes"] == 7  # type: ignore[arg-type]
    assert _take(agent, "h", "vm-1", "s2")["name"] == "s2"  # type: ignore[arg-type]


def test_a_conflict_without_such_snapshot_still_fails() -> None:
    class Odd(FakeAgent):
        def snapshot_create(self, host: str, vm_id: str, name: str) -> dict[str, Any]:
            raise Conflict("busy")

    with pytest.raises(Conflict):
        _take(Odd([]), "h", "vm-1", "s1")  # type: ignore[arg-type]


def test_a_resize_whose_answer_was_lost_counts_when_the_host_has_the_new_size() -> None:
    done = {"vcpus": 2, "memory_mib": 512, "disk_gib": 3, "power_state": "stopped"}
    agent = FakeAgent([], vm=done)
    wanted = {"vcpus": 2, "memory_mib": None, "disk_gib": 3}
    assert _resized_anyway(agent, "h", "vm-1", wanted) == done  # type: ignore[arg-type]
    assert _resized_anyway(agent, "h", "vm-1", {"vcpus": 4}) is None  # type: ignore[arg-type]
    assert _resized_anyway(FakeAgent([]), "h", "vm-1", wanted) is None  # type: ignore[arg-type]
