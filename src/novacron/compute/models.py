"""ORM models of the compute slice: agents, hosts, images, groups, VMs, operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from novacron.core.database import Base, Timestamped


class Agent(Timestamped, Base):
    """An agent process; it serves one real host, or many sim hosts."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    url: Mapped[str] = mapped_column(String(512))
    api_secret: Mapped[str] = mapped_column(String(128))
    """Bearer secret the server presents to the agent's API."""
    token_id: Mapped[str | None] = mapped_column(String(64))
    """The API token the agent presents to the server."""
    version: Mapped[str] = mapped_column(String(32), default="")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)


class Host(Timestamped, Base):
    __tablename__ = "hosts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    driver: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="up")
    """Liveness: ``up`` or ``down`` (missed heartbeats)."""
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance_reason: Mapped[str] = mapped_column(String(256), default="")
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mib: Mapped[int] = mapped_column(Integer)
    disk_gib: Mapped[int] = mapped_column(Integer)
    cpu_allocation_ratio: Mapped[float] = mapped_column(Float, default=4.0)
    ram_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    disk_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    alloc_vcpus: Mapped[int] = mapped_column(Integer, default=0)
    alloc_memory_mib: Mapped[int] = mapped_column(Integer, default=0)
    alloc_disk_gib: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    fenced_at: Mapped[datetime | None] = mapped_column(DateTime)
    """When the host was confirmed powered off (its VMs cannot be running there)."""
    fence_reason: Mapped[str] = mapped_column(String(256), default="")
    draining: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def state(self) -> str:
        if self.status == "down":
            return "down"
        return "maintenance" if self.maintenance else "up"


class Image(Timestamped, Base):
    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(128), unique=True)
    os: Mapped[str] = mapped_column(String(64), default="linux")
    format: Mapped[str] = mapped_column(String(16), default="qcow2")
    size_gib: Mapped[int] = mapped_column(Integer, default=1)
    min_disk_gib: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(512), default="")
    kind: Mapped[str] = mapped_column(String(16), default="disk")
    """``disk`` boots its disk through the BIOS; ``kernel`` boots its kernel + initrd
    directly (QEMU ``-kernel/-initrd/-append``), with its disk attached if it has one."""
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``pending`` while its files are being uploaded; ``active`` once VMs may use it."""
    files: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    """``{file_name: {"sha256": hex, "size": bytes}}``; empty for a catalogue-only image."""
    cmdline: Mapped[str] = mapped_column(Text, default="")
    """Kernel command line of a ``kernel`` image."""
    virtual_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    """Size the guest sees of the ``disk`` file (qcow2 header, or file size for raw)."""


class PlacementGroup(Timestamped, Base):
    __tablename__ = "placement_groups"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(128))
    policy: Mapped[str] = mapped_column(String(16))
    """``affinity`` or ``anti-affinity``."""
    strict: Mapped[bool] = mapped_column(Boolean, default=True)
    """Hard (filter) when true, soft (weigher) when false."""


class VM(Timestamped, Base):
    __tablename__ = "vms"
    # name_key is the name while the VM lives and NULL once deleted, so names are
    # unique among live VMs and free for reuse after a delete, on SQLite and PostgreSQL.
    __table_args__ = (
        UniqueConstraint("project_id", "name_key"),
        Index("ix_vms_host_state", "host_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), index=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mib: Mapped[int] = mapped_column(Integer)
    disk_gib: Mapped[int] = mapped_column(Integer)
    image_id: Mapped[str | None] = mapped_column(ForeignKey("images.id"))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("placement_groups.id"))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    required_traits: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Labels a host must carry to run this VM."""
    requested_host: Mapped[str | None] = mapped_column(String(128))
    host_id: Mapped[str | None] = mapped_column(ForeignKey("hosts.id"), index=True)
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    """True while the VM's resources are counted in its host's allocation."""
    task_operation_id: Mapped[str | None] = mapped_column(String(64))
    fault: Mapped[str] = mapped_column(Text, default="")
    report_mismatches: Mapped[int] = mapped_column(Integer, default=0)
    """Heartbeats in a row that reported ``report_mismatch_state`` instead of ``state``."""
    report_mismatch_state: Mapped[str | None] = mapped_column(String(16))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    restart_policy: Mapped[str] = mapped_column(String(16), default="never")
    """``never``, ``on-failure`` (after a crash) or ``always`` (also after a guest power-off)."""
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    """Restarts by the policy within the current window."""
    restart_window_at: Mapped[datetime | None] = mapped_column(DateTime)
    network: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cloud_init: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kernel_args: Mapped[str] = mapped_column(String(1024), default="")
    migration_host_id: Mapped[str | None] = mapped_column(String(64))
    """Where a running live migration takes the VM (claimed there meanwhile)."""
    ha: Mapped[bool] = mapped_column(Boolean, default=False)
    """Restart elsewhere when the host fails (and is fenced)."""


class VMSnapshot(Timestamped, Base):
    """A snapshot as recorded when it was taken; the disk on the host holds the data."""

    __tablename__ = "vm_snapshots"
    __table_args__ = (UniqueConstraint("vm_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vm_id: Mapped[str] = mapped_column(ForeignKey("vms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    vm_state_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    """Size of the saved RAM; 0 for a disk-only snapshot (taken while stopped)."""
    power_state: Mapped[str] = mapped_column(String(16))
    """The VM's state when taken: reverting leads back to it (running or stopped)."""


class Operation(Timestamped, Base):
    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(128), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(64))
    """Worker instance executing it; with ``lease_expires_at`` guards against double execution."""
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    """A running operation that can stop part-way (a migration) checks this."""
