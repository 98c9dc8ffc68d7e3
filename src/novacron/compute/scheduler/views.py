"""The value types of the placement scheduler: what it sees, what it is asked, how it weighs.

Pure code: plain frozen dataclasses, no database, HTTP or driver imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from novacron.core.errors import Invalid

HOST_STATES = ("up", "down", "maintenance")
STRATEGIES = ("pack", "spread")
GROUP_POLICIES = (None, "affinity", "anti-affinity")

# Rejection reasons, in filter order. A host is counted under the first that rejects it.
EXCLUDED = "excluded"
DOWN = "down"
MAINTENANCE = "in maintenance"
MISSING_TRAITS = "missing traits"
LABELS_MISMATCH = "labels do not match"
SHORT_VCPUS = "short of vcpus"
SHORT_MEMORY = "short of memory"
SHORT_DISK = "short of disk"
ANTI_AFFINITY = "anti-affinity: group member already there"
AFFINITY = "affinity: not the group's host"
REASONS = (
    EXCLUDED,
    DOWN,
    MAINTENANCE,
    MISSING_TRAITS,
    LABELS_MISMATCH,
    SHORT_VCPUS,
    SHORT_MEMORY,
    SHORT_DISK,
    ANTI_AFFINITY,
    AFFINITY,
)


@dataclass(frozen=True)
class HostView:
    """A host as the scheduler sees it: size, overcommit ratios and what is already claimed.

    ``state`` is ``"up"``, ``"down"`` or ``"maintenance"``; any other value is
    treated as down. Effective capacity of a resource is
    ``floor(total * ratio)``.
    """

    id: str
    name: str
    state: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    alloc_vcpus: int
    alloc_memory_mib: int
    alloc_disk_gib: int
    labels: Mapping[str, str] = field(default_factory=dict)
    traits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlacementRequest:
    """What one VM needs from a host.

    ``labels``: the host must carry each key=value. ``traits``: the host must
    have each. ``group_policy`` (``None``, ``"affinity"``, ``"anti-affinity"``)
    is a filter when ``group_strict`` and a weigher otherwise; ``group_hosts``
    maps host id to the number of group members already there (entries with a
    count of 0 are ignored). ``exclude``: host ids not to use. ``force_host``:
    a host id or name; only that host is considered, filters still apply.
    """

    vcpus: int
    memory_mib: int
    disk_gib: int
    labels: Mapping[str, str] = field(default_factory=dict)
    traits: frozenset[str] = frozenset()
    group_policy: str | None = None
    group_strict: bool = True
    group_hosts: Mapping[str, int] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()
    force_host: str | None = None

    def __post_init__(self) -> None:
        for name in ("vcpus", "memory_mib", "disk_gib"):
            if getattr(self, name) < 0:
                raise Invalid(f"{name} must be >= 0", errors=[{"loc": [name], "msg": ">= 0"}])
        if self.group_policy not in GROUP_POLICIES:
            raise Invalid(
                f"unknown group policy {self.group_policy!r} (use affinity or anti-affinity)",
                errors=[{"loc": ["group_policy"], "msg": "affinity | anti-affinity"}],
            )


@dataclass(frozen=True)
class Weights:
    """How passing hosts are ordered.

    ``strategy``: ``"pack"`` puts the VM on the host that is fullest after
    placement, ``"spread"`` on the emptiest. ``ram``, ``cpu``, ``disk`` weigh
    each resource's utilisation; ``group`` is the strength of soft affinity or
    anti-affinity.
    """

    strategy: str = "spread"
    ram: float = 1.0
    cpu: float = 1.0
    disk: float = 0.0
    group: float = 10.0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise Invalid(
                f"unknown placement strategy {self.strategy!r} (use pack or spread)",
                errors=[{"loc": ["strategy"], "msg": "pack | spread"}],
            )


@dataclass(frozen=True)
class FilterReport:
    """Why hosts were rejected: ``rejected`` maps every reason, in filter order, to a count.

    Each host is counted once, under the first filter that rejected it, so
    ``sum(rejected.values()) + passed == total``.
    """

    total: int
    rejected: dict[str, int]
    passed: int

    def message(self) -> str:
        """``"12 hosts: 9 short of memory, 3 in maintenance"``: non-zero reasons, most first."""
        head = f"{self.total} host" if self.total == 1 else f"{self.total} hosts"
        order = {reason: i for i, reason in enumerate(self.rejected)}
        reasons = sorted(
            (r for r, n in self.rejected.items() if n > 0),
            key=lambda r: (-self.rejected[r], order[r]),
        )
        if not reasons:
            return head
        return head + ": " + ", ".join(f"{self.rejected[r]} {r}" for r in reasons)
