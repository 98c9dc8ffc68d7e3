"""Live migration between two QEMU drivers (two "hosts" with their own data dirs) on
this machine, with real guests: disks mirrored over NBD, memory over QMP ``migrate``.

Faults are injected for real: the destination QEMU killed mid-stream, the link cut
(a WAN link proxy between the hosts), a cancel. After each, the guest must still run
on the source — its heartbeat counter keeps counting — and nothing is left on the
destination.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from novacron.compute.migration.policy import Objective
from novacron.hypervisor.base import RUNNING, MigrationProgress
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.hypervisor.qemu.tiny import guest_cmdline
from novacron.testing import migration as migrating
from novacron.testing.migration import Route, boot, serial_log
from novacron.testing.qemu import guest_run, heartbeats, wait_for_text
from novacron.testing.wan import WanLink, route_migration

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

Hosts = tuple[QemuDriver, QemuDriver]


async def start_migration(
    a: QemuDriver,
    b: QemuDriver,
    *,
    objective: Objective | None = None,
    policy: str = "adaptive",
    via: Route | None = None,
) -> dict[str, Any]:
    spec = a._get("vm-1").spec
    return await migrating.start_migration(a, b, spec, objective=objective, policy=policy, via=via)


async def wait_done(a: QemuDriver, timeout_s: float = 120.0) -> MigrationProgress:
    return await migrating.wait_done(a, "vm-1", timeout_s)


async def rolled_back(a: QemuDriver, b: QemuDriver) -> None:
    """Roll both sides back; the guest must go on counting on ``a``, nothing on ``b``."""
    await a.rollback_migration("vm-1", source=True)
    await b.rollback_migration("vm-1", source=False)
    assert not (b.vms_dir / "vm-1").exists()
    assert "vm-1" not in {v.id for v in await b.list_vms()}
    assert (await a.get_vm("vm-1")).power_state == RUNNING
    last = max(heartbeats(serial_log(a).read_text(errors="replace")))
    await asyncio.to_thread(wait_for_text, serial_log(a), f"NOVACRON-HB {last + 2}")
    await a.destroy("vm-1")


async def slow_migration(a: QemuDriver, b: QemuDriver, link: WanLink) -> None:
    """A busy guest over an 8 MiB/s link without post-copy: it runs until stopped."""
    await boot(a, b, kernel_args=guest_cmdline(dirty_mbps=50))
    slow = Objective(allow_postcopy=False)
    await start_migration(a, b, objective=slow, via=lambda t: route_migration(link, t))
    await asyncio.sleep(1.5)
    assert not (await a.migration_status("vm-1")).done


def test_migrates_a_running_guest_with_its_disk_writes(make_hosts: Callable[[], Hosts]) -> None:
    a, b = make_hosts()

    async def scenario() -> None:
        await boot(a, b)
        sock = a.serial_socket("vm-1")
        await asyncio.to_thread(guest_run, sock, "echo before > /data/before.txt; sync")
        # A 16 MiB/s link: the ~90 MiB of non-zero RAM take seconds to stream.
        await start_migration(a, b, objective=Objective(link_bandwidth_bps=16 * 1024 * 1024))
        # Written while the disk is mirrored and memory streamed.
        await asyncio.to_thread(guest_run, sock, "echo during > /data/during.txt; sync")
        assert not (await a.migration_status("vm-1")).done
        progress = await wait_done(a)
        assert progress.status == "completed", progress.error
        assert progress.transferred_bytes > 0 and progress.downtime_ms is not None
        info = await b.finish_migration("vm-1", source=False)
        assert info is not None and info.power_state == RUNNING and not info.migrating
        assert await a.finish_migration("vm-1", source=True) is None
        assert not (a.vms_dir / "vm-1").exists()
        # The guest goes on counting on b, with its disk as it was.
        text = serial_log(b).read_text(errors="replace")
        last = max(heartbeats(text) or [0])
        await asyncio.to_thread(wait_for_text, serial_log(b), f"NOVACRON-HB {last + 2}")
        out = await asyncio.to_thread(
            guest_run, b.serial_socket("vm-1"), "cat /data/before.txt /data/during.txt"
        )
        assert "before" in out and "during" in out
        await b.destroy("vm-1")

    asyncio.run(scenario())


def test_destination_dying_rolls_back(make_hosts: Callable[[], Hosts]) -> None:
    a, b = make_hosts()

    async def scenario() -> None:
        await boot(a, b, kernel_args=guest_cmdline(dirty_mbps=50))
        slow = Objective(link_bandwidth_bps=8 * 1024 * 1024, allow_postcopy=False)
        await start_migration(a, b, objective=slow)
        await asyncio.sleep(1.0)
        proc = b._get("vm-1").proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGKILL)
        progress = await wait_done(a)
        assert progress.status == "failed" and progress.error
        await rolled_back(a, b)

    asyncio.run(scenario())


def test_cancel_keeps_the_guest_on_the_source(make_hosts: Callable[[], Hosts]) -> None:
    a, b = make_hosts()

    async def scenario() -> None:
        await boot(a, b, kernel_args=guest_cmdline(dirty_mbps=50))
        slow = Objective(link_bandwidth_bps=8 * 1024 * 1024, allow_postcopy=False)
        await start_migration(a, b, objective=slow)
        await asyncio.sleep(1.0)
        await a.cancel_migration("vm-1")
        progress = await a.migration_status("vm-1")
        assert progress.status == "cancelled"
        await rolled_back(a, b)

    asyncio.run(scenario())


@pytest.mark.parametrize("cut", ["reset", "blackhole"])
def test_a_broken_link_rolls_back(make_hosts: Callable[[], Hosts], cut: str) -> None:
    """The WAN link between the hosts breaks mid-stream: connections reset (the stream
    fails by itself), or a dead router swallows everything (nothing errors: the caller's
    timeout cancels, and the connections are yanked so nothing waits on them)."""
    a, b = make_hosts()

    async def scenario() -> None:
        with WanLink(rate_bytes_per_s=8 * 1024 * 1024).start() as link:
            await slow_migration(a, b, link)
            link.cut(cut)  # type: ignore[arg-type]
            if cut == "blackhole":
                await asyncio.sleep(1.0)
                await a.cancel_migration("vm-1")  # what the server does at its timeout
            progress = await wait_done(a, 30)
        expected = "failed" if cut == "reset" else "cancelled"
        assert progress.status == expected and progress.error, progress
        await rolled_back(a, b)

    asyncio.run(scenario())
