"""Pydantic types of the compute API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
)

from novacron.core.clock import isoformat

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
LABEL_KEY = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$"

# Bounds that reject absurd requests early; a single host this big does not exist.
MAX_VCPUS = 1024
MAX_MEMORY_MIB = 16 * 1024 * 1024  # 16 TiB
MAX_DISK_GIB = 1024 * 1024  # 1 PiB


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    # The serializer below is untyped (one for every field), so the schema is taken from
    # the fields' own types: the OpenAPI then says what each response holds.
    model_config = ConfigDict(from_attributes=True, json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _times(self, value: Any) -> Any:
        return isoformat(value) if isinstance(value, datetime) else value


# -- VMs -----------------------------------------------------------------------------------


class VMCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique among the project's live VMs")
    vcpus: int = Field(ge=1, le=MAX_VCPUS)
    memory_mib: int = Field(ge=16, le=MAX_MEMORY_MIB)
    disk_gib: int = Field(10, ge=1, le=MAX_DISK_GIB)
    image: str | None = Field(None, description="Image name or id")
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)
    group: str | None = Field(None, description="Placement group name or id")
    host: str | None = Field(None, description="Force this host (name or id); filters still apply")
    host_labels: dict[str, str] = Field(
        default_factory=dict, description="Only hosts carrying these labels"
    )
    traits: list[str] = Field(default_factory=list, description="Required host capabilities")
    ha: bool = Field(False, description="Restart on another host when its host fails")
    restart_policy: RestartPolicy = Field(
        "never", description="Restart after a crash (on-failure), or also after a guest power-off"
    )
    network: VMNetwork = Field(default_factory=lambda: VMNetwork.model_validate({}))
    cloud_init: CloudInit | None = Field(
        None, description="NoCloud seed for cloud images (hostname, SSH keys, user-data)"
    )
    kernel_args: str = Field(
        "",
        max_length=512,
        pattern=r"^[\x20-\x7e]*$",
        description="Appended to a kernel image's command line (printable ASCII)",
    )


class PortForwardSpec(Strict):
    host_port: int = Field(ge=1, le=65535)
    guest_port: int = Field(ge=1, le=65535)
    proto: Literal["tcp", "udp"] = "tcp"
    host_addr: str = Field(
        "127.0.0.1", pattern=r"^\d{1,3}(\.\d{1,3}){3}$", description="Host address to listen on"
    )


class VMNetwork(Strict):
    mode: Literal["user", "bridge"] = Field(
        "user", description="User-mode NAT (default) or a tap on the host's bridge"
    )
    forwards: list[PortForwardSpec] = Field(
        default_factory=list, max_length=32, description="User mode: host ports to guest ports"
    )
    bridge: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,15}$")

    @field_validator("forwards")
    @classmethod
    def _distinct_host_ports(cls, forwards: list[PortForwardSpec]) -> list[PortForwardSpec]:
        seen: set[tuple[str, int, str]] = set()
        for fwd in forwards:
            key = (fwd.host_addr, fwd.host_port, fwd.proto)
            if key in seen:
                raise ValueError(f"host port {fwd.host_port}/{fwd.proto} is forwarded twice")
            seen.add(key)
        return forwards


class CloudInit(Strict):
    hostname: str | None = Field(None, pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})$")
    ssh_authorized_keys: list[str] = Field(default_factory=list, max_length=64)
    user_data: str | None = Field(None, max_length=65536)


RestartPolicy = Literal["never", "on-failure", "always"]


class VMResize(Strict):
    vcpus: int | None = Field(None, ge=1, le=MAX_VCPUS)
    memory_mib: int | None = Field(None, ge=16, le=MAX_MEMORY_MIB)
    disk_gib: int | None = Field(None, ge=1, le=MAX_DISK_GIB, description="Grow only")


class VMClone(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Name of the new VM")


class VMUpdate(Strict):
    restart_policy: RestartPolicy | None = None
    ha: bool | None = Field(None, description="Restart elsewhere when the host fails")


class MigrationOptions(Strict):
    downtime_ms: float = Field(50.0, ge=1, le=10_000, description="Downtime objective")
    time_bound_s: float | None = Field(
        None, gt=0, le=86_400, description="Finish within; default 2x RAM/bandwidth"
    )
    allow_postcopy: bool = Field(
        True, description="Post-copy may finish a migration pre-copy cannot (VM at risk meanwhile)"
    )
    bandwidth_mib_s: float | None = Field(
        None, gt=0, le=1_000_000, description="The link's rate when known (a WAN)"
    )
    policy: Literal["adaptive", "qemu-default"] = "adaptive"
    timeout_s: float = Field(1800, gt=0, le=86_400, description="Roll back after this long")
    tls: bool = Field(
        False,
        description="Encrypt memory and disk streams with TLS, both ends verified "
        "(a throwaway CA per migration); for links between sites",
    )


class VMMigrate(MigrationOptions):
    to_host: str | None = Field(
        None, min_length=1, max_length=128, description="Host name or id; default: scheduler"
    )


class HostDrain(MigrationOptions):
    parallel: int = Field(2, ge=1, le=64, description="Migrations at a time")


class HostFence(Strict):
    reason: str = Field(min_length=1, max_length=200, description="How it was powered off")


class HostUndrain(Strict):
    bring_back: bool = Field(False, description="Migrate back the VMs the last drain moved")


class SnapshotCreate(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SnapshotOut(Out):
    id: str
    vm_id: str
    name: str
    vm_state_bytes: int
    power_state: str
    created_at: datetime


class VMStop(Strict):
    force: bool = Field(False, description="Power off at once instead of an ACPI shutdown")


class VMOut(Out):
    id: str
    name: str
    project_id: str
    state: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    image_id: str | None
    group_id: str | None
    host_id: str | None
    host_name: str | None = None
    labels: dict[str, str]
    required_traits: list[str]
    task_operation_id: str | None
    fault: str
    restart_policy: str
    ha: bool = False
    migration_host_id: str | None = None
    network: dict[str, Any]
    kernel_args: str
    actions: list[str] = Field(default_factory=list, description="Actions legal in this state")
    created_at: datetime
    updated_at: datetime


# -- Hosts ---------------------------------------------------------------------------------


class HostOut(Out):
    id: str
    name: str
    agent_id: str
    driver: str
    state: Literal["up", "down", "maintenance"]
    maintenance_reason: str
    draining: bool = False
    fenced_at: datetime | None = None
    fence_reason: str = ""
    vcpus: int
    memory_mib: int
    disk_gib: int
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    alloc_vcpus: int
    alloc_memory_mib: int
    alloc_disk_gib: int
    labels: dict[str, str]
    capabilities: list[str]
    vm_count: int = 0
    last_heartbeat_at: datetime | None
    created_at: datetime


class HostMaintenance(Strict):
    enabled: bool
    reason: str = Field("", max_length=256)


class HostUpdate(Strict):
    labels: dict[str, str] | None = None
    cpu_allocation_ratio: float | None = Field(None, gt=0, le=64)
    ram_allocation_ratio: float | None = Field(None, gt=0, le=8)
    disk_allocation_ratio: float | None = Field(None, gt=0, le=16)


# -- Images and placement groups -------------------------------------------------------


IMAGE_FILE_NAMES = ("disk", "kernel", "initrd")
ImageFileName = Literal["disk", "kernel", "initrd"]
ImageKind = Literal["disk", "kernel"]
# x86 COMMAND_LINE_SIZE, terminating NUL included.
MAX_CMDLINE = 2047


class ImageCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    os: str = Field("linux", max_length=64)
    format: Literal["qcow2", "raw"] = Field("qcow2", description="Format of the disk file")
    size_gib: int = Field(1, ge=1, le=MAX_DISK_GIB)
    min_disk_gib: int = Field(1, ge=1, le=MAX_DISK_GIB)
    source: str = Field("", max_length=512)
    kind: ImageKind | None = Field(
        None,
        description="disk (BIOS boot from the disk) or kernel (direct boot of kernel + initrd "
        "[+ disk]): the image is pending until its files are uploaded and it is activated. "
        "Without kind: a catalogue entry with no files, active at once",
    )
    cmdline: str = Field(
        "", max_length=MAX_CMDLINE, description="Kernel command line (kind=kernel only)"
    )

    @field_validator("cmdline")
    @classmethod
    def _printable(cls, value: str) -> str:
        # It becomes one argument of QEMU's -append: no newlines or other control characters.
        if any(not ch.isprintable() for ch in value):
            raise ValueError("must not contain control characters")
        return value


class ImageFile(BaseModel):
    sha256: str
    size: int


class ImageOut(Out):
    id: str
    name: str
    os: str
    format: str
    size_gib: int
    min_disk_gib: int
    source: str
    kind: str
    status: Literal["pending", "active"]
    files: dict[str, ImageFile]
    cmdline: str
    virtual_size_bytes: int | None
    created_at: datetime


class GroupCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    policy: Literal["affinity", "anti-affinity"]
    strict: bool = Field(True, description="Hard rule (filter) or soft preference (weigher)")


class GroupOut(Out):
    id: str
    name: str
    policy: str
    strict: bool
    members: list[str] = Field(default_factory=list, description="Ids of live member VMs")
    created_at: datetime


# -- Operations ----------------------------------------------------------------------------


class OperationOut(Out):
    id: str
    kind: str
    target_type: str
    target_id: str
    state: Literal["pending", "running", "succeeded", "failed", "cancelled"]
    progress: int
    steps: list[dict[str, Any]]
    params: dict[str, Any]
    result: dict[str, Any]
    error: str
    requested_by: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None = None


# -- Agents --------------------------------------------------------------------------------


class AgentHostInfo(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    driver: str
    vcpus: int = Field(ge=1)
    memory_mib: int = Field(ge=1)
    disk_gib: int = Field(ge=1)
    capabilities: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    cpu_used_pct: float = 0.0
    memory_used_mib: int = 0


class AgentRegister(BaseModel):
    enrolment_token: str
    name: str = Field(pattern=NAME_PATTERN)
    url: str = Field(max_length=512)
    api_secret: str = Field(min_length=16, max_length=128)
    version: str = ""
    hosts: list[AgentHostInfo]


class AgentRegistered(BaseModel):
    agent_id: str
    token: str
    hosts: dict[str, str]
    heartbeat_interval_s: float


class HeartbeatVM(BaseModel):
    id: str
    power_state: str
    fault: str = ""
    migrating: str = ""


class HeartbeatHost(BaseModel):
    name: str
    info: AgentHostInfo
    vms: list[HeartbeatVM] = Field(default_factory=list)


class Heartbeat(BaseModel):
    hosts: list[HeartbeatHost]
    self_fenced: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Hosts whose HA guests the agent stopped while it could not reach us",
    )


class HeartbeatAck(BaseModel):
    orphans: dict[str, list[str]] = Field(default_factory=dict)
    self_fence: dict[str, Any] = Field(
        default_factory=dict,
        description='{"after_s", "vms": {host: [vm ids]}}: stop these if we go silent',
    )
