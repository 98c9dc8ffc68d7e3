"""Project quotas (VMs, vCPUs, memory, disk), checked when a VM is placed.

Usage counts the resources the project's VMs hold on hosts (``claimed``), the same figures
placement claims, so a stopped VM that gave its claim back does not count. The project
row is locked while checking (PostgreSQL), so two placements in one project cannot both
take the last unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.compute.models import VM
from novacron.core.errors import QuotaExceeded
from novacron.security.models import Project
from novacron.security.schemas import Usage


class Sized(Protocol):
    """A VM, or what a VM would become (:class:`Demand`)."""

    @property
    def id(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def vcpus(self) -> int: ...
    @property
    def memory_mib(self) -> int: ...
    @property
    def disk_gib(self) -> int: ...


@dataclass(frozen=True)
class Demand:
    id: str
    project_id: str
    vcpus: int
    memory_mib: int
    disk_gib: int

    @classmethod
    def resized(cls, vm: VM, changes: dict[str, Any]) -> Demand:
        """``vm`` at its new size (it replaces the VM's own usage)."""
        return cls(
            vm.id,
            vm.project_id,
            int(changes.get("vcpus") or vm.vcpus),
            int(changes.get("memory_mib") or vm.memory_mib),
            int(changes.get("disk_gib") or vm.disk_gib),
        )


def usage(session: Session, project_id: str, *, exclude_vm: str | None = None) -> Usage:
    stmt = select(
        func.count(VM.id),
        func.coalesce(func.sum(VM.vcpus), 0),
        func.coalesce(func.sum(VM.memory_mib), 0),
        func.coalesce(func.sum(VM.disk_gib), 0),
    ).where(VM.project_id == project_id, VM.claimed.is_(True))
    if exclude_vm is not None:
        stmt = stmt.where(VM.id != exclude_vm)
    count, vcpus, memory, disk = session.execute(stmt).one()
    return Usage(vms=int(count), vcpus=int(vcpus), memory_mib=int(memory), disk_gib=int(disk))


def check(session: Session, vm: Sized) -> None:
    """Raise :class:`QuotaExceeded` when claiming ``vm`` would exceed its project's
    quota; names every exceeded limit."""
    project = session.get(Project, vm.project_id)
    if project is None or all(
        q is None
        for q in (
            project.quota_vms,
            project.quota_vcpus,
            project.quota_memory_mib,
            project.quota_disk_gib,
        )
    ):
        return  # no quota: placements in the project need not queue on its row
    session.refresh(project, with_for_update=True)
    limits = {
        "VMs": (project.quota_vms, 1),
        "vCPUs": (project.quota_vcpus, vm.vcpus),
        "memory MiB": (project.quota_memory_mib, vm.memory_mib),
        "disk GiB": (project.quota_disk_gib, vm.disk_gib),
    }
    used = usage(session, project.id, exclude_vm=vm.id)
    held = {
        "VMs": used.vms,
        "vCPUs": used.vcpus,
        "memory MiB": used.memory_mib,
        "disk GiB": used.disk_gib,
    }
    over = [
        f"{what} {held[what]} + {want} > {limit}"
        for what, (limit, want) in limits.items()
        if limit is not None and held[what] + want > limit
    ]
    if over:
        raise QuotaExceeded(f"project {project.name} quota exceeded: " + "; ".join(over))
