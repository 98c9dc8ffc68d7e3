"""Operations that change what a VM is rather than whether it runs: snapshots, revert,
resize and clone. Same rules as ``handlers``: no transaction held across an agent call,
and every failure leaves the VM in the state its host reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from novacron.compute import hosts as host_service
from novacron.compute import operations
from novacron.compute.handler_support import (
    OperationFailed,
    client_for,
    held_vm,
    restore_after_failure,
    vm_spec,
)
from novacron.compute.models import VM, VMSnapshot
from novacron.compute.placement import claim_in_savepoint, release
from novacron.compute.vms import set_state
from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, NovaCronError
from novacron.core.ids import new_id

if TYPE_CHECKING:
    from novacron.agent.client import AgentClient
    from novacron.compute.executor import OpContext


def _begin(ctx: OpContext, step: str) -> tuple[AgentClient, str, str]:
    """Record the step as running; return the agent client, host name and prior state."""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        if vm.host_id is None:
            raise OperationFailed(f"VM {vm.name} has no host")
        client, host_name = client_for(s, ctx, vm.host_id)
        operations.record_step(s, op, f"{step} on {host_name}", "running", progress=20)
    return client, host_name, str(ctx.op_params.get("from_state", "unknown"))


def _call(
    ctx: OpContext, client: AgentClient, host_name: str, step: str, call: Callable[[], Any]
) -> Any:
    try:
        return call()
    except NovaCronError as exc:
        ctx.end_step(f"{step} on {host_name}", "failed", exc.detail)
        restore_after_failure(ctx, client, host_name, exc)
        raise OperationFailed(f"{step} failed on {host_name}: {exc.detail}") from None


def _finish(ctx: OpContext, step: str, host_name: str, state: str, result: dict[str, Any]) -> None:
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        operations.record_step(s, op, f"{step} on {host_name}", "succeeded")
        set_state(s, vm, state, fault="")
        vm.task_operation_id = None
        ctx.complete(s, op, result)


def vm_snapshot(ctx: OpContext) -> dict[str, Any]:
    name = str(ctx.op_params["name"])
    mode = str(ctx.op_params.get("mode", "create"))
    step = f"{'snapshot' if mode == 'create' else 'delete snapshot'} {name}"
    client, host_name, before = _begin(ctx, step)
    if mode == "delete":
        _call(
            ctx,
            client,
            host_name,
            step,
            lambda: client.snapshot_delete(host_name, ctx.target_id, name),
        )
        with ctx.owned() as (s, _op):
            s.execute(
                delete(VMSnapshot).where(VMSnapshot.vm_id == ctx.target_id, VMSnapshot.name == name)
            )
        _finish(ctx, step, host_name, before, {"deleted": name})
        return {"deleted": name}
    info = _call(
        ctx, client, host_name, step, lambda: _take(client, host_name, ctx.target_id, name)
    )
    result = {"name": name, "vm_state_bytes": int(info.get("vm_state_bytes", 0))}
    with ctx.owned() as (s, _op):
        exists = s.scalar(
            select(VMSnapshot).where(VMSnapshot.vm_id == ctx.target_id, VMSnapshot.name == name)
        )
        if exists is None:  # a resumed operation may have recorded it already
            s.add(
                VMSnapshot(
                    id=new_id("snap"),
                    vm_id=ctx.target_id,
                    name=name,
                    vm_state_bytes=result["vm_state_bytes"],
                    power_state=before,
                )
            )
    _finish(ctx, step, host_name, before, result)
    return result


def _take(client: AgentClient, host_name: str, vm_id: str, name: str) -> dict[str, Any]:
    """Take the snapshot; if the host already has it, this is a retry of an operation
    whose answer was lost (the server checked its own records before accepting it)."""
    try:
        return client.snapshot_create(host_name, vm_id, name)
    except Conflict:
        for snap in client.snapshots(host_name, vm_id):
            if snap.get("name") == name:
                return snap
        raise


def vm_revert(ctx: OpContext) -> dict[str, Any]:
    name = str(ctx.op_params["name"])
    step = f"revert to {name}"
    client, host_name, _ = _begin(ctx, step)
    info = _call(
        ctx, client, host_name, step, lambda: client.snapshot_revert(host_name, ctx.target_id, name)
    )
    state = host_service.state_of(info)
    _finish(ctx, step, host_name, state, {"state": state, "snapshot": name})
    return {"state": state}


def vm_resize(ctx: OpContext) -> dict[str, Any]:
    params = ctx.op_params
    changes = {k: params.get(k) for k in ("vcpus", "memory_mib", "disk_gib")}
    step = "resize"
    failure = ""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        if vm.host_id is None:
            raise OperationFailed(f"VM {vm.name} has no host")
        deltas = _deltas(vm, changes)
        if not params.get("claimed") and any(deltas):
            if max(deltas) <= 0:  # only shrinking: nothing to check
                release(s, vm.host_id, *(-d for d in deltas))
            elif not claim_in_savepoint(s, vm.host_id, *deltas):
                # Commit the way back before failing: a raise here would roll it back.
                set_state(s, vm, str(params.get("from_state")), fault="")
                vm.task_operation_id = None
                failure = "its host has no room for the larger size"
            if not failure:
                op.params = {**op.params, "claimed": True}
        client, host_name = client_for(s, ctx, vm.host_id)
        if not failure:
            operations.record_step(s, op, f"{step} on {host_name}", "running", progress=20)
    if failure:
        ctx.placement.invalidate()
        raise OperationFailed(failure)
    try:
        info = client.resize(host_name, ctx.target_id, **changes)
    except NovaCronError as exc:
        done = _resized_anyway(client, host_name, ctx.target_id, changes)
        if done is None:
            _undo_resize_claim(ctx, deltas)
            ctx.end_step(f"{step} on {host_name}", "failed", exc.detail)
            restore_after_failure(ctx, client, host_name, exc)
            raise OperationFailed(f"resize failed on {host_name}: {exc.detail}") from None
        info = done
    with ctx.owned() as (s, _op):
        vm = held_vm(s, ctx)
        vm.vcpus, vm.memory_mib, vm.disk_gib = info["vcpus"], info["memory_mib"], info["disk_gib"]
    ctx.placement.invalidate()
    state = host_service.state_of(info)
    result = {
        "vcpus": info["vcpus"],
        "memory_mib": info["memory_mib"],
        "disk_gib": info["disk_gib"],
    }
    _finish(ctx, step, host_name, state, result)
    return result


def _resized_anyway(
    client: AgentClient, host_name: str, vm_id: str, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """After a failed call (e.g. a timeout), the VM as its host has it if it already has
    the new size: the agent finished although the answer was lost."""
    try:
        info = client.get_vm(host_name, vm_id)
    except NovaCronError:
        return None
    if info and all(v is None or info.get(k) == v for k, v in changes.items()):
        return info
    return None


def _undo_resize_claim(ctx: OpContext, deltas: tuple[int, int, int]) -> None:
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        if any(deltas) and op.params.get("claimed") and vm.host_id:
            release(s, vm.host_id, *deltas)  # gives a growth back, takes a shrink back
            op.params = {**op.params, "claimed": False}
    ctx.placement.invalidate()


def _deltas(vm: VM, changes: dict[str, Any]) -> tuple[int, int, int]:
    return (
        (changes["vcpus"] or vm.vcpus) - vm.vcpus,
        (changes["memory_mib"] or vm.memory_mib) - vm.memory_mib,
        (changes["disk_gib"] or vm.disk_gib) - vm.disk_gib,
    )


def vm_clone(ctx: OpContext) -> dict[str, Any]:
    """The source VM is held; the clone was created ``building`` on the source's host."""
    clone_id = str(ctx.op_params["clone_id"])
    step = "clone"
    failure = ""
    with ctx.owned() as (s, op):
        source = held_vm(s, ctx)
        clone = s.get(VM, clone_id)
        if clone is None or clone.state != "building" or source.host_id is None:
            failure = "the clone is no longer being built"
            set_state(s, source, "stopped")
            source.task_operation_id = None
        elif not clone.claimed and not claim_in_savepoint(
            s, source.host_id, clone.vcpus, clone.memory_mib, clone.disk_gib
        ):
            failure = f"host has no room for clone {clone.name}"
            drop_clone(s, clone, source, "its host has no room for the clone")
        # On failure the changes above commit first: a raise in this block would undo them.
        if not failure:
            assert clone is not None and source.host_id is not None
            clone.claimed = True
            client, host_name = client_for(s, ctx, source.host_id)
            spec = vm_spec(s, clone)
            operations.record_step(s, op, f"{step} on {host_name}", "running", progress=20)
    ctx.placement.invalidate()
    if failure:
        raise OperationFailed(failure)
    try:
        client.clone(host_name, ctx.target_id, spec)
    except NovaCronError as exc:
        with ctx.owned() as (s, _op):
            clone = s.get(VM, clone_id)
            if clone is not None:
                ctx.placement.release(s, clone)
                drop_clone(s, clone, None, f"clone failed: {exc.detail}")
        ctx.end_step(f"{step} on {host_name}", "failed", exc.detail)
        restore_after_failure(ctx, client, host_name, exc)
        raise OperationFailed(f"clone failed on {host_name}: {exc.detail}") from None
    with ctx.owned() as (s, _op):
        clone = s.get(VM, clone_id)
        if clone is not None:
            set_state(s, clone, "stopped", fault="")
            clone.task_operation_id = None
    result = {"clone_id": clone_id}
    _finish(ctx, step, host_name, "stopped", result)
    return result


def drop_clone(session: Session, clone: VM, source: VM | None, fault: str) -> None:
    """A clone that will not be: deleted (its name free again); the source let go.

    If its host made it after all (an answer lost to a timeout), the host reports a VM
    whose row is deleted, and the heartbeat has it destroyed as an orphan."""
    set_state(session, clone, "deleted", fault=fault)
    clone.name_key, clone.deleted_at, clone.task_operation_id = None, utcnow(), None
    if source is not None:
        set_state(session, source, "stopped")
        source.task_operation_id = None


HANDLERS: dict[str, Callable[[OpContext], dict[str, Any]]] = {
    "vm.snapshot": vm_snapshot,
    "vm.revert": vm_revert,
    "vm.resize": vm_resize,
    "vm.clone": vm_clone,
}
