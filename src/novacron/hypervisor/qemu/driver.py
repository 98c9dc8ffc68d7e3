"""``QemuDriver``: real VMs, one QEMU process each, on the agent's host.

Files of a VM live in ``<data_dir>/vms/<vm_id>/``::

    vm.json       what the VM is (its spec) and what it was last seen doing
    disk.qcow2    overlay on the image in the host's image store
    seed.iso      cloud-init NoCloud seed (disk images, or when asked for)
    serial.log    everything the guest printed on its serial console, ever
    qemu.log      QEMU's stderr (why it failed to start or died)
    qemu.pid      written by QEMU; how a restarted agent finds the process again
    migration-tls/  a TLS migration's key and certificates, 0600 in a 0700 directory,
                  only while that migration runs (see ``compute/migration/tls.py``)

The QMP and serial sockets live in a short run dir (UNIX socket paths are limited to
108 bytes). ``open()`` re-attaches to every QEMU still running and marks the VMs whose
QEMU died while the agent was away as crashed.

Concurrency: one asyncio lock per VM serialises actions on it; state changes made by
QEMU itself (a crash, a guest power-off) arrive through ``QemuProcess.exited``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import stat
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from novacron.core.errors import Conflict, DriverError, Invalid, InvalidState, NotFound
from novacron.hypervisor.base import (
    CRASHED,
    PAUSED,
    RUNNING,
    STOPPED,
    HostInfo,
    HypervisorDriver,
    SnapshotInfo,
    VMInfo,
    VMSpec,
)
from novacron.hypervisor.qemu import (
    cloudinit,
    disks,
    hoststats,
    migration,
    procstats,
    snapshots,
)
from novacron.hypervisor.qemu.driver_migration import QemuMigrationMixin
from novacron.hypervisor.qemu.machine import (
    QEMU_SYSTEM,
    MachineConfig,
    Nic,
    PortForward,
    build_argv,
)
from novacron.hypervisor.qemu.process import Exit, QemuProcess

log = logging.getLogger(__name__)

GIB = 1024**3
DEFAULT_SHUTDOWN_TIMEOUT_S = 60.0
MAX_SOCKET_PATH = 100
CONSOLE_MAX_BYTES = 8 * 1024 * 1024

#: Fetches an image's files into the host's image store; returns their directory.
ImageSource = Callable[[dict[str, Any]], Awaitable[Path]]


@dataclass
class _VM:
    spec: VMSpec
    dir: Path
    uuid: str
    mac: str
    image_dir: Path | None = None
    power: str = STOPPED
    """Last known state while no QEMU runs: ``stopped`` or ``crashed``."""
    fault: str = ""
    proc: QemuProcess | None = None
    paused: bool = False
    started_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    incoming: bool = False
    """A migration's destination copy: QEMU waits for (or receives) the guest's state."""
    outgoing: migration.Outgoing | None = None
    """The running (or last) migration away from this host."""

    @property
    def power_state(self) -> str:
        if self.proc is not None and self.proc.alive:
            return PAUSED if self.paused else RUNNING
        return self.power

    def record(self) -> dict[str, Any]:
        return {
            "spec": asdict(self.spec),
            "uuid": self.uuid,
            "mac": self.mac,
            "image_dir": str(self.image_dir) if self.image_dir else None,
            "power": RUNNING if self.proc is not None and self.proc.alive else self.power,
            "fault": self.fault,
            "incoming": self.incoming,
        }


class QemuDriver(QemuMigrationMixin, HypervisorDriver):
    name = "qemu"

    def __init__(
        self,
        host_name: str,
        data_dir: Path,
        *,
        accel: str,
        images: ImageSource | None = None,
        bridge: str | None = None,
        labels: dict[str, str] | None = None,
        qemu_binary: str = QEMU_SYSTEM,
        on_change: Callable[[], None] | None = None,
        migration_address: str = "127.0.0.1",
    ) -> None:
        self.host_name = host_name
        self.migration_address = migration_address
        """Where this host listens for incoming migrations (memory stream, disk export)."""
        self.data_dir = data_dir
        self.accel = accel
        self.bridge = bridge
        self.labels = {"accel": accel, **(labels or {})}
        self.qemu_binary = qemu_binary
        self.on_change = on_change
        self._images = images
        self._vms: dict[str, _VM] = {}
        self._creating: dict[str, asyncio.Lock] = {}
        self.vms_dir = data_dir / "vms"
        self.run_dir = run_dir_for(data_dir)
        self.unreadable_records = 0

    def __repr__(self) -> str:
        return f"<QemuDriver {self.host_name} {self.accel} vms={len(self._vms)}>"

    # -- start-up and shutdown of the agent ----------------------------------------------

    async def open(self) -> None:
        """Load every VM on disk; re-attach to running QEMUs."""
        self.vms_dir.mkdir(parents=True, exist_ok=True)
        _private_dir(self.run_dir)
        hoststats.host_usage(self.data_dir)  # primes the CPU counter
        for path in sorted(self.vms_dir.glob("*/vm.json")):
            try:
                vm = self._load(path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("ignoring unreadable VM record %s: %s", path, exc)
                self.unreadable_records += 1
                continue
            self._vms[vm.spec.id] = vm
            await self._reattach(vm)

    def images_in_use(self) -> set[str] | None:
        """Ids of the images this host's VMs are overlays on; None when unknown (some VM
        record could not be read, so its image must be assumed in use)."""
        if self.unreadable_records:
            return None
        return {vm.image_dir.name for vm in self._vms.values() if vm.image_dir is not None}

    async def close(self) -> None:
        """Stop watching QEMU processes; the VMs keep running."""
        for vm in self._vms.values():
            if vm.proc is not None:
                await vm.proc.close()
                vm.proc = None

    def _load(self, path: Path) -> _VM:
        data = json.loads(path.read_text())
        spec = VMSpec(**data["spec"])
        vm = _VM(spec=spec, dir=path.parent, uuid=data["uuid"], mac=data["mac"])
        vm.image_dir = Path(data["image_dir"]) if data.get("image_dir") else None
        vm.power = str(data.get("power", STOPPED))
        vm.fault = str(data.get("fault", ""))
        vm.incoming = bool(data.get("incoming", False))
        return vm

    async def _reattach(self, vm: _VM) -> None:
        pid = _read_pid(vm.dir / "qemu.pid")
        alive = pid is not None and procstats.is_alive(pid) and self._is_ours(pid, vm)
        if alive and pid is not None:
            proc: QemuProcess | None = None
            try:
                proc = await QemuProcess.attach(
                    pid,
                    qmp_socket=self._qmp(vm),
                    stderr_log=vm.dir / "qemu.log",
                    on_event=self._event_handler(vm),
                )
                state = await asyncio.wait_for(proc.run_state(), 10)
            except (DriverError, TimeoutError) as exc:
                # Alive but deaf: nothing can control it, and it holds the disk. End it.
                log.error("VM %s: %s; killing QEMU pid %d", vm.spec.id, exc or "QMP timeout", pid)
                if proc is not None:
                    await proc.close()
                _kill(pid)
                vm.power = CRASHED
                vm.fault = f"QEMU pid {pid} did not answer on QMP after an agent restart; killed"
                self._save(vm)
                return
            self._adopt(vm, proc)
            vm.paused = state in ("paused", "suspended")
            vm.started_at = _process_start(pid)
            log.info("re-attached to VM %s (QEMU pid %d)", vm.spec.id, pid)
            return
        if vm.power == RUNNING:
            vm.power, vm.fault = CRASHED, "QEMU exited while the agent was not running"
            log.warning("VM %s: %s", vm.spec.id, vm.fault)
            self._save(vm)

    def _is_ours(self, pid: int, vm: _VM) -> bool:
        argv = procstats.cmdline(pid) or []
        return vm.uuid in argv  # a recycled pid belongs to some other program

    # -- the contract: inventory ------------------------------------------------------

    def capabilities(self) -> list[str]:
        caps = [
            "qemu",
            self.accel,
            "snapshots",
            "console",
            "stats",
            "resize",
            "clone",
            "cloud-init",
            "live-migration",
            "migration-tls",
        ]
        if self.bridge:
            caps.append(f"bridge:{self.bridge}")
        return caps

    async def host_info(self) -> HostInfo:
        vcpus, memory_mib, disk_gib = hoststats.host_capacity(self.data_dir)
        usage = hoststats.host_usage(self.data_dir)
        return HostInfo(
            name=self.host_name,
            driver=self.name,
            vcpus=vcpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            capabilities=self.capabilities(),
            labels=dict(self.labels),
            cpu_used_pct=float(usage.get("cpu_used_pct", 0.0)),
            memory_used_mib=int(usage.get("memory_used_mib", 0)),
        )

    async def list_vms(self) -> list[VMInfo]:
        """Every VM (called for each heartbeat, which also keeps console logs bounded)."""
        for vm in list(self._vms.values()):
            trim_console(vm.dir / "serial.log")
        return [self._info(vm) for vm in list(self._vms.values())]

    async def get_vm(self, vm_id: str) -> VMInfo:
        return self._info(self._get(vm_id))

    # -- the contract: lifecycle ------------------------------------------------------

    async def create(self, spec: VMSpec) -> VMInfo:
        lock = self._creating.setdefault(spec.id, asyncio.Lock())
        async with lock:
            existing = self._vms.get(spec.id)
            if existing is not None:  # a retried create: make sure it runs
                return await self.start(spec.id)
            vm = self._new_record(spec)
            try:
                await self._define(vm)
                self._vms[spec.id] = vm
                async with vm.lock:
                    await self._boot(vm)
            except BaseException:
                self._vms.pop(spec.id, None)
                await self._remove(vm)
                raise
            finally:
                self._creating.pop(spec.id, None)
            return self._info(vm)

    async def start(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            if vm.power_state in (RUNNING, PAUSED):
                return self._info(vm)
            await self._boot(vm)
            return self._info(vm)

    async def shutdown(self, vm_id: str, timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            proc = vm.proc
            if proc is None or not proc.alive:
                return self._info(vm)
            proc.expect_exit = True
            if vm.paused:  # a frozen guest cannot act on the power button
                self._settle(vm, proc, await proc.terminate())
                return self._info(vm)
            await proc.execute("system_powerdown")
            ended = await proc.wait(timeout_s)
            if ended is None:
                log.info("VM %s ignored ACPI power-off for %.0fs; powering off", vm_id, timeout_s)
                ended = await proc.terminate()
            self._settle(vm, proc, ended)
            return self._info(vm)

    async def stop(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        await self._overtake(vm)
        async with vm.lock:
            await self._power_off(vm)
            return self._info(vm)

    async def reboot(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            proc = self._running(vm, "reboot")
            await proc.execute("system_reset")
            if vm.paused:
                await proc.execute("cont")
            return self._info(vm)

    async def pause(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            if vm.power_state == PAUSED:
                return self._info(vm)
            await self._running(vm, "pause").execute("stop")
            vm.paused = True
            return self._info(vm)

    async def resume(self, vm_id: str) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            if vm.power_state == RUNNING:
                return self._info(vm)
            await self._running(vm, "resume").execute("cont")
            vm.paused = False
            return self._info(vm)

    async def destroy(self, vm_id: str) -> None:
        vm = self._vms.get(vm_id)
        if vm is None:
            return
        await self._overtake(vm)
        async with vm.lock:
            await self._power_off(vm)
            self._vms.pop(vm_id, None)
            await self._remove(vm)
        self._changed()

    # -- the contract: snapshots ------------------------------------------------------

    async def snapshot_create(self, vm_id: str, name: str) -> SnapshotInfo:
        snapshots.check_name(name)
        vm = self._get(vm_id)
        async with vm.lock:
            proc = self._live(vm)
            if any(s.name == name for s in await snapshots.listing(self._disk(vm), proc)):
                raise Conflict(f"VM {vm.spec.name} already has a snapshot named {name!r}")
            if proc is not None:
                await snapshots.save(proc, name)
            else:
                await disks.snapshot(self._disk(vm), "-c", name)
            found = [s for s in await snapshots.listing(self._disk(vm), proc) if s.name == name]
            if not found:
                raise DriverError(f"snapshot {name!r} was not recorded")
            return found[0]

    async def snapshot_list(self, vm_id: str) -> list[SnapshotInfo]:
        vm = self._get(vm_id)
        return await snapshots.listing(self._disk(vm), self._live(vm))

    async def snapshot_revert(self, vm_id: str, name: str) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            proc = self._live(vm)
            found = [s for s in await snapshots.listing(self._disk(vm), proc) if s.name == name]
            if not found:
                raise NotFound(f"VM {vm.spec.name} has no snapshot {name!r}")
            with_ram = found[0].vm_state_bytes > 0
            if proc is not None and with_ram:
                await snapshots.load(proc, name)
                if await proc.run_state() != "running":
                    await proc.execute("cont")
                vm.paused = False
            elif with_ram:  # stopped: boot straight into the saved state
                await self._boot(vm, loadvm=name)
            else:  # disk only: the guest must not keep running on a disk that changes under it
                await self._power_off(vm)
                await disks.snapshot(self._disk(vm), "-a", name)
            return self._info(vm)

    async def snapshot_delete(self, vm_id: str, name: str) -> None:
        vm = self._get(vm_id)
        async with vm.lock:
            proc = self._live(vm)
            if not any(s.name == name for s in await snapshots.listing(self._disk(vm), proc)):
                return
            if proc is not None:
                await snapshots.delete(proc, name)
            else:
                await disks.snapshot(self._disk(vm), "-d", name)

    # -- the contract: console, statistics, resize, clone --------------------------------

    async def console_read(self, vm_id: str, offset: int, limit: int) -> tuple[bytes, int]:
        vm = self._get(vm_id)
        path = vm.dir / "serial.log"
        try:
            with path.open("rb") as f:
                size = f.seek(0, 2)
                start = max(0, size + offset) if offset < 0 else min(offset, size)
                f.seek(start)
                data = f.read(max(0, limit))
        except FileNotFoundError:
            return b"", 0
        return data, start + len(data)

    async def vm_stats(self, vm_id: str) -> dict[str, Any]:
        vm = self._get(vm_id)
        out: dict[str, Any] = {
            "vm_id": vm_id,
            "power_state": vm.power_state,
            "at": time.time(),
            "vcpus": vm.spec.vcpus,
            "memory_mib": vm.spec.memory_mib,
        }
        proc = self._live(vm)
        if proc is None:
            return out
        stats = procstats.read_proc_stats(proc.pid)
        if stats is not None:
            out.update(
                cpu_time_s=stats.cpu_time_s,
                rss_bytes=stats.rss_bytes,
                host_read_bytes=stats.read_bytes,
                host_write_bytes=stats.write_bytes,
                threads=stats.threads,
            )
        with contextlib.suppress(DriverError):
            # Device-level stats: that is where QEMU accounts guest I/O.
            for dev in await proc.execute("query-blockstats"):
                if dev.get("node-name") == snapshots.DISK_NODE or "virtio-disk0" in str(
                    dev.get("qdev", "")
                ):
                    s = dev.get("stats", {})
                    out["disk"] = {
                        "read_bytes": s.get("rd_bytes", 0),
                        "write_bytes": s.get("wr_bytes", 0),
                        "read_ops": s.get("rd_operations", 0),
                        "write_ops": s.get("wr_operations", 0),
                    }
        tap = self._tap(vm)
        out["network"] = procstats.tap_counters(tap) if tap else None
        if out["network"] is None:
            out["network_note"] = "user-mode networking keeps no counters; use a bridge"
        return out

    async def resize(
        self, vm_id: str, *, vcpus: int | None, memory_mib: int | None, disk_gib: int | None
    ) -> VMInfo:
        vm = self._get(vm_id)
        async with vm.lock:
            live = self._live(vm)
            if (vcpus is not None or memory_mib is not None) and live is not None:
                raise InvalidState("CPU and memory change only while the VM is stopped")
            if disk_gib is not None:
                if disk_gib < vm.spec.disk_gib:
                    raise Invalid(
                        "disks grow but never shrink",
                        errors=[{"loc": ["body", "disk_gib"], "msg": f">= {vm.spec.disk_gib}"}],
                    )
                size = disk_gib * GIB
                if live is not None:
                    await live.execute(
                        "block_resize", {"node-name": snapshots.DISK_NODE, "size": size}
                    )
                else:
                    await disks.grow(self._disk(vm), size)
                vm.spec.disk_gib = disk_gib
            vm.spec.vcpus = vcpus or vm.spec.vcpus
            vm.spec.memory_mib = memory_mib or vm.spec.memory_mib
            self._save(vm)
            return self._info(vm)

    async def clone(self, vm_id: str, spec: VMSpec) -> VMInfo:
        source = self._get(vm_id)
        if spec.id in self._vms:
            return self._info(self._vms[spec.id])
        async with source.lock:
            if spec.id in self._vms:  # a concurrent retry finished it meanwhile
                return self._info(self._vms[spec.id])
            if self._live(source) is not None:
                raise InvalidState("clone a stopped VM (its disk must not change while copied)")
            spec.image_ref = source.spec.image_ref
            vm = self._new_record(spec)
            vm.image_dir = source.image_dir
            try:
                vm.dir.mkdir(parents=True)
                backing = self._image_disk(vm)
                await disks.copy_delta(
                    self._disk(source),
                    self._disk(vm),
                    backing=backing,
                    backing_format=self._image_format(vm),
                )
                if spec.disk_gib * GIB > (await disks.info(self._disk(vm)))["virtual-size"]:
                    await disks.grow(self._disk(vm), spec.disk_gib * GIB)
                await self._write_seed(vm)
                self._save(vm)
            except BaseException:
                await self._remove(vm)
                raise
            self._vms[spec.id] = vm
            return self._info(vm)

    # -- helpers: defining and booting ------------------------------------------------

    def _new_record(self, spec: VMSpec, vm_uuid: str | None = None) -> _VM:
        """The record of a VM about to be defined here; clears what an interrupted
        attempt left in its directory."""
        vm = _VM(
            spec=spec,
            dir=self.vms_dir / spec.id,
            uuid=vm_uuid or str(uuid.uuid4()),
            mac=_mac(spec.id),
        )
        _clear_leftover(vm.dir)
        return vm

    async def _define(self, vm: _VM, disk_bytes: int = 0) -> None:
        """Create the VM's directory, disk and seed; no QEMU yet. ``disk_bytes``: the
        exact virtual size (a migration's destination must match its source)."""
        vm.dir.mkdir(parents=True, exist_ok=False)
        ref = vm.spec.image_ref
        if ref and ref.get("files"):
            if self._images is None:
                raise DriverError("this agent has no image store to fetch images from")
            vm.image_dir = await self._images(ref)
        size = vm.spec.disk_gib * GIB
        backing = self._image_disk(vm)
        if backing is not None:
            size = max(size, int(ref.get("virtual_size_bytes") or 0) if ref else 0)
            if not size:
                size = int((await disks.info(backing))["virtual-size"])
        size = disk_bytes or size
        if backing is not None or size:
            await disks.create_overlay(
                self._disk(vm),
                backing=backing,
                backing_format=self._image_format(vm),
                size_bytes=size,
            )
        await self._write_seed(vm)
        self._save(vm)

    async def _write_seed(self, vm: _VM) -> None:
        wants_seed = vm.spec.cloud_init is not None or (
            vm.spec.image_ref is not None and vm.spec.image_ref.get("kind") == "disk"
        )
        if not wants_seed:
            return
        options = vm.spec.cloud_init or {}
        await asyncio.to_thread(
            cloudinit.build_seed,
            vm.dir / "seed.iso",
            instance_id=vm.spec.id,
            hostname=str(options.get("hostname") or _hostname(vm.spec.name)),
            ssh_authorized_keys=list(options.get("ssh_authorized_keys") or []),
            user_data=options.get("user_data"),
        )

    async def _boot(self, vm: _VM, loadvm: str | None = None, incoming: str | None = None) -> None:
        """Start QEMU for ``vm`` (its lock held); on failure it stays stopped/crashed."""
        self._kill_stray(vm)
        if incoming is None:
            self._check_ports(vm)
        tap = await self._prepare_tap(vm)
        config = self._machine(vm, loadvm=loadvm, tap=tap, incoming=incoming)
        proc = await QemuProcess.spawn(
            build_argv(config, self.qemu_binary),
            cwd=vm.dir,
            qmp_socket=config.qmp_socket,
            stderr_log=vm.dir / "qemu.log",
            on_event=self._event_handler(vm),
        )
        vm.fault, vm.paused = "", incoming is not None
        vm.started_at = time.time()
        self._adopt(vm, proc)
        self._save(vm)
        self._changed()

    def _machine(
        self,
        vm: _VM,
        *,
        loadvm: str | None = None,
        tap: str | None = None,
        incoming: str | None = None,
    ) -> MachineConfig:
        spec, ref = vm.spec, vm.spec.image_ref or {}
        kernel = initrd = None
        cmdline = ""
        if ref.get("kind") == "kernel" and vm.image_dir is not None:
            kernel, initrd = vm.image_dir / "kernel", vm.image_dir / "initrd"
            parts = [str(ref.get("cmdline") or ""), f"novacron.hostname={_hostname(spec.name)}"]
            cmdline = " ".join(p for p in [*parts, spec.kernel_args] if p)
        disk = self._disk(vm)
        seed = vm.dir / "seed.iso"
        return MachineConfig(
            vm_id=spec.id,
            name=spec.name,
            uuid=vm.uuid,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            accel=self.accel,
            qmp_socket=self._qmp(vm),
            serial_socket=self.serial_socket(spec.id),
            serial_log=vm.dir / "serial.log",
            pidfile=vm.dir / "qemu.pid",
            disk=disk if disk.exists() else None,
            kernel=kernel,
            initrd=initrd if initrd is not None and initrd.exists() else None,
            cmdline=cmdline,
            seed_iso=seed if seed.exists() else None,
            # A migration's destination binds its port forwards at the end, when the
            # source has let go of them (both may run on one machine).
            nics=(self._nic(vm, tap, with_forwards=incoming is None),),
            loadvm=loadvm,
            incoming=incoming,
        )

    def _nic(self, vm: _VM, tap: str | None, with_forwards: bool = True) -> Nic:
        network = vm.spec.network or {}
        if network.get("mode") == "bridge":
            return Nic(mac=vm.mac, mode="bridge", tap=tap)
        wanted = (network.get("forwards") or []) if with_forwards else []
        forwards = tuple(_forward(f) for f in wanted)
        return Nic(mac=vm.mac, forwards=forwards)

    def _check_ports(self, vm: _VM) -> None:
        """A clear error beats QEMU's "Could not set up host forwarding rule"."""
        for fwd in self._nic(vm, None).forwards:
            kind = socket.SOCK_DGRAM if fwd.proto == "udp" else socket.SOCK_STREAM
            with socket.socket(socket.AF_INET, kind) as sock:
                if kind == socket.SOCK_STREAM:  # as libslirp does: TIME_WAIT is no conflict
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((fwd.host_addr, fwd.host_port))
                except OSError as exc:
                    raise DriverError(
                        f"host port {fwd.host_addr}:{fwd.host_port}/{fwd.proto} is not free "
                        f"on {self.host_name}: {exc.strerror}"
                    ) from None

    async def _prepare_tap(self, vm: _VM) -> str | None:
        network = vm.spec.network or {}
        if network.get("mode") != "bridge":
            return None
        bridge = network.get("bridge") or self.bridge
        if not bridge or bridge != self.bridge:
            raise DriverError(f"host {self.host_name} has no bridge {bridge!r}")
        tap = self._tap(vm)
        assert tap is not None
        if not Path(f"/sys/class/net/{tap}").exists():
            await _ip("tuntap", "add", "dev", tap, "mode", "tap")
        await _ip("link", "set", tap, "master", bridge)
        await _ip("link", "set", tap, "up")
        return tap

    def _tap(self, vm: _VM) -> str | None:
        if (vm.spec.network or {}).get("mode") != "bridge":
            return None
        return "nc" + hashlib.sha256(vm.spec.id.encode()).hexdigest()[:12]

    # -- helpers: state -----------------------------------------------------------------

    def _adopt(self, vm: _VM, proc: QemuProcess) -> None:
        vm.proc = proc
        proc.exited.add_done_callback(lambda fut: self._settle(vm, proc, fut.result()))

    def _settle(self, vm: _VM, proc: QemuProcess, ended: Exit) -> None:
        """Record how ``proc`` ended (once; later calls for the same process do nothing)."""
        if vm.proc is not proc:
            return
        vm.proc, vm.paused, vm.started_at = None, False, None
        if ended.clean:
            vm.power, vm.fault = STOPPED, ""
        else:
            vm.power, vm.fault = CRASHED, ended.reason
            log.warning("VM %s crashed: %s", vm.spec.id, ended.reason)
        if vm.spec.id in self._vms:
            self._save(vm)
        self._changed()

    def _event_handler(self, vm: _VM) -> Callable[[str, dict[str, Any]], None]:
        def on_event(name: str, data: dict[str, Any]) -> None:
            if vm.outgoing is not None:
                vm.outgoing.on_event(name, data)
            if name == "STOP":
                vm.paused = True
            elif name == "RESUME":
                vm.paused = False
            else:
                return
            self._changed()

        return on_event

    async def _overtake(self, vm: _VM) -> None:
        """Kill QEMU without waiting for the VM's lock: a forced stop must not queue
        behind a graceful shutdown that waits for a guest ignoring ACPI."""
        proc = vm.proc
        if proc is not None and proc.alive and vm.lock.locked():
            await proc.terminate()

    async def _power_off(self, vm: _VM) -> None:
        proc = vm.proc
        if proc is not None and proc.alive:
            self._settle(vm, proc, await proc.terminate())
        elif vm.power == CRASHED:
            vm.power = STOPPED
            self._save(vm)

    def _kill_stray(self, vm: _VM) -> None:
        """A QEMU of this VM we do not control (it lost its QMP socket) must not run on."""
        pid = _read_pid(vm.dir / "qemu.pid")
        if (
            vm.proc is None
            and pid is not None
            and procstats.is_alive(pid)
            and self._is_ours(pid, vm)
        ):
            log.warning("VM %s: killing stray QEMU pid %d", vm.spec.id, pid)
            _kill(pid)

    async def _remove(self, vm: _VM) -> None:
        if vm.proc is not None and vm.proc.alive:
            await vm.proc.terminate()
        self._kill_stray(vm)
        tap = self._tap(vm)
        if tap and Path(f"/sys/class/net/{tap}").exists():
            with contextlib.suppress(DriverError):
                await _ip("link", "delete", tap)
        shutil.rmtree(vm.dir, ignore_errors=True)
        for path in (self._qmp(vm), self.serial_socket(vm.spec.id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _save(self, vm: _VM) -> None:
        if not vm.dir.is_dir():
            return
        tmp = vm.dir / "vm.json.tmp"
        tmp.write_text(json.dumps(vm.record(), indent=1))
        tmp.replace(vm.dir / "vm.json")

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _get(self, vm_id: str) -> _VM:
        vm = self._vms.get(vm_id)
        if vm is None:
            raise NotFound(f"no VM {vm_id} on host {self.host_name}")
        return vm

    def _live(self, vm: _VM) -> QemuProcess | None:
        return vm.proc if vm.proc is not None and vm.proc.alive else None

    def _running(self, vm: _VM, action: str) -> QemuProcess:
        proc = self._live(vm)
        if proc is None:
            raise InvalidState(f"cannot {action} VM {vm.spec.name}: it is {vm.power_state}")
        return proc

    def _info(self, vm: _VM) -> VMInfo:
        cpu = 0.0
        proc = self._live(vm)
        if proc is not None:
            stats = procstats.read_proc_stats(proc.pid)
            cpu = stats.cpu_time_s if stats is not None else 0.0
        return VMInfo(
            id=vm.spec.id,
            name=vm.spec.name,
            power_state=vm.power_state,
            vcpus=vm.spec.vcpus,
            memory_mib=vm.spec.memory_mib,
            disk_gib=vm.spec.disk_gib,
            cpu_time_s=cpu,
            uptime_s=time.time() - vm.started_at if proc and vm.started_at else 0.0,
            fault=vm.fault,
            migrating="incoming"
            if vm.incoming
            else "outgoing"
            if vm.outgoing is not None and not vm.outgoing.progress.done
            else "",
        )

    # -- helpers: paths -----------------------------------------------------------------

    def _disk(self, vm: _VM) -> Path:
        return vm.dir / "disk.qcow2"

    def _tls_dir(self, vm: _VM) -> Path:
        return vm.dir / migration.TLS_DIR

    def _image_disk(self, vm: _VM) -> Path | None:
        if vm.image_dir is None:
            return None
        disk = vm.image_dir / "disk"
        return disk if disk.exists() else None

    def _image_format(self, vm: _VM) -> str:
        return str((vm.spec.image_ref or {}).get("format") or "qcow2")

    def _qmp(self, vm: _VM) -> Path:
        return self.run_dir / f"{vm.spec.id}.qmp"

    def serial_socket(self, vm_id: str) -> Path:
        """The serial console's socket: connect to type into the guest's console."""
        return self.run_dir / f"{vm_id}.serial"


def _forward(raw: dict[str, Any]) -> PortForward:
    """A port forward from the server's spec, checked again: it lands in QEMU's argv."""
    proto = str(raw.get("proto", "tcp"))
    host_addr = str(ipaddress.IPv4Address(str(raw.get("host_addr", "127.0.0.1"))))
    host_port, guest_port = int(raw["host_port"]), int(raw["guest_port"])
    if proto not in ("tcp", "udp") or not (0 < host_port < 65536 and 0 < guest_port < 65536):
        raise Invalid(
            f"bad port forward {raw!r}", errors=[{"loc": ["network", "forwards"], "msg": "bad"}]
        )
    return PortForward(host_port=host_port, guest_port=guest_port, proto=proto, host_addr=host_addr)


def _clear_leftover(vm_dir: Path) -> None:
    """A VM directory without a record is what an interrupted create or clone left."""
    if vm_dir.is_dir() and not (vm_dir / "vm.json").exists():
        shutil.rmtree(vm_dir, ignore_errors=True)


def _private_dir(path: Path) -> None:
    """Create ``path`` 0700 and insist it is ours: it holds the VMs' control sockets."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DriverError(f"{path} must be a directory owned by this user with mode 0700")


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def trim_console(path: Path, max_bytes: int = CONSOLE_MAX_BYTES) -> bool:
    """Keep the newest half of a console log that outgrew ``max_bytes``.

    QEMU appends (O_APPEND), so truncating in place is safe for it; bytes it writes
    between our read and our truncate are lost, which a console log can afford. Readers
    following by offset are clamped to the new end.
    """
    try:
        if path.stat().st_size <= max_bytes:
            return False
        with path.open("r+b") as f:
            f.seek(-(max_bytes // 2), os.SEEK_END)
            keep = f.read()
            f.seek(0)
            f.truncate()
            f.write(b"[... older console output trimmed by novacron ...]\n" + keep)
    except OSError:
        return False
    return True


def run_dir_for(data_dir: Path) -> Path:
    """Where the sockets of VMs under ``data_dir`` live (short paths: a socket path is
    limited to 108 bytes)."""
    run = data_dir / "run"
    if len(str(run / "vm-0123456789abcdef.serial")) <= MAX_SOCKET_PATH:
        return run
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"novacron-run-{digest}"


def _mac(vm_id: str) -> str:
    digest = hashlib.sha256(vm_id.encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def _hostname(name: str) -> str:
    """A VM name as an RFC 1123 host name label."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-")
    return label[:63] or "vm"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _process_start(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


async def _ip(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise DriverError(f"ip {' '.join(args)} failed: {err.decode(errors='replace').strip()}")
