"""``SimFleet``: many simulated hosts in one process, sharing one ``SimConfig``.

A fleet is a read-only mapping of host name → ``SimDriver``, so it can stand in
wherever the agent expects "the drivers of my hosts". Hosts are plain objects with
no task or thread of their own: ten thousand of them cost a few megabytes.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from novacron.core.errors import Conflict, NotFound
from novacron.hypervisor.base import VMInfo
from novacron.hypervisor.sim.config import SimConfig
from novacron.hypervisor.sim.driver import SimDriver


class SimFleet(Mapping[str, SimDriver]):
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config if config is not None else SimConfig()
        self.rng = random.Random(self.config.seed)
        self._hosts: dict[str, SimDriver] = {}

    @classmethod
    def build(
        cls,
        prefix: str,
        count: int,
        vcpus: int = 32,
        memory_mib: int = 131072,
        disk_gib: int = 1000,
        *,
        capabilities: Collection[str] | None = None,
        labels: dict[str, str] | None = None,
        config: SimConfig | None = None,
        delays: Mapping[str, float] | None = None,
        failure_rates: Mapping[str, float] | None = None,
        speed: float | None = None,
        seed: int | None = None,
    ) -> SimFleet:
        """``count`` identical hosts named ``f"{prefix}{i:03d}"`` for i in 1..count.

        ``delays``/``failure_rates``/``speed`` are merged into ``config`` (or the defaults);
        ``seed`` seeds the fleet's failure draws.
        """
        if config is None:
            config = SimConfig(seed=seed)
        elif seed is not None:
            config.seed = seed
        config.update(delays=delays, failure_rates=failure_rates, speed=speed)
        fleet = cls(config)
        for i in range(1, count + 1):
            fleet.add_host(
                f"{prefix}{i:03d}",
                vcpus=vcpus,
                memory_mib=memory_mib,
                disk_gib=disk_gib,
                capabilities=capabilities,
                labels=labels,
            )
        return fleet

    def add_host(
        self,
        name: str,
        *,
        vcpus: int = 32,
        memory_mib: int = 131072,
        disk_gib: int = 1000,
        capabilities: Collection[str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> SimDriver:
        if name in self._hosts:
            raise Conflict(f"sim: host {name} already exists")
        driver = SimDriver(
            name,
            vcpus=vcpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            capabilities=capabilities,
            labels=labels,
            config=self.config,
            rng=self.rng,
        )
        self._hosts[name] = driver
        return driver

    def remove_host(self, name: str) -> None:
        """The host leaves the fleet for good (it disappears from reports)."""
        self.host(name)
        del self._hosts[name]

    def host(self, name: str) -> SimDriver:
        driver = self._hosts.get(name)
        if driver is None:
            raise NotFound(f"sim: no host {name}")
        return driver

    def crash(self, name: str) -> None:
        self.host(name).crash()

    def recover(self, name: str) -> None:
        self.host(name).recover()

    def crash_vm(self, name: str, vm_id: str) -> VMInfo:
        return self.host(name).crash_vm(vm_id)

    def up_hosts(self) -> list[SimDriver]:
        return [d for d in self._hosts.values() if not d.crashed]

    def crashed_hosts(self) -> list[str]:
        return [name for name, d in self._hosts.items() if d.crashed]

    def configure(
        self,
        *,
        delays: Mapping[str, Any] | None = None,
        failure_rates: Mapping[str, Any] | None = None,
        speed: Any = None,
    ) -> dict[str, Any]:
        """Merge new delays/failure rates into the shared config; returns the result."""
        self.config.update(delays=delays, failure_rates=failure_rates, speed=speed)
        return self.config.as_dict()

    # Mapping
    def __getitem__(self, name: str) -> SimDriver:
        return self._hosts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)

    def __repr__(self) -> str:
        return f"<SimFleet hosts={len(self._hosts)} crashed={len(self.crashed_hosts())}>"
