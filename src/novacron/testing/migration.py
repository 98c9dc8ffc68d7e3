"""Driving one live migration between two driver "hosts" directly, as the server's
handler does through the agents (tests of the QEMU driver's migration use it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from novacron.compute.migration.policy import Objective, plan_migration, qemu_default_plan
from novacron.hypervisor.base import HypervisorDriver, MigrationProgress, VMSpec
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.testing.qemu import wait_for_text

Route = Callable[[dict[str, Any]], dict[str, Any]]


async def start_migration(
    src: HypervisorDriver,
    dst: HypervisorDriver,
    spec: Any,
    *,
    objective: Objective | None = None,
    policy: str = "adaptive",
    via: Route | None = None,
    tls: bool = False,
) -> dict[str, Any]:
    """Source facts → plan → destination prepared → stream started (returns at once);
    ``via`` reroutes the target (e.g. through a ``WanLink``). Returns the target."""
    facts = await src.prepare_outgoing(spec.id, {"tls": tls})
    goal = objective or Objective()
    plan = (
        qemu_default_plan()
        if policy == "qemu-default"
        else plan_migration(goal, facts["ram_bytes"], facts["dirty_rate_bps"])
    ).as_dict()
    target = await dst.prepare_incoming(spec, {**facts, "plan": plan})
    if via is not None:
        target = via(target)
    options = {
        "plan": plan,
        "policy": policy,
        "objective": goal.__dict__,
        "dirty_rate_bps": facts.get("dirty_rate_bps"),
        "tls": tls,
    }
    await src.migrate(spec.id, target, options)
    return target


async def wait_done(
    src: HypervisorDriver, vm_id: str, timeout_s: float = 120.0
) -> MigrationProgress:
    """Poll the source until the migration ended (completed, failed or cancelled)."""
    deadline = time.monotonic() + timeout_s
    while True:
        progress = await src.migration_status(vm_id)
        if progress.done:
            return progress
        if time.monotonic() > deadline:
            raise AssertionError(f"migration of {vm_id} still {progress.status}")
        await asyncio.sleep(0.1)


def mover_spec(driver: QemuDriver, **kw: Any) -> VMSpec:
    """The 256 MiB tiny guest ``vm-1`` the migration tests move (``driver.test_ref`` is
    the tiny image's ref, set by the ``make_hosts`` fixture)."""
    ref = driver.test_ref  # type: ignore[attr-defined]
    return VMSpec(id="vm-1", name="mover", vcpus=1, memory_mib=256, disk_gib=1, image_ref=ref, **kw)


def serial_log(driver: QemuDriver) -> Path:
    return driver.vms_dir / "vm-1" / "serial.log"


async def boot(a: QemuDriver, b: QemuDriver, **kw: Any) -> None:
    """Open both hosts; boot ``vm-1`` on ``a`` and wait for its first heartbeat."""
    for driver in (a, b):
        await driver.open()
    await a.create(mover_spec(a, **kw))
    await asyncio.to_thread(wait_for_text, serial_log(a), "NOVACRON-HB 1")
