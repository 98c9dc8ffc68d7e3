"""What each operation kind does. Steps are idempotent so a resumed operation is safe.

Handlers never hold a database transaction across a call to an agent: each step
reads what it needs, commits, calls the agent, then records the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from novacron.agent.client import AgentClient, agent_client
from novacron.compute import hosts as host_service
from novacron.compute import operations, states
from novacron.compute.models import VM, Agent, Host, Image
from novacron.compute.vms import set_state
from novacron.core.clock import utcnow
from novacron.core.errors import AgentUnreachable, DriverError, InvalidState, NoCapacity, NotFound
from novacron.hypervisor.base import VMSpec

if False:  # pragma: no cover - typing only, avoids an import cycle
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


class OperationFailed(Exception):
    """Ends an operation as failed with this message; state was already made consistent."""


def client_for(ctx: OpContext, host_id: str) -> tuple[AgentClient, str]:
    with ctx.db.read() as s:
        host = s.get(Host, host_id)
        if host is None:
            raise NotFound(f"host {host_id} no longer exists")
        agent = s.get(Agent, host.agent_id)
        assert agent is not None
        return agent_client(
            agent.url, agent.api_secret, ctx.settings.agent_request_timeout_s
        ), host.name


def vm_create(ctx: OpContext) -> dict[str, Any]:
    tried: list[str] = list(ctx.op_params.get("tried_hosts", []))
    errors: list[str] = list(ctx.op_params.get("host_errors", []))
    for _ in range(ctx.settings.placement_retries + 1):
        host_id = _schedule(ctx, tried, errors)
        client, host_name = client_for(ctx, host_id)
        spec = _spec(ctx)
        ctx.begin_step(f"create on {host_name}", progress=40)
        try:
            client.create_vm(host_name, spec)
        except DriverError as exc:
            # Free the claim and try an alternate host; the agent left nothing behind.
            ctx.end_step(f"create on {host_name}", "failed", str(exc))
            tried.append(host_id)
            errors.append(f"{host_name}: {exc.detail}")
            with ctx.owned() as (s, op):
                vm = s.get(VM, ctx.target_id)
                assert vm is not None
                ctx.placement.release(s, vm)
                vm.host_id = None
                op.params = {**op.params, "tried_hosts": tried, "host_errors": errors}
            continue
        with ctx.owned() as (s, op):
            vm = s.get(VM, ctx.target_id)
            assert vm is not None
            operations.record_step(s, op, f"create on {host_name}", "succeeded", progress=90)
            set_state(s, vm, "running", fault="")
            vm.task_operation_id = None
        return {"host_id": host_id, "host_name": host_name}
    message = f"create failed on {len(tried)} host(s): " + "; ".join(errors)
    _fail_vm(ctx, message)
    raise OperationFailed(message)


def _schedule(ctx: OpContext, tried: list[str], errors: list[str]) -> str:
    with ctx.owned() as (s, op):
        vm = s.get(VM, ctx.target_id)
        if vm is None or vm.state != "building":
            raise OperationFailed(f"VM {ctx.target_id} is no longer being built")
        if vm.claimed and vm.host_id:
            return vm.host_id  # resumed after a restart: the claim stands
        operations.record_step(s, op, "schedule", "running", progress=10)
    with ctx.owned() as (s, op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        request = ctx.placement.request_for(s, vm, frozenset(tried))
        try:
            host = ctx.placement.schedule_and_claim(s, vm, request)
        except NoCapacity as exc:
            failure = exc.detail + (f" (after failures: {'; '.join(errors)})" if errors else "")
        else:
            operations.record_step(s, op, "schedule", "succeeded", f"host {host.name}", progress=30)
            return host.id
    # Record the failure in its own transaction: the claim attempt above rolled back.
    with ctx.owned() as (s, op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        operations.record_step(s, op, "schedule", "failed", failure)
        set_state(s, vm, "error", fault=failure)
        vm.task_operation_id = None
    raise OperationFailed(failure)


def _spec(ctx: OpContext) -> VMSpec:
    with ctx.db.read() as s:
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        image = s.get(Image, vm.image_id) if vm.image_id else None
        return VMSpec(
            id=vm.id,
            name=vm.name,
            vcpus=vm.vcpus,
            memory_mib=vm.memory_mib,
            disk_gib=vm.disk_gib,
            image=image.name if image else None,
            labels=dict(vm.labels or {}),
        )


def _fail_vm(ctx: OpContext, message: str) -> None:
    with ctx.owned() as (s, _op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        ctx.placement.release(s, vm)
        set_state(s, vm, "error", fault=message)
        vm.task_operation_id = None


def vm_action(ctx: OpContext) -> dict[str, Any]:
    action = ctx.kind.removeprefix("vm.")
    transition = states.TRANSITIONS[action]
    with ctx.db.read() as s:
        vm = s.get(VM, ctx.target_id)
        assert vm is not None and vm.host_id is not None
        host_id = vm.host_id
    client, host_name = client_for(ctx, host_id)
    step = f"{action} on {host_name}"
    ctx.begin_step(step, progress=20)
    try:
        client.vm_action(host_name, ctx.target_id, DRIVER_CALL[action])
    except DriverError as exc:
        ctx.end_step(step, "failed", exc.detail)
        _restore_after_failure(ctx, client, host_name, exc)
        raise OperationFailed(f"{action} failed on {host_name}: {exc.detail}") from None
    with ctx.owned() as (s, op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        operations.record_step(s, op, step, "succeeded", progress=100)
        set_state(s, vm, transition.success, fault="")
        vm.task_operation_id = None
    return {"state": transition.success}


def _restore_after_failure(
    ctx: OpContext, client: AgentClient, host_name: str, exc: DriverError
) -> None:
    """Put the VM back in the state its host reports (or where it was, if unreachable)."""
    actual: str | None = None
    if not isinstance(exc, AgentUnreachable):
        try:
            info = client.get_vm(host_name, ctx.target_id)
            actual = host_service.POWER_TO_STATE.get(info["power_state"]) if info else "error"
        except DriverError:
            actual = None
    with ctx.owned() as (s, _op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        set_state(s, vm, actual or ctx.op_params.get("from_state", "unknown"), fault=exc.detail)
        vm.task_operation_id = None


def vm_delete(ctx: OpContext) -> dict[str, Any]:
    with ctx.db.read() as s:
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        host = s.get(Host, vm.host_id) if vm.host_id else None
        host_down = host is not None and host.status == "down"
    detail = ""
    if host is not None and not host_down:
        client, host_name = client_for(ctx, host.id)
        ctx.begin_step(f"destroy on {host_name}", progress=20)
        try:
            client.destroy_vm(host_name, ctx.target_id)
        except DriverError as exc:
            ctx.end_step(f"destroy on {host_name}", "failed", exc.detail)
            with ctx.owned() as (s, _op):
                vm = s.get(VM, ctx.target_id)
                assert vm is not None
                set_state(s, vm, "error", fault=f"delete failed: {exc.detail}")
                vm.task_operation_id = None
            raise OperationFailed(f"delete failed on {host_name}: {exc.detail}") from None
        ctx.end_step(f"destroy on {host_name}", "succeeded", progress=80)
    elif host is not None:
        detail = (
            f"host {host.name} is down: removed from inventory; its agent destroys the VM "
            "when the host reports again"
        )
    with ctx.owned() as (s, op):
        vm = s.get(VM, ctx.target_id)
        assert vm is not None
        ctx.placement.release(s, vm)
        operations.record_step(s, op, "remove from inventory", "succeeded", detail, progress=100)
        set_state(s, vm, "deleted")
        vm.name_key, vm.deleted_at, vm.task_operation_id = None, utcnow(), None
    return {"note": detail} if detail else {}


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
    ctx.placement.invalidate()
    note = (
        "VMs keep running; live migration off the host comes with the migration feature"
        if enabled and live
        else ""
    )
    return {"maintenance": enabled, **({"note": note} if note else {})}


HANDLERS: dict[str, Callable[[OpContext], dict[str, Any]]] = {
    "vm.create": vm_create,
    "vm.delete": vm_delete,
    "host.maintenance": host_maintenance,
    **{f"vm.{a}": vm_action for a in states.ACTIONS if a != "delete"},
}


def abandon(ctx: OpContext, reason: str) -> None:
    """An operation that ran out of attempts: leave its target in a recorded, stable state."""
    with ctx.owned() as (s, _op):
        if ctx.target_type != "vm":
            return
        vm = s.get(VM, ctx.target_id)
        if vm is None or vm.state not in states.TRANSITIONAL:
            return
        if vm.state == "building":
            ctx.placement.release(s, vm)
        set_state(s, vm, "error", fault=reason)
        vm.task_operation_id = None


__all__ = ["HANDLERS", "InvalidState", "OperationFailed", "abandon"]
