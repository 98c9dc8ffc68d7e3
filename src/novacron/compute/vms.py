"""VM use cases: create, act, delete, list. Each change returns the operation doing it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.compute import operations, quotas, states
from novacron.compute.catalog import find_bootable_image, find_group
from novacron.compute.models import VM, Host, Operation
from novacron.compute.schemas import VMCreate, VMOut
from novacron.core import events
from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate


def find_vm(
    session: Session,
    ref: str,
    *,
    project_id: str | None,
    include_deleted: bool = False,
    for_update: bool = False,
) -> VM:
    """A VM of ``project_id`` (None: any project, for internal callers) by id or by name
    among live VMs; ``for_update`` locks its row (PostgreSQL). Another project's VM is
    not found: its existence is not revealed."""
    if project_id is None:
        by_ref = or_(VM.id == ref, VM.name_key == ref)
    else:
        by_ref = (VM.project_id == project_id) & or_(VM.id == ref, VM.name_key == ref)
    stmt = select(VM).where(by_ref).order_by(VM.name_key.is_(None))
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    vm = session.scalars(stmt).first()
    if vm is None or (vm.state == "deleted" and not include_deleted):
        raise NotFound(f"no VM {ref!r}")
    return vm


def set_state(
    session: Session, vm: VM, state: str, *, fault: str | None = None, new: bool = False
) -> None:
    """Change a VM's state and publish it; ``new`` announces a VM that was just created."""
    previous = None if new else vm.state
    vm.state = state
    if fault is not None:
        vm.fault = fault
    if previous != state or fault:
        events.publish(
            session,
            "vm.state_changed",
            "vm",
            vm.id,
            {
                "name": vm.name,
                "from": previous,
                "to": state,
                "host_id": vm.host_id,
                "fault": vm.fault,
            },
            project_id=vm.project_id,
        )


def create(session: Session, req: VMCreate, requested_by: str, *, project_id: str) -> Operation:
    image = find_bootable_image(session, req.image, project_id=project_id) if req.image else None
    if image is not None and req.disk_gib < image.min_disk_gib:
        raise Invalid(
            f"disk_gib {req.disk_gib} is smaller than image {image.name}'s minimum "
            f"{image.min_disk_gib}",
            errors=[{"loc": ["body", "disk_gib"], "msg": "smaller than the image minimum"}],
        )
    group = find_group(session, req.group, project_id=project_id) if req.group else None
    requested_host = None
    if req.host:
        host = session.scalar(select(Host).where(or_(Host.id == req.host, Host.name == req.host)))
        if host is None:
            raise Invalid(
                f"no host {req.host!r}", errors=[{"loc": ["body", "host"], "msg": "no such host"}]
            )
        requested_host = host.id
    vm = VM(
        id=new_id("vm"),
        project_id=project_id,
        name=req.name,
        name_key=req.name,
        state="building",
        vcpus=req.vcpus,
        memory_mib=req.memory_mib,
        disk_gib=req.disk_gib,
        image_id=image.id if image else None,
        group_id=group.id if group else None,
        labels=req.labels,
        host_labels=req.host_labels,
        required_traits=sorted(set(req.traits) | _network_traits(req)),
        requested_host=requested_host,
        fault="",
        restart_policy=req.restart_policy,
        ha=req.ha,
        network=req.network.model_dump(),
        cloud_init=req.cloud_init.model_dump() if req.cloud_init else None,
        kernel_args=req.kernel_args,
    )
    session.add(vm)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a VM named {req.name!r} already exists") from None
    quotas.check(session, vm)  # early answer; placement checks again when it claims
    op = operations.enqueue(
        session,
        "vm.create",
        "vm",
        vm.id,
        requested_by=requested_by,
        params={"name": vm.name},
        project_id=project_id,
    )
    vm.task_operation_id = op.id
    set_state(session, vm, "building", new=True)
    return op


def _network_traits(req: VMCreate) -> set[str]:
    """A bridged VM needs a host that has that bridge."""
    if req.network.mode != "bridge":
        return set()
    if not req.network.bridge:
        raise Invalid(
            "a bridged network needs the bridge's name",
            errors=[{"loc": ["body", "network", "bridge"], "msg": "required in bridge mode"}],
        )
    return {f"bridge:{req.network.bridge}"}


def act(
    session: Session,
    ref: str,
    action: str,
    requested_by: str,
    params: dict[str, Any] | None = None,
    *,
    project_id: str | None,
) -> Operation:
    """Start an action: the VM enters its transitional state in this transaction.

    The VM's row is locked first, so of two concurrent requests on one VM the second
    sees the first one's transitional state and is refused (409).
    """
    vm = find_vm(session, ref, project_id=project_id, for_update=True)
    transition = states.begin(action, vm.state)
    if vm.host_id is None and action != "delete":
        raise InvalidState(
            f"cannot {action} VM {vm.name}: it was never placed on a host ({vm.state}); "
            "delete it and create it again"
        )
    op = operations.enqueue(
        session,
        f"vm.{action}",
        "vm",
        vm.id,
        requested_by=requested_by,
        params={"from_state": vm.state, **(params or {})},
        project_id=vm.project_id,
    )
    vm.task_operation_id = op.id
    set_state(session, vm, transition.during, fault="")
    return op


def list_vms(
    session: Session,
    params: PageParams,
    *,
    project_id: str,
    state: str | None = None,
    host: str | None = None,
    name: str | None = None,
    include_deleted: bool = False,
) -> tuple[list[VMOut], int]:
    stmt = select(VM).where(VM.project_id == project_id).order_by(VM.created_at.desc(), VM.id)
    if state:
        stmt = stmt.where(VM.state == state)
    elif not include_deleted:
        stmt = stmt.where(VM.state != "deleted")
    if host:
        stmt = stmt.join(Host, Host.id == VM.host_id).where(or_(Host.id == host, Host.name == host))
    if name:
        stmt = stmt.where(VM.name.contains(name))
    rows, total = paginate(session, stmt, params)
    return to_out(session, rows), total


def to_out(session: Session, vms: list[VM]) -> list[VMOut]:
    host_ids = {v.host_id for v in vms if v.host_id}
    names = (
        dict(session.execute(select(Host.id, Host.name).where(Host.id.in_(host_ids))).all())
        if host_ids
        else {}
    )
    out = []
    for vm in vms:
        item = VMOut.model_validate(vm)
        item.host_name = names.get(vm.host_id) if vm.host_id else None
        # A VM never placed on a host can only be deleted.
        actions = states.allowed_actions(vm.state)
        item.actions = actions if vm.host_id else [a for a in actions if a == "delete"]
        out.append(item)
    return out


def cancel_operation(session: Session, op_id: str, *, project_id: str | None) -> Operation:
    """Cancel a pending operation; a VM it held goes back to where it was."""
    op = operations.cancel(session, op_id, project_id=project_id)
    if op.target_type == "vm" and op.state == "cancelled":
        _revert_cancelled(session, op)
    return op


def _revert_cancelled(session: Session, op: Operation) -> None:
    vm = session.get(VM, op.target_id)
    if vm is None or vm.task_operation_id != op.id:
        return
    vm.task_operation_id = None
    if op.kind == "vm.create":
        vm.name_key = None
        set_state(session, vm, "deleted", fault="creation cancelled")
    else:
        set_state(session, vm, str(op.params.get("from_state", "unknown")))
