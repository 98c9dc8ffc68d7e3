"""The operation executor: worker threads that claim and run persisted operations.

A server restart (even ``kill -9``) loses nothing: a running operation keeps a
lease that this process renews; when the lease lapses another worker (or this
server after its restart) takes the operation over and re-runs its idempotent
steps. After ``operation_max_attempts`` takeovers it fails with a reason.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from novacron.compute import operations
from novacron.compute.handlers import HANDLERS, OperationFailed, abandon
from novacron.compute.models import Operation
from novacron.compute.operations import LostOwnership
from novacron.compute.placement import Placement
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.core.errors import NovaCronError
from novacron.core.ids import new_id

log = logging.getLogger("novacron.executor")

#: How often an idle worker other than the poller looks for work. One idle worker at a
#: time (the poller) looks every ``poll_interval_s``; the API wakes all of them for a new
#: operation, and a worker that claims one wakes the rest (there may be more).
IDLE_POLL_S = 2.0


@dataclass
class OpContext:
    db: Database
    settings: Settings
    placement: Placement
    owner: str
    op_id: str
    kind: str
    target_type: str
    target_id: str
    op_params: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1
    finished: bool = False

    @contextmanager
    def owned(self) -> Iterator[tuple[Session, Operation]]:
        """A transaction on the operation, valid only while this worker owns it."""
        with self.db.session() as s:
            op = operations.owned(s, self.op_id, self.owner, self.settings.operation_lease_s)
            yield s, op
            self.op_params = dict(op.params)

    def complete(self, session: Session, op: Operation, result: dict[str, Any]) -> None:
        """Finish the operation in the handler's last transaction (saves a round trip)."""
        operations.finish(session, op, result=result)
        self.finished = True

    def end_step(
        self, name: str, state: str, detail: str = "", progress: int | None = None
    ) -> None:
        with self.owned() as (s, op):
            operations.record_step(s, op, name, state, detail, progress=progress)


class Executor:
    def __init__(self, db: Database, settings: Settings, placement: Placement) -> None:
        self.db, self.settings, self.placement = db, settings, placement
        self.owner = new_id("worker")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._poller = threading.Lock()
        """Held by the one idle worker that polls the database at ``poll_interval_s``."""
        self._threads: list[threading.Thread] = []
        self._live: set[str] = set()
        """Claim ids of the executions running now: only their leases are renewed."""
        self._live_lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.settings.executor_threads):
            t = threading.Thread(target=self._work, name=f"executor-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._renew, name="lease-renewal", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _renew(self) -> None:
        interval = self.settings.operation_lease_s / 3
        while not self._stop.wait(interval):
            with self._live_lock:
                live = sorted(self._live)
            try:
                operations.renew_leases(self.db, live, self.settings.operation_lease_s)
            except Exception:
                log.exception("lease renewal failed")

    def _work(self) -> None:
        backoff = self.settings.poll_interval_s
        while not self._stop.is_set():
            # A claim id of its own per execution: if a lease lapses while this thread
            # is slow, a sibling thread that takes the operation over owns it alone.
            owner = f"{self.owner}/{secrets.token_hex(4)}"
            with self._live_lock:
                self._live.add(owner)
            try:
                op_id = operations.claim_next(self.db, owner, self.settings.operation_lease_s)
                if op_id is not None:
                    self._wake.set()  # there may be more: idle siblings look at once
                    self.run(op_id, owner)
                backoff = self.settings.poll_interval_s
            except Exception:
                # The database is away (or a bug): keep the thread, retry with backoff.
                # Whatever this execution held is taken over once its lease lapses.
                log.exception("executor loop error; retrying in %.1fs", backoff)
                op_id = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with self._live_lock:
                    self._live.discard(owner)
            if op_id is None:
                poller = self._poller.acquire(blocking=False)
                try:
                    self._wake.wait(self.settings.poll_interval_s if poller else IDLE_POLL_S)
                finally:
                    if poller:
                        self._poller.release()
                self._wake.clear()

    def run(self, op_id: str, owner: str) -> None:
        with self.db.read() as s:
            op = s.get(Operation, op_id)
            assert op is not None
            ctx = OpContext(
                db=self.db,
                settings=self.settings,
                placement=self.placement,
                owner=owner,
                op_id=op.id,
                kind=op.kind,
                target_type=op.target_type,
                target_id=op.target_id,
                op_params=dict(op.params),
                attempts=op.attempts,
            )
        try:
            if ctx.attempts > self.settings.operation_max_attempts:
                reason = (
                    f"abandoned after {ctx.attempts - 1} attempts: the workers running it "
                    "stopped (server restarts?)"
                )
                self._finish_safely(ctx, reason)
                return
            handler = HANDLERS.get(ctx.kind)
            if handler is None:
                self._finish_safely(ctx, f"no handler for operation kind {ctx.kind!r}")
                return
            result = handler(ctx)
            if not ctx.finished:
                self._finish(ctx, result=result)
        except LostOwnership:
            log.warning("operation %s was taken over by another worker", op_id)
        except OperationFailed as exc:
            if not ctx.finished:  # a handler may end its operation itself (e.g. cancelled)
                self._finish(ctx, error=str(exc))
        except NovaCronError as exc:
            log.warning("operation %s failed: %s", op_id, exc.detail)
            self._finish_safely(ctx, exc.detail)
        except Exception as exc:
            log.exception("operation %s crashed", op_id)
            # The first line only: driver errors carry SQL and parameters after it.
            first_line = (str(exc).splitlines() or [""])[0][:200]
            self._finish_safely(ctx, f"internal error: {exc.__class__.__name__}: {first_line}")

    def _finish_safely(self, ctx: OpContext, error: str) -> None:
        """Fail the operation and leave its target stable (raises if the database is away)."""
        try:
            abandon(ctx, error)
            self._finish(ctx, error=error)
        except LostOwnership:
            pass

    def _finish(
        self, ctx: OpContext, *, error: str = "", result: dict[str, Any] | None = None
    ) -> None:
        try:
            with ctx.owned() as (s, op):
                operations.finish(s, op, error=error, result=result)
        except LostOwnership:
            log.warning("operation %s finished after losing its lease; result dropped", ctx.op_id)
