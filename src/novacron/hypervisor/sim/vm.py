"""The sim driver's record of one VM, shared by its power states (``driver``) and its
live migration (``migration``)."""

from __future__ import annotations

from dataclasses import dataclass

from novacron.core.errors import Invalid
from novacron.hypervisor.base import PAUSED, RUNNING, VMSpec
from novacron.hypervisor.sim.config import SimWorkload

#: VMs in these states hold their memory on the host.
RESIDENT = frozenset({RUNNING, PAUSED})


@dataclass(slots=True)
class SimVM:
    """One VM as a sim host keeps it."""

    spec: VMSpec
    power_state: str
    load: float
    """Fraction of each vCPU the guest keeps busy while running (synthetic, stable per id)."""
    workload: SimWorkload
    """How it dirties memory (synthetic, stable per id, unless ``set_workload``)."""
    incoming: bool = False
    """Prepared here by ``prepare_incoming``; not finished or rolled back yet."""
    received: bool = False
    """An incoming VM whose migration completed: ``finish_migration`` may run it."""
    fault: str = ""
    """Why it is crashed, when the sim knows."""
    booted_at: float | None = None
    cpu_time_s: float = 0.0
    """CPU seconds accumulated up to ``cpu_mark``."""
    cpu_mark: float | None = None
    """Since when the VM is burning CPU (running only)."""


def validate_spec(spec: VMSpec) -> None:
    """Refuse a spec no sim host can hold: ``Invalid``, with one error per bad field."""
    errors = [
        {"loc": [field], "msg": "must be >= 1" if field != "disk_gib" else "must be >= 0"}
        for field, value, low in (
            ("vcpus", spec.vcpus, 1),
            ("memory_mib", spec.memory_mib, 1),
            ("disk_gib", spec.disk_gib, 0),
        )
        if value < low
    ]
    if not spec.id:
        errors.insert(0, {"loc": ["id"], "msg": "must not be empty"})
    if errors:
        raise Invalid(f"invalid VM spec for {spec.id or '<no id>'}", errors=errors)
