from __future__ import annotations

import pytest

from novacron.compute import states
from novacron.core.errors import InvalidState


@pytest.mark.parametrize(
    ("action", "current", "during", "success"),
    [
        ("start", "stopped", "starting", "running"),
        ("stop", "running", "stopping", "stopped"),
        ("stop", "paused", "stopping", "stopped"),
        ("force-stop", "unknown", "stopping", "stopped"),
        ("reboot", "running", "rebooting", "running"),
        ("pause", "running", "pausing", "paused"),
        ("resume", "paused", "resuming", "running"),
        ("delete", "error", "deleting", "deleted"),
    ],
)
def test_legal_transitions(action: str, current: str, during: str, success: str) -> None:
    t = states.begin(action, current)
    assert (t.during, t.success) == (during, success)


@pytest.mark.parametrize(
    ("action", "current", "fragment"),
    [
        ("pause", "stopped", "cannot pause a VM that is stopped"),
        ("start", "running", "cannot start a VM that is running"),
        ("resume", "running", "cannot resume"),
        ("delete", "deleting", "an operation is running"),
        ("delete", "deleted", "cannot delete a VM that is deleted"),
        ("stop", "building", "an operation is running"),
        ("reboot", "paused", "allowed from: running"),
    ],
)
def test_illegal_transitions(action: str, current: str, fragment: str) -> None:
    with pytest.raises(InvalidState, match=fragment):
        states.begin(action, current)


def test_unknown_action() -> None:
    with pytest.raises(InvalidState, match="unknown action"):
        states.begin("explode", "running")


def test_allowed_actions_match_transitions() -> None:
    assert states.allowed_actions("running") == ["stop", "force-stop", "reboot", "pause", "delete"]
    assert states.allowed_actions("stopped") == ["start", "delete"]
    assert states.allowed_actions("building") == []
    # Every transitional state is reachable only through an action.
    assert {t.during for t in states.TRANSITIONS.values()} <= states.TRANSITIONAL
