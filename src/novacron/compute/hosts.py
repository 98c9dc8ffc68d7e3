"""Hosts and their agents: enrolment, heartbeats, liveness, maintenance."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from novacron.agent.client import AgentClient, agent_client
from novacron.compute import operations, restart_policy
from novacron.compute.models import VM, Agent, Host, Operation
from novacron.compute.schemas import (
    AgentRegister,
    AgentRegistered,
    Heartbeat,
    HostOut,
    HostUpdate,
)
from novacron.compute.vms import set_state
from novacron.core import events
from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.database import db_now
from novacron.core.errors import Conflict, Forbidden, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.security import tokens
from novacron.security.models import ApiToken

log = logging.getLogger("novacron.hosts")

# What a VM's state becomes when its host reports this power state.
POWER_TO_STATE = {
    "running": "running",
    "stopped": "stopped",
    "paused": "paused",
    "crashed": "crashed",
}


def state_of(info: dict[str, Any] | None) -> str:
    """The VM state matching an agent's VMInfo (``error`` when the host lacks the VM)."""
    if info is None:
        return "error"
    return POWER_TO_STATE.get(str(info.get("power_state")), "unknown")


def agent_client_for(session: Session, host_id: str, timeout_s: float) -> tuple[AgentClient, str]:
    """The (shared) client of the agent serving ``host_id``, and the host's name."""
    host = session.get(Host, host_id)
    agent = session.get(Agent, host.agent_id) if host is not None else None
    if host is None or agent is None:
        raise NotFound(f"host {host_id} no longer exists")
    return agent_client(agent.url, agent.api_secret, timeout_s), host.name


def find_host(session: Session, ref: str) -> Host:
    host = session.scalar(select(Host).where(or_(Host.id == ref, Host.name == ref)))
    if host is None:
        raise NotFound(f"no host {ref!r}")
    return host


def list_hosts(
    session: Session, params: PageParams, *, state: str | None = None
) -> tuple[list[HostOut], int]:
    stmt = select(Host).order_by(Host.name)
    if state == "down":
        stmt = stmt.where(Host.status == "down")
    elif state == "maintenance":
        stmt = stmt.where(Host.status == "up", Host.maintenance.is_(True))
    elif state == "up":
        stmt = stmt.where(Host.status == "up", Host.maintenance.is_(False))
    rows, total = paginate(session, stmt, params)
    return to_out(session, rows), total


def to_out(session: Session, hosts: list[Host]) -> list[HostOut]:
    ids = [h.id for h in hosts]
    counts = (
        dict(
            session.execute(
                select(VM.host_id, func.count())
                .where(VM.host_id.in_(ids), VM.state != "deleted")
                .group_by(VM.host_id)
            ).all()
        )
        if ids
        else {}
    )
    out = []
    for h in hosts:
        item = HostOut.model_validate(h)
        item.vm_count = int(counts.get(h.id, 0))
        out.append(item)
    return out


def update_host(session: Session, ref: str, changes: HostUpdate) -> HostOut:
    """Labels and allocation ratios; the scheduler sees them at its next table reload."""
    host = find_host(session, ref)
    for field, value in changes.model_dump(exclude_none=True).items():
        setattr(host, field, value)
    publish_host(session, host)
    session.flush()
    return to_out(session, [host])[0]


def request_maintenance(
    session: Session, ref: str, enabled: bool, reason: str, requested_by: str
) -> Operation:
    host = find_host(session, ref)
    return operations.enqueue(
        session,
        "host.maintenance",
        "host",
        host.id,
        requested_by=requested_by,
        params={"enabled": enabled, "reason": reason},
    )


def set_maintenance(session: Session, host: Host, enabled: bool, reason: str) -> None:
    host.maintenance = enabled
    host.maintenance_reason = reason if enabled else ""
    publish_host(session, host)


def publish_host(session: Session, host: Host) -> None:
    events.publish(
        session, "host.state_changed", "host", host.id, {"name": host.name, "state": host.state}
    )


def register_agent(session: Session, req: AgentRegister, settings: Settings) -> AgentRegistered:
    """Enrol (or re-enrol) an agent and its hosts; issues a fresh agent token."""
    enrolment = tokens.authenticate(session, req.enrolment_token, ("enrolment",))
    bound = enrolment.name.removeprefix("agent-enrol:")
    if enrolment.name.startswith("agent-enrol:") and bound != req.name:
        # A token from a one-time enrolment registers the agent it was issued to only.
        raise Forbidden(f"this enrolment was for agent {bound!r}, not {req.name!r}")
    agent = session.scalar(select(Agent).where(Agent.name == req.name))
    if agent is None:
        agent = Agent(id=new_id("agent"), name=req.name, url=req.url, api_secret=req.api_secret)
        session.add(agent)
    elif agent.token_id:
        session.execute(
            update(ApiToken).where(ApiToken.id == agent.token_id).values(revoked_at=utcnow())
        )
    token_row, secret = tokens.issue_token(session, f"agent:{req.name}", "agent", "agent")
    agent.url, agent.api_secret, agent.version = req.url, req.api_secret, req.version
    agent.token_id, agent.last_seen_at = token_row.id, utcnow()
    session.flush()

    existing = {
        h.name: h
        for h in session.scalars(select(Host).where(Host.name.in_([i.name for i in req.hosts])))
    }
    now = db_now(session)
    _refuse_live_takeover(session, agent, existing.values(), now, settings.heartbeat_timeout_s)
    for info in req.hosts:
        host = existing.get(info.name)
        if host is None:
            host = Host(
                id=new_id("host"),
                name=info.name,
                agent_id=agent.id,
                driver=info.driver,
                status="up",
                maintenance=False,
                maintenance_reason="",
                vcpus=info.vcpus,
                memory_mib=info.memory_mib,
                disk_gib=info.disk_gib,
                cpu_allocation_ratio=settings.default_cpu_allocation_ratio,
                ram_allocation_ratio=settings.default_ram_allocation_ratio,
                disk_allocation_ratio=settings.default_disk_allocation_ratio,
                alloc_vcpus=0,
                alloc_memory_mib=0,
                alloc_disk_gib=0,
                labels=info.labels,
                capabilities=info.capabilities,
                last_heartbeat_at=now,
            )
            session.add(host)
            existing[info.name] = host
        else:
            host.agent_id, host.driver = agent.id, info.driver
            host.vcpus, host.memory_mib, host.disk_gib = info.vcpus, info.memory_mib, info.disk_gib
            host.capabilities = info.capabilities
            host.labels = {**info.labels, **(host.labels or {})}
            host.last_heartbeat_at = now
            if host.status == "down":
                host.status = "up"
        publish_host(session, host)
    session.flush()
    return AgentRegistered(
        agent_id=agent.id,
        token=secret,
        hosts={name: h.id for name, h in existing.items()},
        heartbeat_interval_s=settings.heartbeat_interval_s,
    )


def _refuse_live_takeover(
    session: Session, agent: Agent, hosts: Iterable[Host], now: datetime, timeout_s: float
) -> None:
    """A host moves to another agent only once its own agent has gone silent."""
    for host in hosts:
        if host.agent_id == agent.id:
            continue
        owner = session.get(Agent, host.agent_id)
        if owner and owner.last_seen_at and (now - owner.last_seen_at).total_seconds() < timeout_s:
            raise Conflict(
                f"host {host.name} belongs to agent {owner.name}, which is still reporting; "
                "stop that agent first"
            )


def agent_for_token(session: Session, token_id: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.token_id == token_id))
    if agent is None:
        raise NotFound("no agent holds this token")
    return agent


# States a heartbeat may correct; transitional ones belong to a running operation.
RECONCILABLE = frozenset({"running", "stopped", "paused", "crashed", "unknown", "error", "lost"})
# A VM's reported state must disagree this many heartbeats in a row before we believe it:
# the agent may have taken one snapshot just before an operation's change on the host,
# but the next snapshot is taken after that heartbeat was answered, so it is current.
MISMATCHES_TO_ACT = 2


def heartbeat(
    session: Session, agent: Agent, beat: Heartbeat, settings: Settings | None = None
) -> dict[str, list[str]]:
    """Record liveness, reconcile VM power states, and name orphans for the agent to destroy."""
    now = db_now(session)
    agent.last_seen_at = now
    reported = {h.name: h for h in beat.hosts}
    hosts = {
        h.name: h
        for h in session.scalars(
            select(Host).where(Host.agent_id == agent.id, Host.name.in_(reported))
        )
    }
    if not hosts:
        return {}
    session.execute(
        update(Host)
        .where(Host.id.in_([h.id for h in hosts.values()]))
        .values(last_heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    for host in hosts.values():
        if host.status == "down":
            host.status = "up"
            host.fenced_at, host.fence_reason = None, ""
            publish_host(session, host)
    vms = {
        vm.id: vm
        for vm in session.scalars(
            select(VM).where(VM.host_id.in_([h.id for h in hosts.values()]), VM.state != "deleted")
        )
    }
    orphans: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name, report in reported.items():
        known = hosts.get(name)
        if known is None:
            continue
        for rvm in report.vms:
            vm = vms.get(rvm.id)
            if vm is None or vm.host_id != known.id:
                if _is_orphan(session, rvm.id, vm, known.id):
                    orphans.setdefault(name, []).append(rvm.id)
                continue
            seen.add(vm.id)
            actual = POWER_TO_STATE.get(rvm.power_state)
            if actual and vm.state in RECONCILABLE and vm.state != actual and vm.claimed:
                fault = (rvm.fault or "crashed") if actual == "crashed" else vm.fault
                _mismatch(session, vm, actual, fault, settings)
            elif vm.report_mismatches:
                vm.report_mismatches, vm.report_mismatch_state = 0, None
    for vm in vms.values():
        if vm.id not in seen and vm.state in RECONCILABLE - {"error"} and vm.claimed:
            _mismatch(session, vm, "error", "the host no longer reports this VM", settings)
    return orphans


def _is_orphan(session: Session, vm_id: str, live: VM | None, host_id: str) -> bool:
    """A VM the host runs but must not: deleted here, or placed on another host.

    A VM this database has never heard of is left alone (and logged): the agent may
    have been pointed at a new or restored database, and destroying is irreversible.
    """
    row = live or session.get(VM, vm_id)
    if row is None:
        log.warning("host reports VM %s that this database does not know; left alone", vm_id)
        return False
    if row.state == "deleted":
        return True
    if row.migration_host_id == host_id:
        return False  # a live migration's destination copy
    # Live on another host: a leftover of a create retried elsewhere. A VM between two
    # placement attempts (no host yet, still building) may come back here: leave it alone.
    # One that failed to build everywhere is on no host: a copy here is a leftover.
    if row.host_id is None:
        return row.state != "building"
    return row.host_id != host_id


def _mismatch(session: Session, vm: VM, actual: str, fault: str, settings: Settings | None) -> None:
    """Count consecutive heartbeats reporting the same other state; act on the second."""
    if vm.report_mismatch_state != actual:
        vm.report_mismatch_state, vm.report_mismatches = actual, 0
    vm.report_mismatches += 1
    if vm.report_mismatches >= MISMATCHES_TO_ACT:
        vm.report_mismatches, vm.report_mismatch_state = 0, None
        previous = vm.state
        set_state(session, vm, actual, fault=fault)
        if actual == "crashed":
            announce_crash(session, vm, fault, settings, previous)
        elif settings is not None:
            restart_policy.after_report(session, vm, previous, actual, settings)


def announce_crash(
    session: Session, vm: VM, reason: str, settings: Settings | None, previous: str
) -> None:
    """Publish ``vm.crashed`` and let the VM's restart policy act."""
    events.publish(
        session,
        "vm.crashed",
        "vm",
        vm.id,
        {"name": vm.name, "host_id": vm.host_id, "reason": reason},
        project_id=vm.project_id,
    )
    if settings is not None:
        restart_policy.after_report(session, vm, previous, "crashed", settings)


def mark_down_missing(session: Session, timeout_s: float) -> list[str]:
    """Hosts silent for longer than ``timeout_s`` go down and their VMs become unknown."""
    cutoff = db_now(session) - timedelta(seconds=timeout_s)
    stmt = select(Host).where(Host.status == "up", Host.last_heartbeat_at < cutoff)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    down = list(session.scalars(stmt))
    for host in down:
        host.status = "down"
        publish_host(session, host)
        for vm in session.scalars(
            # Error stays error (its fault is the better story).
            select(VM).where(VM.host_id == host.id, VM.state.in_(["running", "stopped", "paused"]))
        ):
            set_state(session, vm, "unknown", fault=f"host {host.name} stopped reporting")
    return [h.name for h in down]
