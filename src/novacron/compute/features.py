"""VM use cases beyond power: snapshots, resize, clone, restart policy, and reads that go
to the VM's host (console, statistics). Changes return the operation doing them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.agent.client import AgentClient
from novacron.compute import quotas, states
from novacron.compute.hosts import agent_client_for, find_host
from novacron.compute.models import VM, Host, Operation, VMSnapshot
from novacron.compute.schemas import (
    MigrationOptions,
    VMClone,
    VMMigrate,
    VMResize,
    VMUpdate,
)
from novacron.compute.vms import act, find_vm, set_state
from novacron.core.config import Settings
from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id


def list_snapshots(session: Session, ref: str, *, project_id: str) -> list[VMSnapshot]:
    vm = find_vm(session, ref, project_id=project_id)
    return list(
        session.scalars(
            select(VMSnapshot).where(VMSnapshot.vm_id == vm.id).order_by(VMSnapshot.created_at)
        )
    )


def _snapshot(session: Session, vm: VM, name: str) -> VMSnapshot:
    snap = session.scalar(
        select(VMSnapshot).where(VMSnapshot.vm_id == vm.id, VMSnapshot.name == name)
    )
    if snap is None:
        raise NotFound(f"VM {vm.name} has no snapshot {name!r}")
    return snap


def _require(session: Session, vm: VM, capability: str, what: str) -> None:
    """Refuse up front what the VM's host cannot do (e.g. snapshots on a sim host)."""
    host = session.get(Host, vm.host_id) if vm.host_id else None
    if host is not None and capability not in (host.capabilities or []):
        raise InvalidState(f"host {host.name} ({host.driver} driver) does not support {what}")


def create_snapshot(
    session: Session, ref: str, name: str, requested_by: str, *, project_id: str
) -> Operation:
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    _require(session, vm, "snapshots", "snapshots")
    taken = session.scalar(
        select(VMSnapshot.id).where(VMSnapshot.vm_id == vm.id, VMSnapshot.name == name)
    )
    if taken:
        raise Conflict(f"VM {vm.name} already has a snapshot named {name!r}")
    return act(
        session,
        vm.id,
        "snapshot",
        requested_by,
        {"name": name, "mode": "create"},
        project_id=project_id,
    )


def delete_snapshot(
    session: Session, ref: str, name: str, requested_by: str, *, project_id: str
) -> Operation:
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    _snapshot(session, vm, name)
    return act(
        session,
        vm.id,
        "snapshot",
        requested_by,
        {"name": name, "mode": "delete"},
        project_id=project_id,
    )


def revert_snapshot(
    session: Session, ref: str, name: str, requested_by: str, *, project_id: str
) -> Operation:
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    _snapshot(session, vm, name)
    _require(session, vm, "snapshots", "snapshots")
    return act(session, vm.id, "revert", requested_by, {"name": name}, project_id=project_id)


def resize(
    session: Session, ref: str, req: VMResize, requested_by: str, *, project_id: str
) -> Operation:
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    # Values equal to the current ones are no change (and must not block a live disk grow).
    changes = {k: v for k, v in req.model_dump(exclude_none=True).items() if v != getattr(vm, k)}
    if not changes:
        raise Invalid(
            "nothing to change",
            errors=[{"loc": ["body"], "msg": "give vcpus, memory_mib or disk_gib"}],
        )
    if req.disk_gib is not None and req.disk_gib < vm.disk_gib:
        raise Invalid(
            f"disks grow but never shrink (now {vm.disk_gib} GiB)",
            errors=[{"loc": ["body", "disk_gib"], "msg": f"must be >= {vm.disk_gib}"}],
        )
    offline = {k for k in ("vcpus", "memory_mib") if k in changes and changes[k] != getattr(vm, k)}
    if offline and vm.state != "stopped":
        raise InvalidState(
            f"stop VM {vm.name} before changing {' and '.join(sorted(offline))} (it is {vm.state})"
        )
    _require(session, vm, "resize", "resizing VMs")
    quotas.check(session, quotas.Demand.resized(vm, changes))
    return act(session, vm.id, "resize", requested_by, changes, project_id=project_id)


def clone(
    session: Session, ref: str, req: VMClone, requested_by: str, *, project_id: str
) -> tuple[Operation, VM]:
    """A new VM with a copy of a stopped VM's disk, on the same host (disks are local)."""
    source = find_vm(session, ref, project_id=project_id, for_update=True)
    _require(session, source, "clone", "clones")
    states.begin("clone", source.state)
    if source.host_id is None:
        raise InvalidState(f"VM {source.name} has no host")
    copy = VM(
        id=new_id("vm"),
        project_id=source.project_id,
        name=req.name,
        name_key=req.name,
        state="building",
        vcpus=source.vcpus,
        memory_mib=source.memory_mib,
        disk_gib=source.disk_gib,
        image_id=source.image_id,
        group_id=None,
        labels=dict(source.labels or {}),
        host_labels={},
        required_traits=list(source.required_traits or []),
        requested_host=source.host_id,
        host_id=source.host_id,
        fault="",
        restart_policy=source.restart_policy,
        network={**(source.network or {}), "forwards": []},  # host ports cannot be shared
        cloud_init=source.cloud_init,
        kernel_args=source.kernel_args,
    )
    session.add(copy)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a VM named {req.name!r} already exists") from None
    quotas.check(session, copy)
    op = act(
        session,
        source.id,
        "clone",
        requested_by,
        {"clone_id": copy.id, "clone_name": copy.name},
        project_id=project_id,
    )
    copy.task_operation_id = op.id
    set_state(session, copy, "building", new=True)
    return op, copy


def update(session: Session, ref: str, req: VMUpdate, *, project_id: str) -> VM:
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    if req.restart_policy is not None:
        vm.restart_policy = req.restart_policy
        vm.restarts, vm.restart_window_at = 0, None
    if req.ha is not None:
        vm.ha = req.ha
    return vm


def migration_params(req: MigrationOptions) -> dict[str, Any]:
    """A ``vm.migrate`` operation's parameters from the API's options."""
    return {
        "downtime_ms": req.downtime_ms,
        "time_bound_s": req.time_bound_s,
        "allow_postcopy": req.allow_postcopy,
        "bandwidth_bps": req.bandwidth_mib_s * 1024 * 1024 if req.bandwidth_mib_s else None,
        "policy": req.policy,
        "timeout_s": req.timeout_s,
        "tls": req.tls,
    }


def migrate(
    session: Session, ref: str, req: VMMigrate, requested_by: str, *, project_id: str
) -> Operation:
    """Live-migrate a running VM to ``req.to_host`` or a host the scheduler picks."""
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    _require(session, vm, "live-migration", "live migration")
    if req.tls:
        _require(session, vm, "migration-tls", "encrypted (TLS) migration")
    params = migration_params(req)
    if req.to_host:
        try:
            dest = find_host(session, req.to_host)
        except NotFound:
            raise Invalid(
                f"no host {req.to_host!r}",
                errors=[{"loc": ["body", "to_host"], "msg": "unknown host"}],
            ) from None
        if dest.id == vm.host_id:
            raise Invalid(
                f"VM {vm.name} already runs on {dest.name}",
                errors=[{"loc": ["body", "to_host"], "msg": "the VM's own host"}],
            )
        params["to_host_id"] = dest.id
    return act(session, vm.id, "migrate", requested_by, params, project_id=project_id)


def agent_of(
    session: Session, ref: str, settings: Settings, capability: str, *, project_id: str
) -> tuple[AgentClient, str, str]:
    """The client, host name and VM id for a read that goes to the VM's host."""
    vm = find_vm(session, ref, project_id=project_id)
    _require(session, vm, capability, "a console" if capability == "console" else capability)
    if vm.host_id is None or vm.state not in states.ON_HOST | states.TRANSITIONAL:
        raise InvalidState(f"VM {vm.name} is not on a host ({vm.state})")
    client, host_name = agent_client_for(session, vm.host_id, settings.agent_request_timeout_s)
    return client, host_name, vm.id
