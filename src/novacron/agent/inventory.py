"""What the agent reports about its hosts: host info and VM lists, cheaply.

Sim hosts are read synchronously (no simulated delay: the sim delays apply to VM
operations, not to reporting), so a payload for 10,000 hosts takes no awaits.
Hosts that are down (a crashed sim host, a driver that fails) are left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from novacron.core.errors import DriverError
from novacron.hypervisor.base import HostInfo, HypervisorDriver, VMInfo
from novacron.hypervisor.sim import SimDriver

log = logging.getLogger(__name__)


def host_dict(info: HostInfo) -> dict[str, Any]:
    """``info.as_dict()`` without ``dataclasses.asdict``'s deep copy (ten times faster)."""
    d = dict(vars(info))
    d["capabilities"] = list(info.capabilities)
    d["labels"] = dict(info.labels)
    return d


def vm_dict(vm: VMInfo) -> dict[str, Any]:
    return dict(vars(vm))


async def host_infos(drivers: Mapping[str, HypervisorDriver]) -> list[dict[str, Any]]:
    """``HostInfo`` dicts of every host that is up, in the mapping's order."""
    return [entry["info"] for entry in await host_reports(drivers, with_vms=False)]


async def host_reports(
    drivers: Mapping[str, HypervisorDriver], *, with_vms: bool = True
) -> list[dict[str, Any]]:
    """``[{"name", "info", "vms"}]`` for every host that is up (heartbeat entries)."""
    slots: list[dict[str, Any] | None] = []
    pending: list[tuple[int, str, HypervisorDriver]] = []
    for name, driver in drivers.items():
        if isinstance(driver, SimDriver):
            if driver.crashed:
                continue
            entry: dict[str, Any] = {"name": name, "info": host_dict(driver.host_info_now())}
            if with_vms:
                entry["vms"] = [vm_dict(vm) for vm in driver.list_vms_now()]
            slots.append(entry)
        else:
            pending.append((len(slots), name, driver))
            slots.append(None)
    if pending:
        results = await asyncio.gather(
            *(_report(name, driver, with_vms) for _, name, driver in pending)
        )
        for (index, _, _), result in zip(pending, results, strict=True):
            slots[index] = result
    return [entry for entry in slots if entry is not None]


async def _report(name: str, driver: HypervisorDriver, with_vms: bool) -> dict[str, Any] | None:
    try:
        entry: dict[str, Any] = {"name": name, "info": host_dict(await driver.host_info())}
        if with_vms:
            entry["vms"] = [vm_dict(vm) for vm in await driver.list_vms()]
    except DriverError as exc:
        log.debug("host %s left out of the report: %s", name, exc)
        return None
    return entry
