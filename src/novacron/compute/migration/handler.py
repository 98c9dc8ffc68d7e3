"""The ``vm.migrate`` operation: Ganeti's flow, driven from the server.

    check + claim destination → source facts (compatibility, dirty rate) → plan →
    destination prepares (incoming QEMU, disk export) → source streams disk and memory
    (polled: progress and the policy's decisions become steps) → finish destination →
    finish source → the VM's host changes in the database.

With ``tls`` the destination must have the ``migration-tls`` capability; the source
makes a key and sends its CSR, the destination makes a throwaway CA and signs it, and
both streams run over mutually verified TLS (``tls.py``: no private key crosses the
wire). A side that does not set TLS up fails the migration: never a silent fall back.

The VM's host changes only after both sides finished. Any failure — the destination
dying, the link breaking, a timeout, a cancel — rolls back both sides: the VM keeps
running on the source, the destination is cleaned up and its claim returned, and the
operation ends with the reason (``cancelled`` for a cancel).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from novacron.agent.client import AgentClient
from novacron.compute import hosts as host_service
from novacron.compute import operations
from novacron.compute.handler_support import OperationFailed, client_for, held_vm, vm_spec
from novacron.compute.migration.policy import Objective, plan_migration, qemu_default_plan
from novacron.compute.models import Host
from novacron.compute.vms import set_state
from novacron.core.errors import NoCapacity, NovaCronError
from novacron.hypervisor.base import MigrationProgress

if TYPE_CHECKING:
    from novacron.compute.executor import OpContext

POLL_S = 0.5
DEFAULT_TIMEOUT_S = 1800.0
MIB = 1024 * 1024


@dataclass
class Sides:
    vm_id: str
    source: AgentClient
    source_name: str
    dest: AgentClient
    dest_name: str
    dest_id: str


class Rollback(Exception):
    """Stop the migration and undo it; ``cancelled`` when the user asked."""

    def __init__(self, reason: str, *, cancelled: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.cancelled = reason, cancelled


def vm_migrate(ctx: OpContext) -> dict[str, Any]:
    if ctx.attempts > 1 and ctx.op_params.get("dest_host_id"):
        return _resume(ctx)
    sides = _claim_destination(ctx)
    tls = bool(ctx.op_params.get("tls"))
    try:
        facts = _call(
            ctx,
            f"check {sides.source_name}",
            lambda: sides.source.migration_outgoing(
                sides.source_name, sides.vm_id, {"tls": True} if tls else None
            ),
        )
        if tls and not facts.get("tls_csr"):
            raise Rollback(f"{sides.source_name} did not set up TLS for the migration")
        plan = _plan(ctx, facts)
        target = _prepare_destination(ctx, sides, facts, plan)
        if tls:
            _check_tls(ctx, sides, target)
        options = {
            "plan": plan,
            "policy": ctx.op_params.get("policy", "adaptive"),
            "objective": _objective(ctx).__dict__,
            "dirty_rate_bps": facts.get("dirty_rate_bps"),
            "tls": tls,
        }
        _call(
            ctx,
            f"start streaming to {sides.dest_name}",
            lambda: sides.source.migration_start(sides.source_name, sides.vm_id, target, options),
        )
        progress = _follow(ctx, sides)
    except Rollback as exc:
        _roll_back(ctx, sides, exc.reason, exc.cancelled)
        raise AssertionError("unreachable") from None
    return _finish(ctx, sides, progress)


# -- phases ------------------------------------------------------------------------------


def _claim_destination(ctx: OpContext) -> Sides:
    failure = ""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        source = s.get(Host, vm.host_id) if vm.host_id else None
        to_host = ctx.op_params.get("to_host_id")
        if source is None or source.status != "up":
            failure = f"VM {vm.name}'s host is not up"
        else:
            try:
                dest = ctx.placement.claim_destination(s, vm, source, to_host, traits=_traits(ctx))
            except NoCapacity as exc:
                failure = f"no destination for VM {vm.name}: {exc.detail}"
        if failure:  # nothing started: the VM is as before
            operations.record_step(s, op, "choose destination", "failed", failure)
            vm.task_operation_id = None
            set_state(s, vm, str(ctx.op_params.get("from_state", "running")))
        else:
            assert source is not None
            vm.migration_host_id = dest.id
            how = "requested" if to_host else "chosen by the scheduler"
            operations.record_step(
                s, op, "choose destination", "succeeded", f"{dest.name} ({how})", progress=5
            )
            op.params = {**op.params, "dest_host_id": dest.id, "source_host_id": source.id}
            source_client, source_name = client_for(s, ctx, source.id)
            dest_client, dest_name = client_for(s, ctx, dest.id)
            return Sides(vm.id, source_client, source_name, dest_client, dest_name, dest.id)
    raise OperationFailed(failure)


def _traits(ctx: OpContext) -> frozenset[str]:
    """What a destination needs beyond live migration itself."""
    return frozenset({"migration-tls"}) if ctx.op_params.get("tls") else frozenset()


def _check_tls(ctx: OpContext, sides: Sides, target: dict[str, Any]) -> None:
    offered = target.get("tls") or {}
    if not (offered.get("ca_cert") and offered.get("client_cert")):
        raise Rollback(f"{sides.dest_name} did not set up TLS for the migration")
    with ctx.owned() as (s, op):
        operations.record_step(
            s,
            op,
            "encrypt",
            "succeeded",
            f"TLS to {offered.get('hostname') or sides.dest_name}, both ends verified by "
            "a CA made for this migration only",
        )


def _plan(ctx: OpContext, facts: dict[str, Any]) -> dict[str, Any]:
    ram = int(facts.get("ram_bytes") or 0)
    dirty = facts.get("dirty_rate_bps")
    if ctx.op_params.get("policy") == "qemu-default":
        plan = qemu_default_plan()
    else:
        plan = plan_migration(_objective(ctx), ram, dirty)
    with ctx.owned() as (s, op):
        measured = f"{float(dirty) / MIB:.1f} MiB/s" if dirty is not None else "not measured"
        operations.record_step(
            s, op, "measure", "succeeded", f"RAM {ram / MIB:.0f} MiB, dirty rate {measured}"
        )
        for decision in plan.decisions:
            operations.record_step(
                s, op, f"policy: {decision.choice}", "succeeded", decision.reason
            )
    return plan.as_dict()


def _objective(ctx: OpContext) -> Objective:
    p = ctx.op_params
    return Objective(
        downtime_ms=float(p.get("downtime_ms") or 50.0),
        time_bound_s=p.get("time_bound_s"),
        allow_postcopy=bool(p.get("allow_postcopy", True)),
        link_bandwidth_bps=p.get("bandwidth_bps"),
    )


def _prepare_destination(
    ctx: OpContext, sides: Sides, facts: dict[str, Any], plan: dict[str, Any]
) -> dict[str, Any]:
    with ctx.owned() as (s, _op):
        spec = vm_spec(s, held_vm(s, ctx))
    options = {**facts, "plan": plan, "listen_host": ctx.op_params.get("listen_host")}
    return _call(
        ctx,
        f"prepare {sides.dest_name}",
        lambda: sides.dest.migration_incoming(sides.dest_name, spec, options),
    )


def _follow(ctx: OpContext, sides: Sides) -> MigrationProgress:
    """Poll the source until the stream ends; relay progress, decisions and cancels."""
    started = time.monotonic()
    timeout = float(ctx.op_params.get("timeout_s") or DEFAULT_TIMEOUT_S)
    shown = 0
    asked_to_stop = ""
    while True:
        try:
            progress = sides.source.migration_status(sides.source_name, sides.vm_id)
        except NovaCronError as exc:
            raise Rollback(f"lost the source during the migration: {exc.detail}") from None
        with ctx.owned() as (s, op):
            shown = _show(s, op, progress, shown)
            cancel = op.cancel_requested_at is not None
        if progress.done:
            if progress.status == "completed":
                return progress
            reason = asked_to_stop or progress.error or f"migration {progress.status}"
            raise Rollback(reason, cancelled=progress.status == "cancelled" and cancel)
        if not asked_to_stop and (cancel or time.monotonic() - started > timeout):
            asked_to_stop = "cancelled by request" if cancel else f"timed out after {timeout:.0f} s"
            try:
                sides.source.migration_cancel(sides.source_name, sides.vm_id)
            except NovaCronError as exc:  # e.g. post-copy has started: it must complete
                asked_to_stop = ""
                ctx.end_step("cancel", "failed", exc.detail)
        time.sleep(POLL_S)


def _show(s: Any, op: Any, progress: MigrationProgress, shown: int) -> int:
    """Progress fields on the operation; each new policy decision as a step."""
    for decision in progress.decisions[shown:]:
        operations.record_step(
            s,
            op,
            f"policy: {decision.choice}",
            "succeeded",
            f"at {decision.at_s:.1f} s: {decision.reason}",
        )
    sent, left = progress.transferred_bytes, progress.remaining_bytes
    share = sent / (sent + left) if sent + left else 0.0
    live = progress.as_dict()
    live.pop("decisions", None)
    op.result = {**(op.result or {}), "migration": live, "status_line": status_line(progress)}
    op.progress = max(op.progress, min(90, 20 + int(share * 70)))
    operations.publish_op(s, op)
    return len(progress.decisions)


def status_line(p: MigrationProgress) -> str:
    """One line for a progress bar: where the migration is and how it goes."""
    if p.status == "storage":
        return f"disk {p.disk_transferred_bytes / MIB:.0f}/{p.disk_total_bytes / MIB:.0f} MiB"
    parts = [
        p.mode if p.status in ("memory", "postcopy") else p.status,
        f"{p.transferred_bytes / MIB:.0f} MiB sent, {p.remaining_bytes / MIB:.0f} MiB left",
        f"link {p.bandwidth_bps / MIB:.1f} MiB/s",
        f"dirty {p.dirty_rate_bps / MIB:.1f} MiB/s",
        f"round {p.iteration}",
    ]
    if p.expected_downtime_ms and p.mode == "precopy":
        parts.append(f"expected downtime {p.expected_downtime_ms:.0f} ms")
    return ", ".join(parts)


def _finish(ctx: OpContext, sides: Sides, progress: MigrationProgress) -> dict[str, Any]:
    info = _call(
        ctx,
        f"finish on {sides.dest_name}",
        lambda: sides.dest.migration_finish(sides.dest_name, sides.vm_id, source=False),
    )
    try:
        sides.source.migration_finish(sides.source_name, sides.vm_id, source=True)
        ctx.end_step(f"finish on {sides.source_name}", "succeeded")
    except NovaCronError as exc:  # the copy left there is an orphan its agent removes
        ctx.end_step(f"finish on {sides.source_name}", "failed", exc.detail)
    result = {
        "from": sides.source_name,
        "to": sides.dest_name,
        "total_s": progress.elapsed_s,
        "downtime_ms": progress.downtime_ms,
        "bytes": progress.transferred_bytes,
        "mode": progress.mode,
    }
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        ctx.placement.release(s, vm)  # the source's claim
        vm.host_id, vm.claimed, vm.migration_host_id = sides.dest_id, True, None
        state = host_service.POWER_TO_STATE.get(str(info.get("power_state")), "running")
        set_state(s, vm, state, fault="")
        vm.task_operation_id = None
        operations.record_step(s, op, "move in inventory", "succeeded", f"on {sides.dest_name}")
        ctx.complete(s, op, {**(op.result or {}), **result})
    return result


def _roll_back(ctx: OpContext, sides: Sides, reason: str, cancelled: bool) -> None:
    """Both sides back to before; the VM as its source reports it; the claim returned."""
    with contextlib.suppress(NovaCronError):
        sides.source.migration_rollback(sides.source_name, sides.vm_id, source=True)
    try:
        sides.dest.migration_rollback(sides.dest_name, sides.vm_id, source=False)
        ctx.end_step(f"roll back {sides.dest_name}", "succeeded")
    except NovaCronError as exc:  # its agent removes the leftover as an orphan
        ctx.end_step(f"roll back {sides.dest_name}", "failed", exc.detail)
    state, fault = "unknown", reason
    with contextlib.suppress(NovaCronError):
        info = sides.source.get_vm(sides.source_name, sides.vm_id)
        state = host_service.POWER_TO_STATE.get(str((info or {}).get("power_state")), "error")
        fault = str((info or {}).get("fault") or "") if state == "crashed" else ""
    with ctx.owned() as (s, op):
        vm = held_vm(s, ctx)
        ctx.placement.release_on(s, vm, sides.dest_id)
        vm.migration_host_id = None
        set_state(s, vm, state, fault=fault)
        vm.task_operation_id = None
        operations.record_step(
            s, op, "roll back", "succeeded", f"VM {state} on {sides.source_name}"
        )
        operations.finish(s, op, error=reason, cancelled=cancelled)
        ctx.finished = True
    raise OperationFailed(reason)


def _resume(ctx: OpContext) -> dict[str, Any]:
    """A server restart interrupted the operation: finish if the stream completed,
    else roll both sides back (the source never stopped running the guest)."""
    with ctx.owned() as (s, _op):
        vm = held_vm(s, ctx)
        source_id = str(ctx.op_params["source_host_id"])
        source_client, source_name = client_for(s, ctx, source_id)
        dest_client, dest_name = client_for(s, ctx, str(ctx.op_params["dest_host_id"]))
        sides = Sides(
            vm.id,
            source_client,
            source_name,
            dest_client,
            dest_name,
            str(ctx.op_params["dest_host_id"]),
        )
    try:
        progress = sides.source.migration_status(source_name, sides.vm_id)
    except NovaCronError:
        progress = MigrationProgress(status="failed", error="no migration on the source")
    if not progress.done:
        try:
            progress = _follow(ctx, sides)
        except Rollback as exc:
            _roll_back(ctx, sides, exc.reason, exc.cancelled)
    if progress.status == "completed":
        return _finish(ctx, sides, progress)
    _roll_back(ctx, sides, f"interrupted by a server restart ({progress.error})", False)
    raise AssertionError("unreachable")


# -- helpers -----------------------------------------------------------------------------


def _call(ctx: OpContext, step: str, fn: Any) -> Any:
    """Run an agent call as a step; a failure rolls the migration back."""
    ctx.end_step(step, "running")
    try:
        out = fn()
    except NovaCronError as exc:
        ctx.end_step(step, "failed", exc.detail)
        raise Rollback(f"{step} failed: {exc.detail}") from None
    ctx.end_step(step, "succeeded")
    return out
