"""Persisted operations: enqueue, claim with a lease, record steps, finish.

Exactly-once execution across server replicas rests on two guards:
- a worker takes an operation with a conditional UPDATE (``state`` and lease
  checked in the WHERE clause; PostgreSQL first narrows candidates with
  ``FOR UPDATE SKIP LOCKED``), so only one worker's UPDATE matches;
- every later write by that worker is conditioned on ``owner = me``, so a worker
  whose lease was taken over cannot overwrite the new owner's record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.orm import Session

from novacron.compute.models import Operation
from novacron.core import events
from novacron.core.clock import isoformat, utcnow
from novacron.core.database import Database, db_now
from novacron.core.errors import InvalidState, NotFound
from novacron.core.ids import new_id
from novacron.security.models import DEFAULT_PROJECT_ID

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Running operations of these kinds stop part-way when asked (and roll back).
CANCELLABLE_WHILE_RUNNING = frozenset({"vm.migrate", "host.drain"})


class LostOwnership(Exception):
    """This worker's lease on an operation was taken over; it must stop touching it."""


def enqueue(
    session: Session,
    kind: str,
    target_type: str,
    target_id: str,
    *,
    requested_by: str,
    params: dict[str, Any] | None = None,
    project_id: str = DEFAULT_PROJECT_ID,
) -> Operation:
    op = Operation(
        id=new_id("op"),
        project_id=project_id,
        kind=kind,
        target_type=target_type,
        target_id=target_id,
        state="pending",
        params=params or {},
        requested_by=requested_by,
        steps=[],
        result={},
    )
    session.add(op)
    session.flush()
    publish_op(session, op)
    return op


def publish_op(session: Session, op: Operation) -> None:
    events.publish(
        session,
        "operation.updated",
        "operation",
        op.id,
        {
            "kind": op.kind,
            "state": op.state,
            "progress": op.progress,
            "target_type": op.target_type,
            "target_id": op.target_id,
            "error": op.error,
        },
        project_id=op.project_id,
    )


def query(
    *,
    state: str | None = None,
    kind: str | None = None,
    target_id: str | None = None,
    project_id: str | None = None,
) -> Select[Operation]:
    """Operations, newest first, optionally filtered (``project_id`` None: every project)."""
    stmt = select(Operation).order_by(Operation.created_at.desc(), Operation.id.desc())
    if project_id:
        stmt = stmt.where(Operation.project_id == project_id)
    if state:
        stmt = stmt.where(Operation.state == state)
    if kind:
        stmt = stmt.where(Operation.kind == kind)
    if target_id:
        stmt = stmt.where(Operation.target_id == target_id)
    return stmt


def get(session: Session, op_id: str, *, project_id: str | None = None) -> Operation:
    """An operation (of ``project_id`` when given: another project's is not found)."""
    op = session.get(Operation, op_id)
    if op is None or (project_id is not None and op.project_id != project_id):
        raise NotFound(f"no operation {op_id!r}")
    return op


def cancel(session: Session, op_id: str, *, project_id: str | None) -> Operation:
    """Cancel a pending operation, or ask a running migration or drain to stop (it rolls
    back and ends ``cancelled``); other running operations finish on their own."""
    op = get(session, op_id, project_id=project_id)
    if op.state == "running" and op.kind in CANCELLABLE_WHILE_RUNNING:
        if op.cancel_requested_at is None:
            op.cancel_requested_at = utcnow()
            publish_op(session, op)
        return op
    if op.state != "pending":
        raise InvalidState(
            f"operation {op_id} is {op.state}; only pending operations (and running "
            "migrations and drains) can be cancelled"
        )
    res = session.execute(
        update(Operation)
        .where(Operation.id == op_id, Operation.state == "pending")
        .values(state="cancelled", finished_at=utcnow(), error="cancelled by request")
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidState(f"operation {op_id} has just started; it can no longer be cancelled")
    session.refresh(op)
    publish_op(session, op)
    return op


def claim_next(db: Database, owner: str, lease_s: float) -> str | None:
    """Take the oldest pending operation, or a running one whose worker vanished."""

    def claimable(now: datetime) -> ColumnElement[bool]:
        return or_(
            Operation.state == "pending",
            (Operation.state == "running") & (Operation.lease_expires_at < now),
        )

    # Idle workers poll: look without taking SQLite's write lock first.
    with db.read() as s:
        if s.scalar(select(Operation.id).where(claimable(db_now(s))).limit(1)) is None:
            return None
    with db.session() as s:
        now = db_now(s)
        candidates = (
            select(Operation.id, Operation.state)
            .where(claimable(now))
            .order_by(Operation.created_at)
            .limit(8)
        )
        if db.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=Operation)
        for op_id, state in s.execute(candidates).all():
            guard = Operation.state == "pending"
            if state == "running":
                guard = (Operation.state == "running") & (Operation.lease_expires_at < now)
            res = s.execute(
                update(Operation)
                .where(Operation.id == op_id, guard)
                .values(
                    state="running",
                    owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_s),
                    attempts=Operation.attempts + 1,
                    started_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                op = s.get(Operation, op_id)
                assert op is not None
                s.refresh(op)
                if state == "running":  # taking over: the previous worker's steps ended
                    _close_open_steps(op, "interrupted", "the worker running it stopped")
                publish_op(s, op)
                return op_id
    return None


def renew_leases(db: Database, owners: list[str], lease_s: float) -> int:
    """Extend the leases of the executions that are running now.

    On PostgreSQL rows locked by a handler's transaction are skipped rather than
    waited for: the handler extends its own lease as it takes the lock (``owned``), and
    waiting here behind a queue of busy handlers let every other lease lapse."""
    if not owners:
        return 0
    with db.session() as s:
        mine: ColumnElement[bool] = Operation.owner.in_(owners) & (Operation.state == "running")
        if db.dialect == "postgresql":
            free = select(Operation.id).where(mine).with_for_update(skip_locked=True)
            mine = Operation.id.in_(free.scalar_subquery())
        res = s.execute(
            update(Operation)
            .where(mine)
            .values(lease_expires_at=db_now(s) + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        return int(res.rowcount)  # type: ignore[attr-defined]


def owned(session: Session, op_id: str, owner: str, lease_s: float | None = None) -> Operation:
    """The operation, locked for update, if this worker still owns it; with
    ``lease_s``, its lease extended too (the owner is evidently alive)."""
    stmt = select(Operation).where(
        Operation.id == op_id, Operation.owner == owner, Operation.state == "running"
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    op = session.scalar(stmt)
    if op is None:
        raise LostOwnership(op_id)
    if lease_s is not None:
        op.lease_expires_at = db_now(session) + timedelta(seconds=lease_s)
    return op


def record_step(
    session: Session,
    op: Operation,
    name: str,
    state: str,
    detail: str = "",
    progress: int | None = None,
) -> None:
    steps = [dict(s) for s in op.steps]
    now = isoformat(utcnow())
    for step in reversed(steps):
        if step["name"] == name and step["state"] == "running" and step["owner"] == op.owner:
            step.update(state=state, finished_at=now, detail=detail or step.get("detail", ""))
            break
    else:
        steps.append(
            {
                "name": name,
                "state": state,
                "started_at": now,
                "finished_at": None if state == "running" else now,
                "detail": detail,
                "owner": op.owner,
                "attempt": op.attempts,
            }
        )
    op.steps = steps
    if progress is not None:
        op.progress = max(op.progress, min(progress, 100))
    publish_op(session, op)


def _close_open_steps(op: Operation, state: str, detail: str = "") -> None:
    """Steps still marked running end with the operation (or with their worker)."""
    if not any(step["state"] == "running" for step in op.steps):
        return
    now = isoformat(utcnow())
    op.steps = [
        {**step, "state": state, "finished_at": now, "detail": detail or step.get("detail", "")}
        if step["state"] == "running"
        else step
        for step in op.steps
    ]


def finish(
    session: Session,
    op: Operation,
    *,
    error: str = "",
    result: dict[str, Any] | None = None,
    cancelled: bool = False,
) -> None:
    _close_open_steps(op, "failed" if error else "succeeded")
    op.state = "cancelled" if cancelled else "failed" if error else "succeeded"
    op.error = error
    op.progress = op.progress if error else 100
    op.result = result or op.result or {}
    op.finished_at = utcnow()
    op.lease_expires_at = None
    publish_op(session, op)
