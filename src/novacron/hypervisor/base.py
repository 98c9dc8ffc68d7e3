"""The hypervisor driver contract, modelled on Nova's ComputeDriver and Ganeti's BaseHypervisor.

One driver instance manages one host. Drivers run inside the agent process and
are asynchronous so that one agent can drive many (simulated) hosts at once.

Every mutating method is idempotent where the docstring says so: the server may
repeat a call after it restarted mid-operation. On failure a method raises
``DriverError`` and leaves the state described in its docstring.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from typing import Any

from novacron.core.errors import DriverError

# Power states a driver reports for a VM.
RUNNING, STOPPED, PAUSED, CRASHED = "running", "stopped", "paused", "crashed"


@dataclass
class VMSpec:
    id: str
    name: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    image_ref: dict[str, Any] | None = None
    """How to fetch and boot the image: ``{"id", "kind", "format", "files", "cmdline", …}``."""
    network: dict[str, Any] = field(default_factory=dict)
    """``{"mode": "user", "forwards": [{"host_port", "guest_port", "proto"}]}`` or
    ``{"mode": "bridge", "bridge": "br0"}``; empty means user-mode without forwards."""
    cloud_init: dict[str, Any] | None = None
    """NoCloud seed: ``{"hostname", "ssh_authorized_keys", "user_data"}``."""
    kernel_args: str = ""
    """Appended to a kernel image's command line (e.g. the tiny guest's workload)."""


@dataclass
class SnapshotInfo:
    name: str
    created_at: float
    """Unix time."""
    vm_state_bytes: int
    """Size of the saved RAM state; 0 for a disk-only snapshot."""
    disk_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VMInfo:
    id: str
    name: str
    power_state: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    cpu_time_s: float = 0.0
    uptime_s: float = 0.0
    fault: str = ""
    """Why the VM is crashed (empty otherwise)."""
    migrating: str = ""
    """``incoming`` on a migration's destination until it finishes, ``outgoing`` on its
    source while the stream runs; empty otherwise."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HostInfo:
    name: str
    driver: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    capabilities: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    cpu_used_pct: float = 0.0
    memory_used_mib: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class HypervisorDriver(abc.ABC):
    """One host's hypervisor."""

    name: str = "base"

    @abc.abstractmethod
    def capabilities(self) -> list[str]:
        """Traits the scheduler can require, e.g. ``kvm``, ``live-migration``."""

    @abc.abstractmethod
    async def host_info(self) -> HostInfo:
        """Capacity and current usage of the host."""

    @abc.abstractmethod
    async def list_vms(self) -> list[VMInfo]:
        """Every VM the hypervisor knows, whatever its power state."""

    @abc.abstractmethod
    async def get_vm(self, vm_id: str) -> VMInfo:
        """Raises ``NotFound`` when the VM does not exist on this host."""

    @abc.abstractmethod
    async def create(self, spec: VMSpec) -> VMInfo:
        """Define and boot a VM. Idempotent: an existing VM with this id is returned.

        On failure nothing of the VM is left on the host.
        """

    @abc.abstractmethod
    async def start(self, vm_id: str) -> VMInfo:
        """Power on a stopped VM. Idempotent on a running VM. On failure: still stopped."""

    @abc.abstractmethod
    async def shutdown(self, vm_id: str, timeout_s: float = 60.0) -> VMInfo:
        """Ask the guest to power off (ACPI); after ``timeout_s`` power it off hard.

        Idempotent on a stopped VM. On failure the VM keeps its previous power state.
        """

    @abc.abstractmethod
    async def stop(self, vm_id: str) -> VMInfo:
        """Power off at once, like pulling the plug. Idempotent on a stopped VM."""

    @abc.abstractmethod
    async def reboot(self, vm_id: str) -> VMInfo:
        """Reset a running VM. On failure the VM is running or crashed, as reported."""

    @abc.abstractmethod
    async def pause(self, vm_id: str) -> VMInfo:
        """Freeze vCPUs, keep memory. Idempotent on a paused VM."""

    @abc.abstractmethod
    async def resume(self, vm_id: str) -> VMInfo:
        """Unfreeze a paused VM. Idempotent on a running VM."""

    @abc.abstractmethod
    async def destroy(self, vm_id: str) -> None:
        """Power off and remove the VM and its disks. Idempotent: a missing VM is success."""

    # Optional contracts default to "unsupported", so a driver advertises them through
    # capabilities() only when it implements them.

    async def snapshot_create(self, vm_id: str, name: str) -> SnapshotInfo:
        """Disk state, plus RAM state when the VM runs. On failure no snapshot exists."""
        raise DriverError(f"{self.name} driver does not support snapshots")

    async def snapshot_list(self, vm_id: str) -> list[SnapshotInfo]:
        raise DriverError(f"{self.name} driver does not support snapshots")

    async def snapshot_revert(self, vm_id: str, name: str) -> VMInfo:
        """Back to the snapshot: running at that point when it holds RAM, else stopped."""
        raise DriverError(f"{self.name} driver does not support snapshots")

    async def snapshot_delete(self, vm_id: str, name: str) -> None:
        """Idempotent: a missing snapshot is success."""
        raise DriverError(f"{self.name} driver does not support snapshots")

    async def console_read(self, vm_id: str, offset: int, limit: int) -> tuple[bytes, int]:
        """Serial console output from byte ``offset`` (negative: from the end); returns
        (data, next offset). The log outlives stops and restarts of the VM."""
        raise DriverError(f"{self.name} driver has no console")

    async def vm_stats(self, vm_id: str) -> dict[str, Any]:
        """Counters: CPU time, memory, disk and network I/O (monotonic since VM start)."""
        raise DriverError(f"{self.name} driver has no VM statistics")

    async def resize(
        self, vm_id: str, *, vcpus: int | None, memory_mib: int | None, disk_gib: int | None
    ) -> VMInfo:
        """CPU and memory only while stopped; the disk may grow (never shrink) any time."""
        raise DriverError(f"{self.name} driver does not support resize")

    async def clone(self, vm_id: str, spec: VMSpec) -> VMInfo:
        """A new stopped VM ``spec.id`` with a copy of the stopped VM ``vm_id``'s disk."""
        raise DriverError(f"{self.name} driver does not support clones")

    # Live migration, in Ganeti's order: the destination prepares an incoming VM, the
    # source streams disk and memory to it (``migrate`` starts, ``migration_status``
    # polls), then both sides finish — or both roll back. The server changes the VM's
    # host only after both finished.

    async def prepare_outgoing(
        self, vm_id: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Source: check ``vm_id`` can leave, and say what the destination must match and
        the policy needs: ``{"uuid", "accel", "ram_bytes", "dirty_rate_bps", "disk_bytes",
        "bridge", …}``. Changes nothing — except with ``options={"tls": True}`` (drivers
        with the ``migration-tls`` capability): a new private key stays with the VM and
        the facts carry its CSR as ``tls_csr`` (see ``compute/migration/tls.py``); a
        driver that cannot encrypt raises instead."""
        raise DriverError(f"{self.name} driver does not support live migration")

    async def prepare_incoming(self, spec: VMSpec, options: dict[str, Any]) -> dict[str, Any]:
        """Destination: define ``spec`` and wait for its state (QEMU: ``-incoming``).

        ``options``: ``{"disk_bytes", "plan": {capabilities, parameters}, "listen_host",
        "tls_csr"}`` (the facts of ``prepare_outgoing`` among them). Returns where the
        source sends to: ``{"uri", "nbd": {"host", "port", "export"}}``, and with a
        ``tls_csr`` also ``"tls": {"ca_cert", "client_cert", "hostname"}`` (public
        data: the destination accepts only TLS from the holder of the CSR's key).
        On failure nothing of the VM is left here.
        """
        raise DriverError(f"{self.name} driver does not support live migration")

    async def migrate(self, vm_id: str, target: dict[str, Any], options: dict[str, Any]) -> None:
        """Source: start moving ``vm_id`` to ``target`` (what ``prepare_incoming`` returned)
        and return at once; ``migration_status`` reports how it goes. ``options`` carries
        the policy's objective (``downtime_ms``, ``time_bound_s``, ``allow_postcopy`` …)
        and ``tls``: when true, a ``target`` without ``tls`` is refused (no silent fall
        back to plain TCP); a ``target`` with ``tls`` is always encrypted.
        On failure to start the VM keeps running here, untouched."""
        raise DriverError(f"{self.name} driver does not support live migration")

    async def migration_status(self, vm_id: str) -> MigrationProgress:
        """Source: progress of the running (or last) migration of ``vm_id``."""
        raise DriverError(f"{self.name} driver does not support live migration")

    async def cancel_migration(self, vm_id: str) -> None:
        """Source: stop a running migration; the VM keeps running here. Idempotent."""
        raise DriverError(f"{self.name} driver does not support live migration")

    async def finish_migration(self, vm_id: str, *, source: bool) -> VMInfo | None:
        """After a completed migration. Destination: the VM runs here (returns it).
        Source: the VM's process and files are gone (returns None). Idempotent."""
        raise DriverError(f"{self.name} driver does not support live migration")

    async def rollback_migration(self, vm_id: str, *, source: bool) -> None:
        """After a failed or cancelled one. Source: the VM runs here again, as before.
        Destination: nothing of the VM is left. Idempotent."""
        raise DriverError(f"{self.name} driver does not support live migration")


@dataclass
class MigrationDecision:
    """One choice the migration policy made, and why (shown as an operation step)."""

    at_s: float
    choice: str
    reason: str


@dataclass
class MigrationProgress:
    status: str
    """``setup``, ``storage``, ``memory``, ``postcopy``, ``switchover``, ``completed``,
    ``failed`` or ``cancelled``."""
    elapsed_s: float = 0.0
    transferred_bytes: int = 0
    remaining_bytes: int = 0
    total_bytes: int = 0
    disk_transferred_bytes: int = 0
    disk_total_bytes: int = 0
    dirty_rate_bps: float = 0.0
    bandwidth_bps: float = 0.0
    iteration: int = 0
    expected_downtime_ms: float = 0.0
    downtime_ms: float | None = None
    """Measured, once completed."""
    switchover_hold_ms: float | None = None
    """Of the downtime: how long the source held the stopped guest to complete the disk
    mirror before letting QEMU hand over."""
    mode: str = "precopy"
    """``precopy`` or ``postcopy`` (after the switch)."""
    error: str = ""
    decisions: list[MigrationDecision] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MigrationProgress:
        raw = dict(data)
        raw["decisions"] = [MigrationDecision(**d) for d in raw.get("decisions", [])]
        return cls(**raw)
