"""Knobs shared by every simulated host of a fleet: per-operation delays and failure rates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from novacron.core.errors import Invalid

#: VM operations: they mutate state, take time and can be made to fail.
VM_OPERATIONS = ("create", "start", "shutdown", "stop", "reboot", "pause", "resume", "destroy")
#: Read operations of the driver API; no delay by default (a real driver answers them quickly).
READ_OPERATIONS = ("host_info", "list_vms", "get_vm")
OPERATIONS = VM_OPERATIONS + READ_OPERATIONS


def default_delays() -> dict[str, float]:
    delays = dict.fromkeys(VM_OPERATIONS, 0.05)
    delays["create"] = 0.2
    delays.update(dict.fromkeys(READ_OPERATIONS, 0.0))
    return delays


@dataclass
class SimConfig:
    """How a simulated fleet behaves.

    ``delays`` are seconds per operation, divided by ``speed`` (``speed=10`` runs ten
    times faster). ``failure_rates`` are the probability in [0, 1] that an operation
    raises ``DriverError("sim: injected failure in <op>")``, leaving state unchanged;
    draws come from ``random.Random(seed)``, so a seeded fleet fails the same way
    every run (given the same order of calls).
    """

    delays: dict[str, float] = field(default_factory=default_delays)
    failure_rates: dict[str, float] = field(default_factory=dict)
    speed: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        delays, rates = self.delays, self.failure_rates
        self.delays, self.failure_rates = default_delays(), {}
        self.update(delays=delays, failure_rates=rates, speed=self.speed)

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
        }


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
