"""Host drain: live-migrate every running VM off a host, a few at a time, and leave the
host in maintenance; undrain brings it back (and, if asked, the VMs that left).

The drain is an operation (``host.drain``) that starts one ``vm.migrate`` operation
per VM — the scheduler picks each destination with the VM's placement rules
(capacity, anti-affinity, labels, traits) — keeping at most ``parallel`` of them
running. A cancel stops starting new ones and cancels those in flight (each rolls
back); the host stays in maintenance either way. Stopped VMs stay (their disks are
local and cold migration is not there yet); the result lists them.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.compute import hosts as host_service
from novacron.compute import operations, states
from novacron.compute.models import VM, Host, Operation
from novacron.compute.vms import act
from novacron.core.errors import InvalidState, NovaCronError

if TYPE_CHECKING:
    from novacron.compute.executor import OpContext

LIVE = frozenset({"running", "paused"})
POLL_MIN_S, POLL_MAX_S = 0.05, 0.5
#: A VM busy with another operation is tried again this many times before it is skipped.
BUSY_RETRIES = 20


def request_drain(
    session: Session, ref: str, requested_by: str, *, parallel: int, migrate: dict[str, Any]
) -> Operation:
    host = host_service.find_host(session, ref)
    busy = _running_drain(session, host)
    if busy:
        raise InvalidState(f"host {host.name} is already being drained ({busy})")
    if migrate.get("tls") and "migration-tls" not in (host.capabilities or []):
        raise InvalidState(
            f"host {host.name} ({host.driver} driver) does not support encrypted (TLS) migration"
        )
    host_service.set_maintenance(session, host, True, "draining")
    host.draining = True
    return operations.enqueue(
        session,
        "host.drain",
        "host",
        host.id,
        requested_by=requested_by,
        params={"parallel": parallel, "migrate": migrate},
    )


def request_undrain(
    session: Session, ref: str, requested_by: str, *, bring_back: bool
) -> Operation:
    host = host_service.find_host(session, ref)
    busy = _running_drain(session, host)
    if busy:
        raise InvalidState(f"host {host.name} is still draining ({busy}): cancel it first")
    return operations.enqueue(
        session,
        "host.undrain",
        "host",
        host.id,
        requested_by=requested_by,
        params={"bring_back": bring_back},
    )


def _running_drain(session: Session, host: Host) -> str | None:
    return session.scalar(
        select(Operation.id).where(
            Operation.target_id == host.id,
            Operation.kind == "host.drain",
            Operation.state.in_(("pending", "running")),
        )
    )


def host_drain(ctx: OpContext) -> dict[str, Any]:
    # Each migration needs a worker of its own besides this one.
    limit = max(1, ctx.settings.executor_threads - 1)
    parallel = min(limit, max(1, int(ctx.op_params.get("parallel") or 2)))
    body = dict(ctx.op_params.get("migrate") or {})
    queue, left = _inventory(ctx)
    tries: dict[str, int] = {}
    running: dict[str, str] = {}  # op id → VM name
    moved: list[str] = []
    failed: dict[str, str] = {}
    total = len(queue)
    poll = POLL_MIN_S
    cancelled = False
    while queue or running:
        if not cancelled and _cancel_requested(ctx):
            cancelled = True  # start no more; those in flight roll back
            queue.clear()
            _cancel_children(ctx, running)
        while queue and len(running) < parallel:
            vm_id, name = queue.pop(0)
            started = _start_migration(ctx, vm_id, name, body)
            if started is None:  # busy: try again later, not forever
                tries[vm_id] = tries.get(vm_id, 0) + 1
                if tries[vm_id] < BUSY_RETRIES:
                    queue.append((vm_id, name))
                else:
                    failed[name] = "busy with other operations"
                break
            if started:
                running[started] = name
            else:
                total -= 1  # deleted or moved meanwhile
        ended = _collect(ctx, running, moved, failed)
        if ended:
            _progress(ctx, len(moved) + len(failed), total)
        poll = POLL_MIN_S if ended else min(POLL_MAX_S, poll * 1.5)
        time.sleep(poll)
    return _finish(ctx, moved, failed, left, cancelled)


def host_undrain(ctx: OpContext) -> dict[str, Any]:
    with ctx.owned() as (s, op):
        host = s.get(Host, ctx.target_id)
        if host is None:
            raise NovaCronError(f"host {ctx.target_id} no longer exists")
        host_service.set_maintenance(s, host, False, "")
        operations.record_step(s, op, "maintenance off", "succeeded", progress=50)
        back: list[str] = []
        if ctx.op_params.get("bring_back"):
            back = _bring_back(s, ctx, host)
        result = {"maintenance": False, "returning": back}
        ctx.complete(s, op, result)
    ctx.placement.invalidate()
    return result


# -- steps -------------------------------------------------------------------------------


def _inventory(ctx: OpContext) -> tuple[list[tuple[str, str]], list[str]]:
    with ctx.owned() as (s, op):
        rows = s.execute(
            select(VM.id, VM.name, VM.state)
            .where(VM.host_id == ctx.target_id, VM.state != "deleted")
            .order_by(VM.memory_mib.desc(), VM.name)  # big ones first: they take longest
        ).all()
        queue = [(r.id, r.name) for r in rows if r.state in LIVE | states.TRANSITIONAL]
        left = [r.name for r in rows if r.state not in LIVE | states.TRANSITIONAL]
        detail = f"{len(queue)} to migrate" + (f", {len(left)} not running stay" if left else "")
        operations.record_step(s, op, "inventory", "succeeded", detail, progress=2)
    ctx.placement.invalidate()
    return queue, left


def _start_migration(ctx: OpContext, vm_id: str, name: str, body: dict[str, Any]) -> str | None:
    """The child operation's id, or None when the VM is busy with another operation."""
    try:
        with ctx.owned() as (s, op):
            vm = s.get(VM, vm_id)
            if vm is None or vm.host_id != ctx.target_id or vm.state == "deleted":
                return ""  # gone or moved meanwhile: nothing to do
            child = act(s, vm_id, "migrate", f"drain:{ctx.op_id}", body, project_id=None)
            operations.record_step(s, op, f"migrate {name}", "running")
            return child.id
    except InvalidState:
        return None


def _progress(ctx: OpContext, done: int, total: int) -> None:
    with ctx.owned() as (s, op):
        op.progress = max(op.progress, _pct(done, total))
        op.result = {**(op.result or {}), "status_line": f"{done} of {total} VMs handled"}
        operations.publish_op(s, op)


def _collect(
    ctx: OpContext, running: dict[str, str], moved: list[str], failed: dict[str, str]
) -> int:
    """Record the child operations that ended; returns how many did."""
    if not running:
        return 0
    ended = 0
    with ctx.owned() as (s, op):
        for child in s.scalars(select(Operation).where(Operation.id.in_(list(running)))):
            if child.state not in operations.TERMINAL:
                continue
            name = running.pop(child.id)
            ended += 1
            if child.state == "succeeded":
                moved.append(name)
                to = (child.result or {}).get("to", "?")
                took = float((child.result or {}).get("total_s") or 0)
                detail = f"to {to}, {took:.1f} s"
                operations.record_step(s, op, f"migrate {name}", "succeeded", detail)
            else:
                failed[name] = child.error or child.state
                operations.record_step(s, op, f"migrate {name}", "failed", failed[name])
    return ended


def _cancel_requested(ctx: OpContext) -> bool:
    with ctx.owned() as (_s, op):
        return op.cancel_requested_at is not None


def _cancel_children(ctx: OpContext, running: dict[str, str]) -> None:
    with ctx.owned() as (s, _op):
        for op_id in list(running):
            with contextlib.suppress(NovaCronError):  # it may just have ended
                operations.cancel(s, op_id, project_id=None)


def _finish(
    ctx: OpContext, moved: list[str], failed: dict[str, str], left: list[str], cancelled: bool
) -> dict[str, Any]:
    result = {"migrated": moved, "failed": failed, "not_running": left, "maintenance": True}
    with ctx.owned() as (s, op):
        host = s.get(Host, ctx.target_id)
        if host is not None:
            host.draining = False
            host.maintenance_reason = "drained" if not failed and not cancelled else "drain ended"
            host_service.publish_host(s, host)
        op.result = {**(op.result or {}), **result}
        error = ""
        if cancelled:
            error = f"cancelled by request after {len(moved)} VM(s) moved"
        elif failed:
            error = f"{len(failed)} VM(s) could not be moved: " + "; ".join(
                f"{name}: {why}" for name, why in sorted(failed.items())
            )
        operations.finish(s, op, error=error, result=op.result, cancelled=cancelled)
        ctx.finished = True
    return result


def _bring_back(session: Session, ctx: OpContext, host: Host) -> list[str]:
    """VMs the last drain of ``host`` moved away that still run elsewhere: back home."""
    last = session.scalar(
        select(Operation)
        .where(Operation.target_id == host.id, Operation.kind == "host.drain")
        .order_by(Operation.created_at.desc())
        .limit(1)
    )
    names = list((last.result or {}).get("migrated") or []) if last else []
    # VMs that left encrypted come back encrypted.
    tls = bool(((last.params or {}).get("migrate") or {}).get("tls")) if last else False
    params: dict[str, Any] = {"to_host_id": host.id, **({"tls": True} if tls else {})}
    back = []
    for vm in session.scalars(select(VM).where(VM.name.in_(names), VM.state.in_(LIVE))):
        if vm.host_id == host.id:
            continue
        try:
            act(
                session,
                vm.id,
                "migrate",
                f"undrain:{ctx.op_id}",
                dict(params),
                project_id=None,
            )
            back.append(vm.name)
        except InvalidState:
            continue
    return back


def _pct(done: int, total: int) -> int:
    return 100 if not total else 5 + int(90 * done / total)
