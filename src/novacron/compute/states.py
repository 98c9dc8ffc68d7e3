"""The VM state machine: which actions are legal in which state, and where they lead.

Pure code. A VM in a transitional state (``starting``, ``stopping`` …) has an
operation running on it; any other action is refused until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from novacron.core.errors import InvalidState

STABLE = frozenset(
    {"running", "stopped", "paused", "crashed", "error", "unknown", "lost", "deleted"}
)
TRANSITIONAL = frozenset(
    {
        "building",
        "starting",
        "stopping",
        "rebooting",
        "pausing",
        "resuming",
        "deleting",
        "snapshotting",
        "reverting",
        "resizing",
        "cloning",
        "migrating",
    }
)
#: States in which the VM holds its host's resources and has files there.
ON_HOST = frozenset({"running", "stopped", "paused", "crashed"})
ALL_STATES = STABLE | TRANSITIONAL


@dataclass(frozen=True)
class Transition:
    action: str
    allowed_from: frozenset[str]
    during: str
    """State while the operation runs."""
    success: str | None
    """State when it succeeds; None: the power state the host reports afterwards."""


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("start", frozenset({"stopped", "crashed"}), "starting", "running"),
        Transition("stop", frozenset({"running", "paused"}), "stopping", "stopped"),
        # A forced stop also rescues VMs whose state we lost track of.
        Transition(
            "force-stop",
            # ... and overrides a graceful stop that hangs (a guest ignoring ACPI): the
            # new operation supersedes the running one.
            frozenset({"running", "paused", "crashed", "error", "unknown", "stopping"}),
            "stopping",
            "stopped",
        ),
        Transition("reboot", frozenset({"running"}), "rebooting", "running"),
        Transition("pause", frozenset({"running"}), "pausing", "paused"),
        Transition("resume", frozenset({"paused"}), "resuming", "running"),
        Transition(
            "delete",
            frozenset({"running", "stopped", "paused", "crashed", "error", "unknown", "lost"}),
            "deleting",
            "deleted",
        ),
        # Snapshot create/delete: the VM keeps its power state.
        Transition("snapshot", frozenset({"running", "paused", "stopped"}), "snapshotting", None),
        # Back to a snapshot: running if it saved RAM, else stopped.
        Transition(
            "revert", frozenset({"running", "paused", "stopped", "crashed"}), "reverting", None
        ),
        # CPU and memory offline; the disk may also grow while running.
        Transition("resize", frozenset({"stopped", "running", "paused"}), "resizing", None),
        Transition("clone", frozenset({"stopped"}), "cloning", "stopped"),
        # Live migration: the VM keeps running (on the destination when it succeeds).
        Transition("migrate", frozenset({"running", "paused"}), "migrating", None),
    )
}

#: Actions that take no arguments (buttons in the UI, ``novacron vm <action>``).
SIMPLE_ACTIONS = ("start", "stop", "force-stop", "reboot", "pause", "resume", "delete")
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
    """The argument-free actions allowed in ``current``."""
    return [a for a in SIMPLE_ACTIONS if current in TRANSITIONS[a].allowed_from]
