"""Restart policies: what happens when a host reports a VM crashed or powered off.

``on-failure`` restarts a crashed VM; ``always`` also restarts a VM whose guest powered
itself off. Each restart is an ordinary ``vm.start`` operation requested by
``restart-policy``, so it shows in the operation list and fails like any start. A
policy gives up after ``restart_max`` restarts within ``restart_window_s`` (a VM that
crashes at boot must not restart forever) and says so in the VM's fault.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from novacron.compute.models import VM
from novacron.compute.vms import act
from novacron.core.config import Settings
from novacron.core.database import db_now

log = logging.getLogger("novacron.restart")

REQUESTER = "restart-policy"


def wants_restart(policy: str, previous: str, reported: str) -> bool:
    """Pure: does ``policy`` restart a VM that went from ``previous`` to ``reported``?"""
    if reported == "crashed":
        return policy in ("on-failure", "always")
    # "stopped" reported for a VM we believed running: the guest powered itself off.
    return reported == "stopped" and previous == "running" and policy == "always"


def after_report(
    session: Session, vm: VM, previous: str, reported: str, settings: Settings
) -> None:
    """Called in the heartbeat's transaction once a reported state change is believed."""
    if not wants_restart(vm.restart_policy, previous, reported):
        return
    now = db_now(session)
    window = timedelta(seconds=settings.restart_window_s)
    if vm.restart_window_at is None or now - vm.restart_window_at > window:
        vm.restart_window_at, vm.restarts = now, 0
    if vm.restarts >= settings.restart_max:
        vm.fault = (
            f"{vm.fault}; restart policy gave up after {vm.restarts} restarts "
            f"within {settings.restart_window_s:.0f}s"
        ).lstrip("; ")
        log.warning("VM %s: %s", vm.name, vm.fault)
        return
    vm.restarts += 1
    act(
        session,
        vm.id,
        "start",
        REQUESTER,
        params={"restart": vm.restarts},
        project_id=vm.project_id,
    )
    log.info(
        "VM %s %s; restart %d by its %s policy", vm.name, reported, vm.restarts, vm.restart_policy
    )
