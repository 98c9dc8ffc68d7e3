"""Live migration between sim hosts: ``SimMigrationMixin``, ``SimDriver``'s steps.

The contract's steps, between two sim hosts of this process::

    destination  prepare_incoming ─▶ VM paused here (memory and vCPUs reserved)
    source       migrate ─▶ setup ─▶ [storage] ─▶ memory ─▶ switchover [─▶ postcopy]
                 ─▶ completed (VM paused here, as QEMU's "postmigrate")
                 │  or failed/cancelled (VM running here again)
    both         finish_migration: destination VM running, source VM gone
                 rollback_migration: destination VM gone, source VM running

An incoming VM is listed as ``paused`` with ``migrating="incoming"`` — QEMU's
``-incoming`` process is not running either — so reports see it and it holds its
memory and vCPUs from the start (the server must not take it for an orphan). It stays
paused until ``finish_migration``, even in post-copy. The target names the destination
by ``sim_host_id``, so both hosts must live in this process.

Nothing is copied: ``migrate`` turns the VM's workload (``SimWorkload``), the link and
the options into ``MigrationParams`` (``_migration_params``) and runs
``compute.migration.model.simulate`` once, up front, so the outcome and every round are
known before the first simulated byte moves. A task then plays that timeline in real
time: after the ``migrate`` delay (status ``setup``), each entry — storage, a pre-copy
round, the switchover, post-copy — takes ``SimConfig.migration_seconds`` of its
simulated span, in ticks of at most ``_TICK_S`` real seconds that interpolate the
progress (bytes sent and left, expected downtime) and reveal the model's decisions as
simulated time reaches them; ``elapsed_s`` is simulated time. At the switchover the
source pauses the VM (the progress's ``mode`` turns ``postcopy`` if the model chose
post-copy). When the timeline ends completed, the destination receives the VM with its
workload and the status becomes ``completed``; when it ends aborted, the migration fails
with the model's reason.

Between ticks the source checks that both hosts are up and that the VM is still
resident here and still expected there; if not, the migration fails. The ``migrate``
failure rate, when its draw strikes, drops the connection at a random moment before
the switchover (pre-copy or storage). A failure or cancel before post-copy leaves the
VM running here again; a failure during post-copy loses it: the source's copy ends
``crashed``.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from novacron.compute.migration.model import (
    ABORTED,
    POSTCOPY,
    PRECOPY,
    STORAGE,
    SWITCHOVER,
    AutoConverge,
    MiB,
    MigrationParams,
    MigrationResult,
    Round,
    simulate,
)
from novacron.core.errors import Conflict, DriverError, Invalid, InvalidState, NotFound
from novacron.hypervisor.base import (
    CRASHED,
    PAUSED,
    RUNNING,
    MigrationDecision,
    MigrationProgress,
    VMInfo,
    VMSpec,
)
from novacron.hypervisor.sim.config import SimConfig, SimWorkload
from novacron.hypervisor.sim.vm import RESIDENT, SimVM, validate_spec

#: Longest real pause between two progress updates of a migration.
_TICK_S = 0.02
#: Migration status per timeline phase.
_STATUS = {
    STORAGE: "storage",
    PRECOPY: "memory",
    ABORTED: "memory",
    SWITCHOVER: "switchover",
    POSTCOPY: "postcopy",
}
#: Sim hosts of this process, by the ``sim_host_id`` of the targets they prepare.
_HOSTS: weakref.WeakValueDictionary[str, SimMigrationMixin] = weakref.WeakValueDictionary()
_HOST_IDS = itertools.count(1)


@dataclass(slots=True)
class _Outgoing:
    """The source's record of the running (or last) migration of one VM."""

    uri: str
    dest: SimMigrationMixin
    params: MigrationParams
    result: MigrationResult
    progress: MigrationProgress
    fail_at_s: float | None
    """Injected failure: the simulated second at which the connection drops."""
    task: asyncio.Task[None] | None = None
    paused_by_us: bool = False
    ram_done: int = 0
    disk_done: int = 0
    remaining: int = 0
    """Counters at the start of the timeline entry being played."""
    revealed: int = 0
    """How many of the model's decisions the progress shows so far."""


class _Aborted(Exception):
    """The migration fails; the message says why."""


class SimMigrationMixin:
    """The live-migration steps of ``SimDriver``, on both sides (see the module doc).

    Call ``_init_migration`` from ``__init__``. The host provides the attributes and
    helpers declared below.
    """

    sim_id: str
    """Names this host in its migration targets (``sim_host_id``)."""
    _outgoing: dict[str, _Outgoing]
    """The source's migrations, by VM id: the running or last one of each VM."""

    # Provided by the host (SimDriver).
    host_name: str
    vcpus: int
    memory_mib: int
    config: SimConfig
    _vms: dict[str, SimVM]
    _crashed: bool
    _rng: random.Random
    _clock: Callable[[], float]

    if TYPE_CHECKING:

        @property
        def crashed(self) -> bool: ...
        def _check_up(self) -> None: ...
        def _get(self, vm_id: str) -> SimVM: ...
        async def _work(self, op: str, max_delay: float | None = None) -> None: ...
        def _new_vm(self, spec: VMSpec, state: str) -> SimVM: ...
        @staticmethod
        def _set_power(vm: SimVM, state: str, now: float, *, reset: bool = False) -> None: ...
        def _info(self, vm: SimVM, now: float) -> VMInfo: ...

    def _init_migration(self) -> None:
        """No migrations yet; register this host as a destination for the others."""
        self._outgoing = {}
        self.sim_id = f"{next(_HOST_IDS)}"
        _HOSTS[self.sim_id] = self

    # -- live migration: destination ----------------------------------------------------

    def set_workload(
        self,
        vm_id: str,
        *,
        dirty_rate_bps: float | None = None,
        zero_fraction: float | None = None,
        working_set_fraction: float | None = None,
    ) -> SimWorkload:
        """Override how a VM dirties its memory (what its next migration sees)."""
        self._check_up()
        vm = self._get(vm_id)
        changes = {
            k: float(v)
            for k, v in (
                ("dirty_rate_bps", dirty_rate_bps),
                ("zero_fraction", zero_fraction),
                ("working_set_fraction", working_set_fraction),
            )
            if v is not None
        }
        new = replace(vm.workload, **changes)
        if not (
            0 <= new.dirty_rate_bps < math.inf
            and 0 <= new.zero_fraction <= 1
            and 0 <= new.working_set_fraction <= 1
        ):
            raise Invalid(f"sim: invalid workload for VM {vm_id}: {new}")
        vm.workload = new
        return new

    async def prepare_incoming(self, spec: VMSpec, options: dict[str, Any]) -> dict[str, Any]:
        """Reserve ``spec`` here as a paused VM. Repeating it for a VM already incoming
        returns the same target; refuses a VM that exists here or does not fit."""
        self._check_up()
        validate_spec(spec)
        accel = options.get("accel")
        if accel not in (None, "sim"):
            raise DriverError(f"sim: host {self.host_name} cannot receive a VM from {accel}")
        if not self._is_incoming(spec.id):
            self._check_room(spec)
            await self._work("prepare_incoming")
            if not self._is_incoming(spec.id):  # re-check: others may have come meanwhile
                self._check_room(spec)
                vm = self._new_vm(spec, PAUSED)
                vm.incoming = True
                self._vms[spec.id] = vm
        return {
            "uri": f"sim:{self.host_name}",
            "nbd": None,
            "bandwidth_bps": self.config.migration_bandwidth_bps,
            "sim_host_id": self.sim_id,
        }

    def _is_incoming(self, vm_id: str) -> bool:
        vm = self._vms.get(vm_id)
        return vm is not None and vm.incoming

    def _check_room(self, spec: VMSpec) -> None:
        where = f"host {self.host_name}"
        if spec.id in self._vms:
            raise DriverError(f"sim: VM {spec.id} already exists on {where}; cannot migrate it in")
        resident = [vm.spec for vm in self._vms.values() if vm.power_state in RESIDENT]
        for what, need, capacity, used in (
            (
                "MiB of memory",
                spec.memory_mib,
                self.memory_mib,
                sum(s.memory_mib for s in resident),
            ),
            ("vCPUs", spec.vcpus, self.vcpus, sum(s.vcpus for s in resident)),
        ):
            if used + need > capacity:
                raise DriverError(
                    f"sim: {where} cannot take VM {spec.id}: it needs {need} {what}, "
                    f"{max(0, capacity - used)} of {capacity} are free"
                )

    def _receive(self, vm_id: str, workload: SimWorkload) -> bool:
        """The source finished sending ``vm_id``; False when it is no longer expected here."""
        vm = self._vms.get(vm_id)
        if self._crashed or vm is None or not vm.incoming:
            return False
        vm.received, vm.workload = True, workload
        return True

    # -- live migration: source ---------------------------------------------------------

    async def prepare_outgoing(
        self, vm_id: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The facts of a running VM that may leave (its workload's dirty rate as if
        measured). The sim treats storage as shared: ``disk_bytes`` is the disk's size,
        not something ``migrate`` copies (its ``disk_bytes`` option makes it copy). It
        has no TLS (no ``migration-tls`` capability) and refuses to pretend otherwise."""
        self._check_up()
        if (options or {}).get("tls"):
            raise DriverError(f"sim: host {self.host_name} cannot encrypt migrations (TLS)")
        vm = self._get(vm_id)
        if vm.power_state != RUNNING:
            raise InvalidState(f"sim: cannot migrate VM {vm_id}: it is {vm.power_state}")
        if self._migrating(vm):
            raise InvalidState(f"sim: VM {vm_id} is already migrating")
        return {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"novacron-sim:{vm_id}")),
            "accel": "sim",
            "ram_bytes": vm.spec.memory_mib * MiB,
            "dirty_rate_bps": vm.workload.dirty_rate_bps,
            "disk_bytes": vm.spec.disk_gib * 1024 * MiB,
            "bridge": vm.spec.network.get("bridge"),
        }

    def _migrating(self, vm: SimVM) -> str:
        """``incoming``, ``outgoing`` (while the stream runs) or empty."""
        if vm.incoming:
            return "incoming"
        out = self._outgoing.get(vm.spec.id)
        return "outgoing" if out is not None and not out.progress.done else ""

    async def migrate(self, vm_id: str, target: dict[str, Any], options: dict[str, Any]) -> None:
        """Start the model's migration of a running VM as a task; repeating the call for
        a migration under way to the same target is a no-op.

        ``options``: ``downtime_ms``, ``time_bound_s``, ``allow_postcopy``,
        ``bandwidth_bps``, ``auto_converge``, ``postcopy_after_rounds``, ``disk_bytes``
        (bytes to mirror first); the server's ``plan`` (``postcopy-ram`` and
        ``auto-converge`` capabilities; ``downtime-limit``, ``max-bandwidth`` and throttle
        parameters) and ``objective`` (see ``_migration_params`` for who wins).
        ``elapsed_s`` in the progress is simulated time.
        """
        self._check_up()
        vm = self._get(vm_id)
        current = self._outgoing.get(vm_id)
        if current is not None and not current.progress.done:
            if current.uri == target.get("uri"):
                return
            raise Conflict(f"sim: VM {vm_id} is already migrating to {current.uri}")
        if vm.power_state != RUNNING:
            raise InvalidState(f"sim: cannot migrate VM {vm_id}: it is {vm.power_state}")
        dest = self._destination(vm_id, target)
        bandwidth = _first(target.get("bandwidth_bps"), self.config.migration_bandwidth_bps)
        params = _migration_params(vm, options, bandwidth)
        out = self._start_record(vm_id, target, dest, params)
        out.task = asyncio.get_running_loop().create_task(self._run_migration(vm_id, out))

    async def migration_status(self, vm_id: str) -> MigrationProgress:
        self._check_up()
        progress = self._record(vm_id).progress
        return replace(progress, decisions=list(progress.decisions))

    async def cancel_migration(self, vm_id: str) -> None:
        """Stop a running migration (not in post-copy: the VM already runs there)."""
        self._check_up()
        self._get(vm_id)
        out = self._outgoing.get(vm_id)
        if out is None or out.progress.done:
            return
        if out.progress.mode == POSTCOPY:
            raise InvalidState(
                f"sim: cannot cancel the migration of VM {vm_id}: it is in post-copy, the "
                f"VM already runs on {out.dest.host_name}"
            )
        self._end(vm_id, out, "cancelled", "cancelled")

    def _record(self, vm_id: str) -> _Outgoing:
        out = self._outgoing.get(vm_id)
        if out is None:
            raise NotFound(f"sim: no migration of VM {vm_id} from host {self.host_name}")
        return out

    def _destination(self, vm_id: str, target: dict[str, Any]) -> SimMigrationMixin:
        uri = target.get("uri")
        dest = _HOSTS.get(str(target.get("sim_host_id", "")))
        if dest is None or uri != f"sim:{dest.host_name}":
            raise DriverError(f"sim: cannot migrate to {uri!r}: no sim host prepared it here")
        if dest is self:
            raise DriverError(f"sim: VM {vm_id} is already on host {self.host_name}")
        if dest.crashed:
            raise DriverError(f"sim: destination host {dest.host_name} is down")
        if not dest._is_incoming(vm_id):
            raise DriverError(
                f"sim: host {dest.host_name} has not prepared an incoming migration of {vm_id}"
            )
        return dest

    def _start_record(
        self, vm_id: str, target: dict[str, Any], dest: SimMigrationMixin, params: MigrationParams
    ) -> _Outgoing:
        result = simulate(params)
        progress = MigrationProgress(
            status="setup",
            total_bytes=params.ram_bytes,
            remaining_bytes=round(params.nonzero_bytes),
            disk_total_bytes=params.disk_bytes,
            bandwidth_bps=params.bandwidth,
            dirty_rate_bps=params.dirty_rate_bps,
        )
        out = _Outgoing(
            uri=str(target["uri"]),
            dest=dest,
            params=params,
            result=result,
            progress=progress,
            fail_at_s=self._draw_failure(result),
            remaining=round(params.nonzero_bytes),
        )
        self._outgoing[vm_id] = out
        return out

    def _draw_failure(self, result: MigrationResult) -> float | None:
        """When an injected failure drops the connection: part-way through pre-copy."""
        rate = self.config.failure_rate("migrate")
        if rate <= 0 or self._rng.random() >= rate:
            return None
        end = result.switchover_at_s if result.switchover_at_s is not None else result.total_time_s
        return self._rng.uniform(0.1, 0.9) * end

    async def _run_migration(self, vm_id: str, out: _Outgoing) -> None:
        try:
            await asyncio.sleep(self.config.delay("migrate"))  # setup
            for entry in out.result.timeline:
                await self._play(vm_id, out, entry)
            if not out.result.completed:
                _reveal(out, math.inf)
                raise _Aborted(out.result.reason)
            self._check_migration(vm_id, out, out.result.total_time_s)
            if not out.dest._receive(vm_id, self._vms[vm_id].workload):
                raise _Aborted(f"destination host {out.dest.host_name} dropped the incoming VM")
            self._complete(out)
        except _Aborted as exc:
            self._end(vm_id, out, "failed", str(exc))

    async def _play(self, vm_id: str, out: _Outgoing, entry: Round) -> None:
        """One timeline entry in scaled real time, in ticks that update the progress."""
        self._check_migration(vm_id, out, entry.start_s)
        self._enter(vm_id, out, entry)
        span = entry.elapsed_s - entry.start_s
        real = self.config.migration_seconds(span)
        steps = max(1, math.ceil(real / _TICK_S))
        for step in range(1, steps + 1):
            await asyncio.sleep(real / steps)
            at = entry.start_s + span * step / steps
            self._check_migration(vm_id, out, at)
            self._advance(out, entry, step / steps, at)
        out.ram_done = out.progress.transferred_bytes
        out.disk_done = out.progress.disk_transferred_bytes
        out.remaining = entry.remaining_bytes

    def _enter(self, vm_id: str, out: _Outgoing, entry: Round) -> None:
        p = out.progress
        p.status, p.iteration = _STATUS[entry.phase], entry.iteration
        if entry.phase == SWITCHOVER:
            vm = self._vms[vm_id]
            if vm.power_state == RUNNING:
                self._set_power(vm, PAUSED, self._clock())
                out.paused_by_us = True
            if out.result.mode == POSTCOPY:
                p.mode = POSTCOPY

    def _advance(self, out: _Outgoing, entry: Round, frac: float, at: float) -> None:
        p, params = out.progress, out.params
        sent = round(entry.sent_bytes * frac)
        if entry.phase == STORAGE:
            p.disk_transferred_bytes = out.disk_done + sent
        else:
            p.transferred_bytes = out.ram_done + sent
            p.remaining_bytes = round(
                out.remaining + (entry.remaining_bytes - out.remaining) * frac
            )
        p.elapsed_s = at
        p.dirty_rate_bps = entry.dirty_rate_bps
        p.expected_downtime_ms = params.downtime_ms(p.remaining_bytes)
        _reveal(out, at)

    def _check_migration(self, vm_id: str, out: _Outgoing, at: float) -> None:
        vm, dest = self._vms.get(vm_id), out.dest
        if self._crashed:
            raise _Aborted(f"source host {self.host_name} crashed")
        if vm is None or vm.power_state not in RESIDENT:
            raise _Aborted(f"VM {vm_id} is {vm.power_state if vm else 'gone'} on the source")
        if dest.crashed:
            raise _Aborted(f"destination host {dest.host_name} crashed")
        if not dest._is_incoming(vm_id):
            raise _Aborted(f"destination host {dest.host_name} dropped the incoming VM")
        if out.fail_at_s is not None and at >= out.fail_at_s:
            raise _Aborted(
                f"sim: injected failure in migrate (connection reset at {out.fail_at_s:.2f} s)"
            )

    def _complete(self, out: _Outgoing) -> None:
        p, result = out.progress, out.result
        p.status, p.elapsed_s, p.remaining_bytes = "completed", result.total_time_s, 0
        p.transferred_bytes = result.ram_bytes_sent
        p.downtime_ms, p.expected_downtime_ms = result.downtime_ms, result.downtime_ms or 0.0
        _reveal(out, math.inf)

    def _end(self, vm_id: str, out: _Outgoing, status: str, error: str) -> None:
        """Fail or cancel. Pre-copy: the VM runs here again. Post-copy: its memory was
        split between the hosts, so the guest here crashes."""
        if out.task is not None and out.task is not asyncio.current_task():
            out.task.cancel()
        out.progress.status, out.progress.error = status, error
        vm = self._vms.get(vm_id)
        if vm is None or self._crashed:
            return
        if out.progress.mode == POSTCOPY:
            self._set_power(vm, CRASHED, self._clock())
            vm.fault = f"live migration failed during post-copy ({error}); VM lost"
        elif out.paused_by_us and vm.power_state == PAUSED:
            self._set_power(vm, RUNNING, self._clock())
            out.paused_by_us = False

    # -- live migration: both sides -----------------------------------------------------

    async def finish_migration(self, vm_id: str, *, source: bool) -> VMInfo | None:
        self._check_up()
        return await (self._finish_source(vm_id) if source else self._finish_dest(vm_id))

    async def _finish_dest(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        if vm.incoming:
            if not vm.received:
                raise DriverError(
                    f"sim: the migration of VM {vm_id} to host {self.host_name} has not completed"
                )
            await self._work("finish_migration")
            vm = self._get(vm_id)
            if vm.incoming:
                vm.incoming = vm.received = False
                self._set_power(vm, RUNNING, self._clock())
        return self._info(vm, self._clock())

    async def _finish_source(self, vm_id: str) -> None:
        if vm_id not in self._vms:
            return None
        out = self._outgoing.get(vm_id)
        if out is None or out.progress.status != "completed":
            status = out.progress.status if out else "none"
            raise InvalidState(
                f"sim: cannot finish the migration of VM {vm_id} on host {self.host_name}: "
                f"it is {status}, not completed"
            )
        await self._work("finish_migration")
        self._vms.pop(vm_id, None)
        return None

    async def rollback_migration(self, vm_id: str, *, source: bool) -> None:
        self._check_up()
        await (self._rollback_source(vm_id) if source else self._rollback_dest(vm_id))

    async def _rollback_dest(self, vm_id: str) -> None:
        vm = self._vms.get(vm_id)
        if vm is None:
            return
        if not vm.incoming:
            raise InvalidState(
                f"sim: VM {vm_id} runs on host {self.host_name}: its migration has finished"
            )
        await self._work("rollback_migration")
        if self._is_incoming(vm_id):
            del self._vms[vm_id]

    async def _rollback_source(self, vm_id: str) -> None:
        """Resume a VM the migration paused. One lost in post-copy stays crashed (with
        its fault); one the host's crash stopped stays stopped."""
        vm = self._vms.get(vm_id)
        out = self._outgoing.get(vm_id)
        if vm is None or out is None:
            return
        if not out.progress.done:
            await self.cancel_migration(vm_id)
        if out.paused_by_us and vm.power_state == PAUSED:
            await self._work("rollback_migration")
            vm = self._get(vm_id)
            if vm.power_state == PAUSED:
                self._set_power(vm, RUNNING, self._clock())
                out.paused_by_us = False
                if out.progress.status == "completed":  # finish_migration must refuse now
                    out.progress.status = "cancelled"
                    out.progress.error = "rolled back after it completed"


def _reveal(out: _Outgoing, at: float) -> None:
    """Show the model's decisions taken up to simulated time ``at``."""
    decisions = out.result.decisions
    while out.revealed < len(decisions) and decisions[out.revealed].at_s <= at:
        d = decisions[out.revealed]
        out.progress.decisions.append(MigrationDecision(d.at_s, d.choice, d.reason))
        out.revealed += 1


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _migration_params(vm: SimVM, options: dict[str, Any], bandwidth: float) -> MigrationParams:
    """The model's input: the VM's workload, the link, and the options.

    A ``plan`` (QEMU capabilities and parameters) wins over plain keys, which win over
    the policy's ``objective``. Without a time bound: as the policy's default (twice the
    RAM's send time, at least 10 s) when post-copy may rescue the migration, else an hour.
    """
    plan = options.get("plan")
    caps, qemu = (plan or {}).get("capabilities") or {}, (plan or {}).get("parameters") or {}
    goal = options.get("objective") or {}
    ram, work = vm.spec.memory_mib * MiB, vm.workload
    if plan is not None:
        postcopy, converge = caps.get("postcopy-ram", False), caps.get("auto-converge", False)
    else:
        postcopy = _first(options.get("allow_postcopy"), goal.get("allow_postcopy"), False)
        converge = options.get("auto_converge", False)
    try:
        link = float(_first(options.get("bandwidth_bps"), bandwidth))
        cap = _first(qemu.get("max-bandwidth") or None, goal.get("link_bandwidth_bps"))
        bound = _first(options.get("time_bound_s"), goal.get("time_bound_s"))
        if bound is None:
            bound = max(10.0, 2 * ram / min(link, cap or link)) if postcopy else 3600.0
        throttle = AutoConverge(
            initial=float(qemu.get("cpu-throttle-initial", 20)) / 100,
            increment=float(qemu.get("cpu-throttle-increment", 10)) / 100,
            maximum=float(qemu.get("max-cpu-throttle", 99)) / 100,
        )
        return MigrationParams(
            ram_bytes=ram,
            bandwidth_bps=link,
            dirty_rate_bps=work.dirty_rate_bps,
            zero_fraction=work.zero_fraction,
            working_set_bytes=round(ram * work.working_set_fraction),
            max_bandwidth_bps=None if cap is None else float(cap),
            downtime_limit_ms=float(
                _first(qemu.get("downtime-limit"), options.get("downtime_ms"))
                or goal.get("downtime_ms")
                or 300.0
            ),
            max_time_s=float(bound),
            allow_postcopy=bool(postcopy),
            postcopy_after_rounds=int(options.get("postcopy_after_rounds", 1)),
            auto_converge=throttle if converge else None,
            disk_bytes=int(options.get("disk_bytes") or 0),
        )
    except (TypeError, ValueError) as exc:
        raise Invalid(f"sim: invalid migration options for VM {vm.spec.id}: {exc}") from exc
