"""What each operation kind does. Steps are idempotent so a resumed operation is safe.

Handlers never hold a database transaction across a call to an agent: each step
reads what it needs, commits, calls the agent, then records the result.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from novacron.agent.client import AgentClient
from novacron.compute import definition_handlers, operations, states
from novacron.compute import hosts as host_service
from novacron.compute.handler_support import (
    OperationFailed,
    client_for,
    held_vm,
    restore_after_failure,
    vm_spec,
)
from novacron.compute.migration.drain import host_drain, host_undrain
from novacron.compute.migration.handler import vm_migrate
from novacron.compute.models import VM, Host
from novacron.compute.vms import set_state
from novacron.core.clock import utcnow
from novacron.core.errors import NoCapacity, NovaCronError
from novacron.hypervisor.base import VMSpec

if TYPE_CHECKING:  # the executor imports this module
    from novacron.compute.executor import OpContext

log = logging.getLogger("novacron.operations")

# API action → driver method.
DRIVER_CALL = {
    "start": "start",
    "stop": "shutdown",
    "force-stop": "stop",
    "reboot": "reboot",
    "pause": "pause",
    "resume": "resume",
}


def vm_create(ctx: OpContext) -> dict[str, Any]:
    tried: list[str] = list(ctx.op_params.get("tried_hosts", []))
    errors: list[str] = list(ctx.op_params.get("host_errors", []))
    for _ in range(ctx.settings.placement_retries + 1):
        host_id, host_name, client, spec = _schedule(ctx, tried, errors)
        step = f"create on {host_name}"
        try:
            client.create_vm(host_name, spec)
        except NovaCronError as exc:
            # Free the claim and try an alternate host; the agent left nothing behind.
            tried.append(host_id)
            errors.append(f"{host_name}: {exc.detail}")
            with ctx.owned() as (s, op):
                operations.record_step(s, op, step, "failed", exc.detail)
                vm = held_vm(s, ctx)
                ctx.placement.release(s, vm)
                vm.host_id = None
                op.params = {**op.params, "tried_hosts": tried, "host_errors": errors}
            continue
        result = {"host_id": host_id, "host_name": host_name}
        with ctx.owned() as (s, op):
            vm = held_vm(s, ctx)
            operations.record_step(s, op, step, "succeeded")
            set_state(s, vm, "running", fault="")
            vm.task_operation_id = None
            ctx.complete(s, op, result)
        return result
    message = f"create failed on {len(tried)} host(s): " + "; ".join(errors)
    _fail_vm(ctx, message)
    raise OperationFailed(message)


def _schedule(
    ctx: OpContext, tried: list[str], errors: list[str]
) -> tuple[str, str, AgentClient, VMSpec]:
    """Claim a host (or keep the claim of an interrupted attempt), in one transaction."""
    failure = ""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        if vm.state != "building":
            failure = f"VM {ctx.target_id} is no longer being built"
        elif not (vm.claimed and vm.host_id):  # else resumed after a restart: the claim stands
            request = ctx.placement.request_for(s, vm, frozenset(tried))
            required = ctx.op_params.get("require_labels")
            if required:  # e.g. an HA restart: a host of the failed host's storage pool
                request = dataclasses.replace(request, labels={**request.labels, **required})
            try:
                host = ctx.placement.schedule_and_claim(s, vm, request)
                operations.record_step(
                    s, op, "schedule", "succeeded", f"host {host.name}", progress=30
                )
            except NoCapacity as exc:
                failure = exc.detail + (f" (after failures: {'; '.join(errors)})" if errors else "")
                operations.record_step(s, op, "schedule", "failed", failure)
                set_state(s, vm, "error", fault=failure)
                vm.task_operation_id = None
        if not failure:
            assert vm is not None and vm.host_id is not None
            client, host_name = client_for(s, ctx, vm.host_id)
            operations.record_step(s, op, f"create on {host_name}", "running", progress=40)
            spec = vm_spec(s, vm)
            return vm.host_id, host_name, client, spec
    raise OperationFailed(failure)


def _fail_vm(ctx: OpContext, message: str) -> None:
    with ctx.owned() as (s, _op):
        vm = held_vm(s, ctx)
        ctx.placement.release(s, vm)
        set_state(s, vm, "error", fault=message)
        vm.task_operation_id = None


def vm_action(ctx: OpContext) -> dict[str, Any]:
    action = ctx.kind.removeprefix("vm.")
    transition = states.TRANSITIONS[action]
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        if vm.host_id is None:
            raise OperationFailed(f"VM {vm.name} has no host")
        client, host_name = client_for(s, ctx, vm.host_id)
        step = f"{action} on {host_name}"
        operations.record_step(s, op, step, "running", progress=20)
    try:
        info = client.vm_action(host_name, ctx.target_id, DRIVER_CALL[action])
    except NovaCronError as exc:
        ctx.end_step(step, "failed", exc.detail)
        restore_after_failure(ctx, client, host_name, exc)
        raise OperationFailed(f"{action} failed on {host_name}: {exc.detail}") from None
    state = transition.success or host_service.state_of(info)
    result = {"state": state}
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        operations.record_step(s, op, step, "succeeded")
        set_state(s, vm, state, fault="")
        vm.task_operation_id = None
        ctx.complete(s, op, result)
    return result


def vm_delete(ctx: OpContext) -> dict[str, Any]:
    destroy: tuple[AgentClient, str] | None = None
    detail = ""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        host = s.get(Host, vm.host_id) if vm.host_id else None
        if host is not None and host.status != "down":
            destroy = client_for(s, ctx, host.id)
            operations.record_step(s, op, f"destroy on {host.name}", "running", progress=20)
        elif host is not None:
            detail = (
                f"host {host.name} is down: removed from inventory; its agent destroys the VM "
                "when the host reports again"
            )
    if destroy is not None:
        client, host_name = destroy
        try:
            client.destroy_vm(host_name, ctx.target_id)
        except NovaCronError as exc:
            with ctx.owned() as (s, op):
                operations.record_step(s, op, f"destroy on {host_name}", "failed", exc.detail)
                vm = held_vm(s, ctx)
                set_state(s, vm, "error", fault=f"delete failed: {exc.detail}")
                vm.task_operation_id = None
            raise OperationFailed(f"delete failed on {host_name}: {exc.detail}") from None
    result = {"note": detail} if detail else {}
    with ctx.owned() as (s, op):
        if destroy is not None:
            operations.record_step(s, op, f"destroy on {destroy[1]}", "succeeded", progress=80)
        vm = held_vm(s, ctx)
        ctx.placement.release(s, vm)
        operations.record_step(s, op, "remove from inventory", "succeeded", detail)
        set_state(s, vm, "deleted")
        vm.name_key, vm.deleted_at, vm.task_operation_id = None, utcnow(), None
        ctx.complete(s, op, result)
    return result


def host_maintenance(ctx: OpContext) -> dict[str, Any]:
    with ctx.owned() as (s, op):
        host = s.get(Host, ctx.target_id)
        if host is None:
            raise OperationFailed(f"host {ctx.target_id} no longer exists")
        enabled = bool(ctx.op_params.get("enabled"))
        host_service.set_maintenance(s, host, enabled, str(ctx.op_params.get("reason", "")))
        operations.record_step(
            s, op, "maintenance " + ("on" if enabled else "off"), "succeeded", progress=100
        )
        live = s.scalar(select(VM.id).where(VM.host_id == host.id, VM.state != "deleted").limit(1))
        note = (
            "VMs keep running; live migration off the host comes with the migration feature"
            if enabled and live
            else ""
        )
        result = {"maintenance": enabled, **({"note": note} if note else {})}
        ctx.complete(s, op, result)
    ctx.placement.invalidate()
    return result


HANDLERS: dict[str, Callable[[OpContext], dict[str, Any]]] = {
    "vm.create": vm_create,
    "vm.delete": vm_delete,
    "host.maintenance": host_maintenance,
    "vm.migrate": vm_migrate,
    "host.drain": host_drain,
    "host.undrain": host_undrain,
    **{f"vm.{a}": vm_action for a in states.SIMPLE_ACTIONS if a != "delete"},
    **definition_handlers.HANDLERS,
}


def abandon(ctx: OpContext, reason: str) -> None:
    """An operation that ran out of attempts: leave its target in a recorded, stable state.

    A VM keeps its host and claim: it may exist there, so its resources stay counted
    until a delete destroys it on the host and releases them.
    """
    with ctx.owned() as (s, _op):
        if ctx.target_type != "vm":
            return
        clone = (
            s.get(VM, str(ctx.op_params.get("clone_id", ""))) if ctx.kind == "vm.clone" else None
        )
        if clone is not None and clone.state == "building" and clone.task_operation_id == ctx.op_id:
            ctx.placement.release(s, clone)
            definition_handlers.drop_clone(s, clone, None, reason)
        vm = s.get(VM, ctx.target_id)
        if vm is None or vm.task_operation_id != ctx.op_id or vm.state not in states.TRANSITIONAL:
            return
        set_state(s, vm, "error", fault=reason)
        vm.task_operation_id = None


__all__ = ["HANDLERS", "OperationFailed", "abandon"]
