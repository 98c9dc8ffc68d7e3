"""Pydantic types of the compute API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

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
    model_config = ConfigDict(from_attributes=True)

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


class ImageCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    os: str = Field("linux", max_length=64)
    format: Literal["qcow2", "raw"] = "qcow2"
    size_gib: int = Field(1, ge=1, le=MAX_DISK_GIB)
    min_disk_gib: int = Field(1, ge=1, le=MAX_DISK_GIB)
    source: str = Field("", max_length=512)


class ImageOut(Out):
    id: str
    name: str
    os: str
    format: str
    size_gib: int
    min_disk_gib: int
    source: str
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


class HeartbeatHost(BaseModel):
    name: str
    info: AgentHostInfo
    vms: list[HeartbeatVM] = Field(default_factory=list)


class Heartbeat(BaseModel):
    hosts: list[HeartbeatHost]


class HeartbeatAck(BaseModel):
    orphans: dict[str, list[str]] = Field(default_factory=dict)
