"""Knobs shared by every simulated host of a fleet: per-operation delays and failure
rates, and how live migrations behave."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from novacron.core.errors import Invalid

#: VM operations: they mutate state, take time and can be made to fail.
VM_OPERATIONS = ("create", "start", "shutdown", "stop", "reboot", "pause", "resume", "destroy")
#: Read operations of the driver API; no delay by default (a real driver answers them quickly).
READ_OPERATIONS = ("host_info", "list_vms", "get_vm")
#: Live-migration steps. The delay of ``migrate`` is its ``setup`` phase (the call itself
#: returns at once) and its failure rate makes a started migration fail mid-way.
MIGRATION_OPERATIONS = ("prepare_incoming", "migrate", "finish_migration", "rollback_migration")
OPERATIONS = VM_OPERATIONS + READ_OPERATIONS + MIGRATION_OPERATIONS


def default_delays() -> dict[str, float]:
    delays = dict.fromkeys(VM_OPERATIONS + MIGRATION_OPERATIONS, 0.05)
    delays["create"] = 0.2
    delays.update(dict.fromkeys(READ_OPERATIONS, 0.0))
    return delays


@dataclass(frozen=True, slots=True)
class SimWorkload:
    """What a guest does to its memory, as far as live migration cares."""

    dirty_rate_bps: float
    """Bytes per second the guest dirties."""
    zero_fraction: float
    """Fraction of its RAM that is zero pages."""
    working_set_fraction: float
    """Fraction of its RAM it writes to (bounds the dirty bytes of one round)."""


def _unit(vm_id: str, salt: str) -> float:
    """A stable number in [0, 1] per VM id and salt."""
    return (zlib.crc32(f"{salt}:{vm_id}".encode()) % 1001) / 1000


def _between(bounds: tuple[float, float], unit: float) -> float:
    low, high = bounds
    return low + (high - low) * unit


@dataclass
class SimConfig:
    """How a simulated fleet behaves.

    ``delays`` are seconds per operation, divided by ``speed`` (``speed=10`` runs ten
    times faster). ``failure_rates`` are the probability in [0, 1] that an operation
    raises ``DriverError("sim: injected failure in <op>")``, leaving state unchanged;
    draws come from ``random.Random(seed)``, so a seeded fleet fails the same way
    every run (given the same order of calls).

    Live migrations run the model of ``novacron.compute.migration.model`` over
    ``migration_bandwidth_bps`` (unless the target or the options say otherwise) and
    play its timeline in real time: a simulated second takes
    ``migration_time_scale / speed`` real seconds. Each guest gets a synthetic
    workload, stable per VM id, drawn from the three ranges below
    (``SimDriver.set_workload`` overrides it per VM).
    """

    delays: dict[str, float] = field(default_factory=default_delays)
    failure_rates: dict[str, float] = field(default_factory=dict)
    speed: float = 1.0
    seed: int | None = None
    migration_bandwidth_bps: float = 1.25e9
    """Link bandwidth of every migration: 10 Gbit/s."""
    migration_time_scale: float = 0.01
    """Real seconds per simulated migration second (before ``speed``)."""
    dirty_rate_range: tuple[float, float] = (0.0, 200e6)
    """Bytes per second."""
    zero_fraction_range: tuple[float, float] = (0.1, 0.6)
    working_set_range: tuple[float, float] = (0.05, 0.5)
    """Writable working set, as a fraction of RAM."""

    def __post_init__(self) -> None:
        delays, rates = self.delays, self.failure_rates
        self.delays, self.failure_rates = default_delays(), {}
        self.update(delays=delays, failure_rates=rates, speed=self.speed)
        errors = _migration_errors(self)
        if errors:
            raise Invalid("invalid sim configuration", errors=errors)

    def workload(self, vm_id: str) -> SimWorkload:
        """The synthetic workload of ``vm_id`` (the same for the same id, on every host)."""
        return SimWorkload(
            dirty_rate_bps=_between(self.dirty_rate_range, _unit(vm_id, "dirty")),
            zero_fraction=_between(self.zero_fraction_range, _unit(vm_id, "zero")),
            working_set_fraction=_between(self.working_set_range, _unit(vm_id, "wss")),
        )

    def migration_seconds(self, simulated_s: float) -> float:
        """Real seconds that ``simulated_s`` seconds of a migration take."""
        return simulated_s * self.migration_time_scale / self.speed

    def delay(self, op: str) -> float:
        """Seconds ``op`` takes, after the speed factor."""
        return self.delays.get(op, 0.0) / self.speed

    def failure_rate(self, op: str) -> float:
        return self.failure_rates.get(op, 0.0)

    def update(
        self,
        *,
        delays: Mapping[str, Any] | None = None,
        failure_rates: Mapping[str, Any] | None = None,
        speed: Any = None,
    ) -> None:
        """Merge new values in. Validates everything first: on ``Invalid`` nothing changes."""
        errors: list[dict[str, Any]] = []
        new_delays = _checked(delays or {}, "delays", errors, upper=None)
        new_rates = _checked(failure_rates or {}, "failure_rates", errors, upper=1.0)
        new_speed = self.speed
        if speed is not None:
            if not _is_number(speed) or not float(speed) > 0 or not math.isfinite(speed):
                errors.append({"loc": ["speed"], "msg": "must be a finite number > 0"})
            else:
                new_speed = float(speed)
        if errors:
            raise Invalid("invalid sim configuration", errors=errors)
        self.delays.update(new_delays)
        self.failure_rates.update(new_rates)
        self.speed = new_speed

    def as_dict(self) -> dict[str, Any]:
        return {
            "delays": dict(self.delays),
            "failure_rates": {op: self.failure_rates.get(op, 0.0) for op in OPERATIONS},
            "speed": self.speed,
            "seed": self.seed,
            "migration": {
                "bandwidth_bps": self.migration_bandwidth_bps,
                "time_scale": self.migration_time_scale,
                "dirty_rate_range": list(self.dirty_rate_range),
                "zero_fraction_range": list(self.zero_fraction_range),
                "working_set_range": list(self.working_set_range),
            },
        }


def _migration_errors(config: SimConfig) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    bandwidth, scale = config.migration_bandwidth_bps, config.migration_time_scale
    if not _is_number(bandwidth) or not math.isfinite(bandwidth) or bandwidth <= 0:
        errors.append({"loc": ["migration_bandwidth_bps"], "msg": "must be a finite number > 0"})
    if not _is_number(scale) or not math.isfinite(scale) or scale < 0:
        errors.append({"loc": ["migration_time_scale"], "msg": "must be a finite number >= 0"})
    for name, upper in (
        ("dirty_rate_range", math.inf),
        ("zero_fraction_range", 1.0),
        ("working_set_range", 1.0),
    ):
        low, high = getattr(config, name)
        if not (_is_number(low) and _is_number(high) and 0 <= low <= high <= upper):
            errors.append(
                {"loc": [name], "msg": f"must be (low, high) with 0 <= low <= high <= {upper}"}
            )
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked(
    values: Mapping[str, Any], name: str, errors: list[dict[str, Any]], *, upper: float | None
) -> dict[str, float]:
    out: dict[str, float] = {}
    for op, value in values.items():
        loc = [name, op]
        if op not in OPERATIONS:
            known = ", ".join(OPERATIONS)
            errors.append({"loc": loc, "msg": f"unknown operation (one of: {known})"})
        elif not _is_number(value) or not math.isfinite(value) or value < 0:
            errors.append({"loc": loc, "msg": "must be a finite number >= 0"})
        elif upper is not None and value > upper:
            errors.append({"loc": loc, "msg": f"must be <= {upper}"})
        else:
            out[op] = float(value)
    return out
