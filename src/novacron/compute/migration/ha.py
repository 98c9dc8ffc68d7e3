"""High availability: restart a failed host's HA VMs elsewhere — only once the host is
fenced, so that a VM never runs twice.

A host that misses its heartbeats goes ``down`` (``hosts.mark_down_missing``). It
counts as *fenced* — its guests certainly stopped — when

- an operator confirms it (``POST /hosts/{ref}/fence``, e.g. after a power-off through
  the BMC), or
- with ``ha_fencing = "watchdog"`` (the default), it has been silent for
  ``ha_fence_after_s``: every agent stops its HA guests once it has not reached the
  server for ``ha_self_fence_s`` (< ``ha_fence_after_s``), so a host that is alive but
  cut off has stopped them by then. An agent that comes back reports that it did.

Then each of its HA VMs is restarted on another host when its disk can be reached from
there — the failed host shares a storage pool with it (host label ``shared-storage``)
— through an ordinary ``vm.create`` on another host of that pool; otherwise it is marked
``lost`` with the reason. When the failed host returns, the copies it still knows are
orphans (their VM lives elsewhere now, or is lost) and its agent destroys them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.compute import hosts as host_service
from novacron.compute import operations
from novacron.compute.models import VM, Host
from novacron.compute.placement import release
from novacron.compute.vms import set_state
from novacron.core import events
from novacron.core.config import Settings
from novacron.core.database import db_now
from novacron.core.errors import Invalid, InvalidState

log = logging.getLogger("novacron.ha")

STORAGE_LABEL = "shared-storage"
#: States in which a VM on a failed host is brought back (``unknown`` is what a
#: running, paused or stopped VM becomes when its host goes down).
RECOVERABLE = frozenset({"unknown", "running", "paused", "crashed"})


def sweep(session: Session, settings: Settings) -> list[str]:
    """Fence what the policy allows; recover the HA VMs of fenced hosts. Returns what
    was done, one line each (for the log)."""
    now = db_now(session)
    done: list[str] = []
    for host in session.scalars(select(Host).where(Host.status == "down")):
        if host.fenced_at is None and not _fence_by_policy(session, host, settings, now):
            continue
        for vm in session.scalars(
            select(VM).where(
                VM.host_id == host.id,
                VM.ha.is_(True),
                VM.state.in_(RECOVERABLE),
                VM.task_operation_id.is_(None),
            )
        ):
            done.append(_recover(session, vm, host))
    return done


def confirm_fence(session: Session, ref: str, reason: str) -> Host:
    """An operator's word that a down host is powered off."""
    host = host_service.find_host(session, ref)
    if host.status != "down":
        raise InvalidState(
            f"host {host.name} is {host.state}: only a host that stopped reporting is fenced"
        )
    if not reason.strip():
        raise Invalid(
            "say how the host was fenced",
            errors=[{"loc": ["body", "reason"], "msg": "e.g. 'powered off via BMC'"}],
        )
    _fence(session, host, f"confirmed by an operator: {reason.strip()}", db_now(session))
    return host


def agent_fenced(session: Session, host: Host, stopped: int, after_s: float) -> None:
    """The agent of a host that is back says its watchdog stopped HA guests."""
    log.warning(
        "agent of %s stopped %d HA guest(s) after %.0f s alone", host.name, stopped, after_s
    )
    events.publish(
        session,
        "host.self_fenced",
        "host",
        host.id,
        {"name": host.name, "stopped": stopped, "after_s": after_s},
    )


def self_fence_instructions(
    session: Session, host_ids: list[str], settings: Settings
) -> dict[str, Any]:
    """What an agent's watchdog stops if it loses the server: its hosts' HA VMs."""
    if settings.ha_fencing != "watchdog" or not host_ids:
        return {}
    rows = session.execute(
        select(Host.name, VM.id)
        .join(VM, VM.host_id == Host.id)
        .where(Host.id.in_(host_ids), VM.ha.is_(True), VM.state != "deleted")
    ).all()
    vms: dict[str, list[str]] = {}
    for host_name, vm_id in rows:
        vms.setdefault(host_name, []).append(vm_id)
    return {"after_s": settings.ha_self_fence_s, "vms": vms} if vms else {}


# -- internals ---------------------------------------------------------------------------


def _fence_by_policy(session: Session, host: Host, settings: Settings, now: datetime) -> bool:
    if settings.ha_fencing != "watchdog" or host.last_heartbeat_at is None:
        return False
    silent = now - host.last_heartbeat_at
    if silent < timedelta(seconds=settings.ha_fence_after_s):
        return False
    reason = (
        f"silent for {silent.total_seconds():.0f} s; its agent stops HA guests after "
        f"{settings.ha_self_fence_s:.0f} s without the server"
    )
    _fence(session, host, reason, now)
    return True


def _fence(session: Session, host: Host, reason: str, now: datetime) -> None:
    host.fenced_at, host.fence_reason = now, reason[:256]
    host_service.publish_host(session, host)
    events.publish(session, "host.fenced", "host", host.id, {"name": host.name, "reason": reason})
    log.warning("host %s fenced: %s", host.name, reason)


def _recover(session: Session, vm: VM, host: Host) -> str:
    pool = (host.labels or {}).get(STORAGE_LABEL)
    if not pool:  # it keeps its claim: if the host comes back, so may the VM
        reason = (
            f"host {host.name} failed and is fenced ({host.fence_reason}); the VM's disk is "
            "on that host's local storage, which no other host can reach"
        )
        set_state(session, vm, "lost", fault=reason)
        events.publish(session, "vm.lost", "vm", vm.id, {"name": vm.name, "reason": reason})
        return f"{vm.name}: lost"
    if vm.claimed:  # nothing of it runs on the failed host any more
        release(session, host.id, vm.vcpus, vm.memory_mib, vm.disk_gib)
        vm.claimed = False
    op = operations.enqueue(
        session,
        "vm.create",
        "vm",
        vm.id,
        requested_by="ha",
        params={
            "tried_hosts": [host.id],
            "require_labels": {STORAGE_LABEL: pool},
            "ha_restart_from": host.name,
        },
        project_id=vm.project_id,
    )
    vm.host_id, vm.requested_host, vm.task_operation_id = None, None, op.id
    set_state(session, vm, "building", fault=f"HA restart: host {host.name} failed")
    events.publish(
        session, "vm.ha_restart", "vm", vm.id, {"name": vm.name, "from": host.name, "op": op.id}
    )
    return f"{vm.name}: restarting from storage pool {pool}"
