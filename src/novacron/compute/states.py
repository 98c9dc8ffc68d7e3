"""The VM state machine: which actions are legal in which state, and where they lead.

Pure code. A VM in a transitional state (``starting``, ``stopping`` …) has an
operation running on it; any other action is refused until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from novacron.core.errors import InvalidState

STABLE = frozenset({"running", "stopped", "paused", "error", "unknown", "deleted"})
TRANSITIONAL = frozenset(
    {"building", "starting", "stopping", "rebooting", "pausing", "resuming", "deleting"}
)
ALL_STATES = STABLE | TRANSITIONAL


@dataclass(frozen=True)
class Transition:
    action: str
    allowed_from: frozenset[str]
    during: str
    """State while the operation runs."""
    success: str
    """State when it succeeds."""


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("start", frozenset({"stopped"}), "starting", "running"),
        Transition("stop", frozenset({"running", "paused"}), "stopping", "stopped"),
        # A forced stop also rescues VMs whose state we lost track of.
        Transition(
            "force-stop",
            # ... and overrides a graceful stop that hangs (a guest ignoring ACPI): the
            # new operation supersedes the running one.
            frozenset({"running", "paused", "error", "unknown", "stopping"}),
            "stopping",
            "stopped",
        ),
        Transition("reboot", frozenset({"running"}), "rebooting", "running"),
        Transition("pause", frozenset({"running"}), "pausing", "paused"),
        Transition("resume", frozenset({"paused"}), "resuming", "running"),
        Transition(
            "delete",
            frozenset({"running", "stopped", "paused", "error", "unknown"}),
            "deleting",
            "deleted",
        ),
    )
}

ACTIONS = tuple(TRANSITIONS)


def begin(action: str, current: str) -> Transition:
    """The transition for ``action`` from ``current``; raises InvalidState when illegal."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise InvalidState(f"unknown action {action!r}")
    if current not in transition.allowed_from:
        if current in TRANSITIONAL:
            raise InvalidState(f"cannot {action} a VM that is {current}: an operation is running")
        allowed = ", ".join(sorted(transition.allowed_from))
        raise InvalidState(f"cannot {action} a VM that is {current} (allowed from: {allowed})")
    return transition


def allowed_actions(current: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if current in t.allowed_from]
