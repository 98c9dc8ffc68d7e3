"""``SimDriver``: one simulated host that keeps its VMs in memory.

A simulation, not a hypervisor: no process runs for a VM. Power states follow the
contract in ``hypervisor/base.py``::

    create ─▶ running ◀─start/resume── stopped / paused
    running ─pause▶ paused ─resume▶ running
    running|paused|crashed ─stop/shutdown▶ stopped
    running ─reboot▶ running        any ─destroy▶ (gone)

A call that finds the VM already where the action leads (start a running VM, stop a
stopped one, …) returns at once: no delay, no injected failure. Every other call
sleeps ``config.delay(op)``, then may fail with ``DriverError`` at
``config.failure_rate(op)``, leaving the state as it was. A crashed host
(``crash()``) refuses every call with ``AgentUnreachable`` until ``recover()``.

Live migration between sim hosts of this process comes from ``SimMigrationMixin``
(``sim/migration.py``); the VM record both use is ``sim/vm.py``'s ``SimVM``.

Not thread-safe: use one driver from one event loop (state changes happen between
awaits, so concurrent coroutines see consistent state).
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import Callable, Collection

from novacron.core.errors import AgentUnreachable, DriverError, InvalidState, NotFound
from novacron.hypervisor.base import (
    CRASHED,
    PAUSED,
    RUNNING,
    STOPPED,
    HostInfo,
    HypervisorDriver,
    VMInfo,
    VMSpec,
)
from novacron.hypervisor.sim.config import SimConfig
from novacron.hypervisor.sim.migration import SimMigrationMixin
from novacron.hypervisor.sim.vm import RESIDENT, SimVM, validate_spec

#: What a sim host advertises unless told otherwise.
DEFAULT_CAPABILITIES = ("sim", "live-migration")


def _synthetic_load(vm_id: str) -> float:
    """A stable per-VM load between 0.10 and 0.60, so usage figures are deterministic."""
    return 0.10 + (zlib.crc32(vm_id.encode()) % 51) / 100


class SimDriver(SimMigrationMixin, HypervisorDriver):
    """One simulated host.

    ``name`` is the driver's name (``"sim"``, as for every driver); ``host_name`` the host's.
    """

    name = "sim"

    def __init__(
        self,
        name: str,
        *,
        vcpus: int = 32,
        memory_mib: int = 131072,
        disk_gib: int = 1000,
        capabilities: Collection[str] | None = None,
        labels: dict[str, str] | None = None,
        config: SimConfig | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host_name = name
        self.vcpus = vcpus
        self.memory_mib = memory_mib
        self.disk_gib = disk_gib
        self._capabilities = list(
            capabilities if capabilities is not None else DEFAULT_CAPABILITIES
        )
        self.labels = dict(labels or {})
        self.config = config if config is not None else SimConfig()
        self._rng = rng if rng is not None else random.Random(self.config.seed)
        self._clock = clock
        self._vms: dict[str, SimVM] = {}
        self._crashed = False
        self._init_migration()

    def __repr__(self) -> str:
        state = " crashed" if self._crashed else ""
        return f"<SimDriver {self.host_name} vms={len(self._vms)}{state}>"

    # -- host failure -----------------------------------------------------------------

    @property
    def crashed(self) -> bool:
        return self._crashed

    def crash(self) -> None:
        """The host goes down: every call fails, every VM is crashed."""
        self._crashed = True
        now = self._clock()
        for vm in self._vms.values():
            self._set_power(vm, CRASHED, now)

    def recover(self) -> None:
        """The host comes back; its VMs are defined but stopped (as after a power cut).

        A no-op on a host that is up.
        """
        if not self._crashed:
            return
        self._crashed = False
        now = self._clock()
        for vm in self._vms.values():
            self._set_power(vm, STOPPED, now)

    def crash_vm(self, vm_id: str) -> VMInfo:
        """Simulate a guest crash (e.g. a kernel panic): the VM becomes ``crashed``."""
        self._check_up()
        vm = self._get(vm_id)
        self._set_power(vm, CRASHED, self._clock())
        return self._info(vm, self._clock())

    # -- synchronous snapshots (for reporting: no delay, no injected failure) -----------

    def host_info_now(self) -> HostInfo:
        self._check_up()
        memory_used = 0
        busy_vcpus = 0.0
        for vm in self._vms.values():
            if vm.power_state in RESIDENT:
                memory_used += vm.spec.memory_mib
            if vm.power_state == RUNNING:
                busy_vcpus += vm.spec.vcpus * vm.load
        cpu_pct = min(100.0, 100.0 * busy_vcpus / self.vcpus) if self.vcpus else 0.0
        return HostInfo(
            name=self.host_name,
            driver=self.name,
            vcpus=self.vcpus,
            memory_mib=self.memory_mib,
            disk_gib=self.disk_gib,
            capabilities=list(self._capabilities),
            labels=dict(self.labels),
            cpu_used_pct=round(cpu_pct, 1),
            memory_used_mib=memory_used,
        )

    def list_vms_now(self) -> list[VMInfo]:
        self._check_up()
        now = self._clock()
        return [self._info(vm, now) for vm in self._vms.values()]

    # -- HypervisorDriver -------------------------------------------------------------

    def capabilities(self) -> list[str]:
        return list(self._capabilities)

    async def host_info(self) -> HostInfo:
        await self._work("host_info")
        return self.host_info_now()

    async def list_vms(self) -> list[VMInfo]:
        await self._work("list_vms")
        return self.list_vms_now()

    async def get_vm(self, vm_id: str) -> VMInfo:
        self._check_up()
        self._get(vm_id)
        await self._work("get_vm")
        return self._info(self._get(vm_id), self._clock())

    async def create(self, spec: VMSpec) -> VMInfo:
        self._check_up()
        validate_spec(spec)
        if spec.id in self._vms:
            return self._info(self._vms[spec.id], self._clock())
        await self._work("create")
        existing = self._vms.get(spec.id)  # a concurrent create of the same id won
        now = self._clock()
        if existing is not None:
            return self._info(existing, now)
        vm = self._new_vm(spec, STOPPED)
        self._set_power(vm, RUNNING, now)
        self._vms[spec.id] = vm
        return self._info(vm, now)

    async def start(self, vm_id: str) -> VMInfo:
        return await self._power("start", vm_id, allowed={STOPPED, CRASHED}, target=RUNNING)

    async def shutdown(self, vm_id: str, timeout_s: float = 60.0) -> VMInfo:
        # The guest powers off after the "shutdown" delay; past timeout_s it is cut hard.
        # Either way it ends stopped, so the wait is the shorter of the two.
        return await self._power(
            "shutdown",
            vm_id,
            allowed={RUNNING, PAUSED, CRASHED},
            target=STOPPED,
            max_delay=max(0.0, timeout_s),
        )

    async def stop(self, vm_id: str) -> VMInfo:
        return await self._power("stop", vm_id, allowed={RUNNING, PAUSED, CRASHED}, target=STOPPED)

    async def reboot(self, vm_id: str) -> VMInfo:
        return await self._power("reboot", vm_id, allowed={RUNNING}, target=RUNNING, reset=True)

    async def pause(self, vm_id: str) -> VMInfo:
        return await self._power("pause", vm_id, allowed={RUNNING}, target=PAUSED)

    async def resume(self, vm_id: str) -> VMInfo:
        return await self._power("resume", vm_id, allowed={PAUSED}, target=RUNNING)

    async def destroy(self, vm_id: str) -> None:
        self._check_up()
        if vm_id not in self._vms:
            return
        await self._work("destroy")
        self._vms.pop(vm_id, None)

    # -- internals --------------------------------------------------------------------

    def _new_vm(self, spec: VMSpec, state: str) -> SimVM:
        return SimVM(
            spec=_copy_spec(spec),
            power_state=state,
            load=_synthetic_load(spec.id),
            workload=self.config.workload(spec.id),
        )

    def _check_up(self) -> None:
        if self._crashed:
            raise AgentUnreachable(f"sim: host {self.host_name} crashed")

    def _get(self, vm_id: str) -> SimVM:
        vm = self._vms.get(vm_id)
        if vm is None:
            raise NotFound(f"sim: no VM {vm_id} on host {self.host_name}")
        return vm

    async def _work(self, op: str, max_delay: float | None = None) -> None:
        """Take the operation's time, then maybe fail it. Raises before any state change."""
        self._check_up()
        delay = self.config.delay(op)
        if max_delay is not None:
            delay = min(delay, max_delay)
        if delay > 0:
            await asyncio.sleep(delay)
        self._check_up()  # the host may have crashed while we worked
        rate = self.config.failure_rate(op)
        if rate > 0 and self._rng.random() < rate:
            raise DriverError(f"sim: injected failure in {op}")

    async def _power(
        self,
        op: str,
        vm_id: str,
        *,
        allowed: set[str],
        target: str,
        reset: bool = False,
        max_delay: float | None = None,
    ) -> VMInfo:
        self._check_up()
        vm = self._get(vm_id)
        if vm.power_state == target and not reset:
            return self._info(vm, self._clock())
        self._check_transition(op, vm, allowed)
        await self._work(op, max_delay)
        # Re-read: the VM may have been destroyed or changed while we worked.
        vm = self._get(vm_id)
        now = self._clock()
        if vm.power_state == target and not reset:
            return self._info(vm, now)
        self._check_transition(op, vm, allowed)
        self._set_power(vm, target, now, reset=reset)
        return self._info(vm, now)

    def _check_transition(self, op: str, vm: SimVM, allowed: set[str]) -> None:
        if vm.power_state not in allowed:
            raise InvalidState(
                f"sim: cannot {op} VM {vm.spec.id} on host {self.host_name}: it is "
                f"{vm.power_state} (allowed from: {', '.join(sorted(allowed))})"
            )

    @staticmethod
    def _set_power(vm: SimVM, state: str, now: float, *, reset: bool = False) -> None:
        if vm.cpu_mark is not None:  # leaving (or re-entering) running: bank CPU time
            vm.cpu_time_s += (now - vm.cpu_mark) * vm.spec.vcpus * vm.load
            vm.cpu_mark = None
        if state == RUNNING:
            vm.cpu_mark = now
            if vm.booted_at is None or reset:
                vm.booted_at = now
        elif state != PAUSED:
            vm.booted_at = None
        if state != CRASHED:
            vm.fault = ""
        vm.power_state = state

    def _info(self, vm: SimVM, now: float) -> VMInfo:
        cpu = vm.cpu_time_s
        if vm.cpu_mark is not None:
            cpu += (now - vm.cpu_mark) * vm.spec.vcpus * vm.load
        return VMInfo(
            id=vm.spec.id,
            name=vm.spec.name,
            power_state=vm.power_state,
            vcpus=vm.spec.vcpus,
            memory_mib=vm.spec.memory_mib,
            disk_gib=vm.spec.disk_gib,
            cpu_time_s=round(cpu, 3),
            uptime_s=round(now - vm.booted_at, 3) if vm.booted_at is not None else 0.0,
            fault=vm.fault if vm.power_state == CRASHED else "",
            migrating=self._migrating(vm),
        )


def _copy_spec(spec: VMSpec) -> VMSpec:
    return VMSpec(
        id=spec.id,
        name=spec.name,
        vcpus=spec.vcpus,
        memory_mib=spec.memory_mib,
        disk_gib=spec.disk_gib,
        image=spec.image,
        labels=dict(spec.labels),
    )
