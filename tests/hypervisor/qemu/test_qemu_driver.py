"""The QEMU driver against real QEMU processes booting the tiny guest (TCG here).

Each test boots one or two guests (~4 s each under TCG); they share one event loop per
test through ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from novacron.core.errors import Conflict, InvalidState, NotFound
from novacron.hypervisor.base import CRASHED, PAUSED, RUNNING, STOPPED, VMSpec
from novacron.hypervisor.qemu import kill_guests
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.testing.cluster import free_port
from novacron.testing.qemu import (
    guest_run,
    guest_type,
    heartbeats,
    tiny_image_ref,
    wait_for_text,
)

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

READY = "NOVACRON-GUEST-READY"


@pytest.fixture
def make_driver(tiny_image: Any, tmp_path: Path) -> Iterator[Callable[[], QemuDriver]]:
    ref, image_dir = tiny_image_ref(tiny_image, tmp_path / "images")

    async def images(_ref: dict[str, Any]) -> Path:
        return image_dir

    def make() -> QemuDriver:
        driver = QemuDriver("h1", tmp_path / "agent", accel="tcg", images=images)
        driver.test_ref = ref  # type: ignore[attr-defined]
        return driver

    yield make
    kill_guests(tmp_path)  # whatever a failed test left running


def spec(driver: QemuDriver, vm_id: str = "vm-1", **kw: Any) -> VMSpec:
    values: dict[str, Any] = {
        "id": vm_id,
        "name": kw.pop("name", vm_id),
        "vcpus": 1,
        "memory_mib": 256,
        "disk_gib": 1,
        "image_ref": driver.test_ref,  # type: ignore[attr-defined]
    }
    values.update(kw)
    return VMSpec(**values)


async def with_vm(make_driver: Callable[[], QemuDriver], **kw: Any) -> QemuDriver:
    """An opened driver with VM ``vm-1`` created (and booting)."""
    driver = make_driver()
    await driver.open()
    await driver.create(spec(driver, **kw))
    return driver


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro_fn())


def serial_log(driver: QemuDriver, vm_id: str = "vm-1") -> Path:
    return driver.vms_dir / vm_id / "serial.log"


async def until(predicate: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


def test_lifecycle_of_a_real_guest(make_driver: Callable[[], QemuDriver]) -> None:
    async def scenario() -> None:
        driver = make_driver()
        await driver.open()
        info = await driver.create(spec(driver, name="web"))
        assert info.power_state == RUNNING and info.fault == ""
        log = serial_log(driver)
        await asyncio.to_thread(wait_for_text, log, "NOVACRON-HB 2")
        assert "novacron.hostname=web" in " ".join(
            os.popen(f"cat /proc/{_pid(driver)}/cmdline | tr '\\0' ' '").read().split()
        )

        # Pause freezes the guest: no heartbeat while paused, counting goes on after.
        assert (await driver.pause("vm-1")).power_state == PAUSED
        frozen = heartbeats(log.read_text())[-1]
        await asyncio.sleep(2.5)
        assert heartbeats(log.read_text())[-1] <= frozen + 1
        assert (await driver.resume("vm-1")).power_state == RUNNING
        await asyncio.to_thread(wait_for_text, log, f"NOVACRON-HB {frozen + 2}")

        # Reboot: the guest boots again (a second ready marker), QEMU stays the same process.
        pid = _pid(driver)
        assert (await driver.reboot("vm-1")).power_state == RUNNING
        await asyncio.to_thread(wait_for_text, log, READY, count=2)
        assert _pid(driver) == pid

        # Graceful shutdown through ACPI: the guest powers itself off, long before the timeout.
        info = await driver.shutdown("vm-1", timeout_s=60)
        assert info.power_state == STOPPED and info.fault == ""
        assert "NOVACRON-POWEROFF" in log.read_text()  # the guest acted on the power button
        assert not _alive(pid)

        # Start again; force stop; start from the kept disk.
        assert (await driver.start("vm-1")).power_state == RUNNING
        await asyncio.to_thread(wait_for_text, log, READY, count=3)
        assert (await driver.stop("vm-1")).power_state == STOPPED
        assert (await driver.stop("vm-1")).power_state == STOPPED  # idempotent

        # Delete removes every file the VM had.
        vm_dir = driver.vms_dir / "vm-1"
        assert vm_dir.exists()
        await driver.destroy("vm-1")
        assert not vm_dir.exists()
        assert list(driver.run_dir.iterdir()) == []
        await driver.destroy("vm-1")  # idempotent
        with pytest.raises(NotFound):
            await driver.get_vm("vm-1")
        await driver.close()

    run(scenario)


def test_killed_qemu_is_crashed_with_the_reason(make_driver: Callable[[], QemuDriver]) -> None:
    async def scenario() -> None:
        driver = make_driver()
        await driver.open()
        changes: list[str] = []
        driver.on_change = lambda: changes.append("x")
        await driver.create(spec(driver))
        os.kill(_pid(driver), signal.SIGKILL)
        await until(lambda: driver._vms["vm-1"].power_state == CRASHED)
        info = await driver.get_vm("vm-1")
        assert info.fault.startswith("QEMU exited unexpectedly (killed by SIGKILL)")
        assert changes, "the agent is told at once, not at the next heartbeat"
        # The record on disk says so too (a restarted agent keeps the story).
        assert '"power": "crashed"' in (driver.vms_dir / "vm-1" / "vm.json").read_text()
        assert (await driver.start("vm-1")).power_state == RUNNING
        assert (await driver.get_vm("vm-1")).fault == ""
        await driver.destroy("vm-1")
        await driver.close()

    run(scenario)


def test_guests_survive_an_agent_restart_and_are_reattached(
    make_driver: Callable[[], QemuDriver],
) -> None:
    async def first_agent() -> int:
        driver = await with_vm(make_driver)
        await asyncio.to_thread(wait_for_text, serial_log(driver), "NOVACRON-HB 1")
        pid = _pid(driver)
        await driver.close()  # the agent stops; QEMU must not
        return pid

    pid = asyncio.run(first_agent())
    assert _alive(pid)

    async def second_agent() -> None:
        driver = make_driver()
        await driver.open()
        info = await driver.get_vm("vm-1")
        assert info.power_state == RUNNING and info.uptime_s > 0
        assert _pid(driver) == pid
        log = serial_log(driver)
        before = heartbeats(log.read_text())[-1]
        await asyncio.to_thread(wait_for_text, log, f"NOVACRON-HB {before + 2}")
        # QMP works on the re-attached process …
        assert (await driver.pause("vm-1")).power_state == PAUSED
        assert (await driver.resume("vm-1")).power_state == RUNNING
        # … and a death is noticed without being QEMU's parent.
        os.kill(pid, signal.SIGKILL)
        await until(lambda: driver._vms["vm-1"].power_state == CRASHED)
        assert "QEMU exited unexpectedly" in (await driver.get_vm("vm-1")).fault
        await driver.destroy("vm-1")
        await driver.close()

    asyncio.run(second_agent())


def test_a_guest_that_died_while_the_agent_was_away_is_crashed(
    make_driver: Callable[[], QemuDriver],
) -> None:
    async def first_agent() -> int:
        driver = await with_vm(make_driver)
        pid = _pid(driver)
        await driver.close()
        return pid

    pid = asyncio.run(first_agent())
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)

    async def second_agent() -> None:
        driver = make_driver()
        await driver.open()
        info = await driver.get_vm("vm-1")
        assert info.power_state == CRASHED
        assert info.fault == "QEMU exited while the agent was not running"
        await driver.destroy("vm-1")

    asyncio.run(second_agent())


def test_snapshot_revert_brings_back_disk_and_memory(make_driver: Callable[[], QemuDriver]) -> None:
    async def scenario() -> None:
        driver = await with_vm(make_driver)
        await asyncio.to_thread(wait_for_text, serial_log(driver), READY)
        sock = driver.serial_socket("vm-1")

        async def sh(command: str) -> str:
            return await asyncio.to_thread(guest_run, sock, command)

        await sh("echo original > /data/state.txt; sync")
        snap = await driver.snapshot_create("vm-1", "before")
        assert snap.name == "before" and snap.vm_state_bytes > 0  # RAM saved: it ran
        with pytest.raises(Conflict):
            await driver.snapshot_create("vm-1", "before")
        await sh("echo changed > /data/state.txt; sync")
        assert "changed" in await sh("cat /data/state.txt")

        info = await driver.snapshot_revert("vm-1", "before")
        assert info.power_state == RUNNING
        assert "original" in await sh("cat /data/state.txt")

        # Stopped: a disk-only snapshot, and reverting keeps the VM stopped.
        await driver.stop("vm-1")
        disk_only = await driver.snapshot_create("vm-1", "offline")
        assert disk_only.vm_state_bytes == 0
        assert [s.name for s in await driver.snapshot_list("vm-1")] == ["before", "offline"]
        assert (await driver.snapshot_revert("vm-1", "offline")).power_state == STOPPED
        # Reverting a stopped VM to a RAM snapshot resumes the saved guest.
        assert (await driver.snapshot_revert("vm-1", "before")).power_state == RUNNING
        assert "original" in await sh("cat /data/state.txt")
        await driver.snapshot_delete("vm-1", "before")
        await driver.snapshot_delete("vm-1", "before")  # idempotent
        assert [s.name for s in await driver.snapshot_list("vm-1")] == ["offline"]
        await driver.destroy("vm-1")
        await driver.close()

    run(scenario)


def test_resize_clone_console_stats_and_port_forward(make_driver: Callable[[], QemuDriver]) -> None:
    async def scenario() -> None:
        driver = make_driver()
        await driver.open()
        port = free_port()
        network = {"mode": "user", "forwards": [{"host_port": port, "guest_port": 8080}]}
        await driver.create(spec(driver, name="web", network=network))
        log = serial_log(driver)
        await asyncio.to_thread(wait_for_text, log, READY)

        # User-mode networking with a port forward reaches the guest's web server.
        page = await asyncio.to_thread(_fetch, f"http://127.0.0.1:{port}/")
        assert "web" in page

        # The console log from an offset, and from the end.
        data, after = await driver.console_read("vm-1", 0, 1 << 20)
        assert READY.encode() in data and after == len(data)
        tail, end = await driver.console_read("vm-1", -10, 100)
        assert len(tail) == 10 and end >= after

        stats = await driver.vm_stats("vm-1")
        assert stats["cpu_time_s"] > 0 and stats["rss_bytes"] > 50 * 2**20
        assert stats["disk"]["read_bytes"] > 0

        with pytest.raises(InvalidState):
            await driver.resize("vm-1", vcpus=2, memory_mib=None, disk_gib=None)
        grown = await driver.resize("vm-1", vcpus=None, memory_mib=None, disk_gib=2)  # online
        assert grown.disk_gib == 2
        await asyncio.to_thread(
            guest_run, driver.serial_socket("vm-1"), "echo cloned-data > /data/c.txt; sync"
        )
        await driver.shutdown("vm-1", timeout_s=30)
        resized = await driver.resize("vm-1", vcpus=2, memory_mib=384, disk_gib=None)
        assert (resized.vcpus, resized.memory_mib) == (2, 384)

        # Clone of the stopped VM: a separate VM with the data, bootable.
        clone = await driver.clone(
            "vm-1", spec(driver, "vm-2", name="web-copy", vcpus=2, memory_mib=384)
        )
        assert clone.power_state == STOPPED
        await driver.start("vm-2")
        await asyncio.to_thread(wait_for_text, serial_log(driver, "vm-2"), READY)
        out = await asyncio.to_thread(
            guest_run, driver.serial_socket("vm-2"), "cat /data/c.txt; nproc"
        )
        assert "cloned-data" in out and "2" in out.split()
        for vm_id in ("vm-1", "vm-2"):
            await driver.destroy(vm_id)
        await driver.close()

    run(scenario)


def _fetch(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxies
            with direct.open(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _pid(driver: QemuDriver, vm_id: str = "vm-1") -> int:
    proc = driver._vms[vm_id].proc
    assert proc is not None
    return proc.pid


def _alive(pid: int) -> bool:
    from novacron.hypervisor.qemu.procstats import is_alive

    return is_alive(pid)


@pytest.fixture
def host_bridge() -> Iterator[str]:
    """A throw-away Linux bridge 10.77.<n>.1/24 (skips without CAP_NET_ADMIN)."""
    name = f"ncbr{os.getpid() % 10000}"
    added = subprocess.run(["ip", "link", "add", name, "type", "bridge"], capture_output=True)
    if added.returncode != 0:
        pytest.skip(f"cannot create a bridge here: {added.stderr.decode().strip()}")
    subprocess.run(["ip", "addr", "add", "10.77.0.1/24", "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "delete", name], capture_output=True)


def test_bridged_nic_on_a_host_bridge(
    make_driver: Callable[[], QemuDriver], host_bridge: str
) -> None:
    async def scenario() -> None:
        driver = make_driver()
        driver.bridge = host_bridge
        await driver.open()
        assert f"bridge:{host_bridge}" in driver.capabilities()
        network = {"mode": "bridge", "bridge": host_bridge}
        await driver.create(spec(driver, name="bridged", network=network))
        tap = driver._tap(driver._vms["vm-1"])
        assert tap is not None
        assert Path(f"/sys/class/net/{tap}/master").resolve().name == host_bridge
        await asyncio.to_thread(wait_for_text, serial_log(driver), READY)
        await asyncio.to_thread(
            guest_run, driver.serial_socket("vm-1"), "ip addr add 10.77.0.2/24 dev eth0"
        )
        page = await asyncio.to_thread(_fetch, "http://10.77.0.2:8080/")
        assert "bridged" in page
        stats = await driver.vm_stats("vm-1")
        assert stats["network"]["rx_bytes"] > 0 and stats["network"]["tx_bytes"] > 0
        await driver.destroy("vm-1")
        assert not Path(f"/sys/class/net/{tap}").exists()  # the tap goes with the VM
        await driver.close()

    run(scenario)


def test_a_qemu_that_lost_its_qmp_socket_is_killed_not_leaked(
    make_driver: Callable[[], QemuDriver],
) -> None:
    """Regression: a live but unreachable QEMU was reported crashed and left running."""

    async def first_agent() -> int:
        driver = await with_vm(make_driver)
        pid = _pid(driver)
        await driver.close()
        (driver.run_dir / "vm-1.qmp").unlink()  # e.g. a /tmp cleaner
        return pid

    pid = asyncio.run(first_agent())

    async def second_agent() -> None:
        driver = make_driver()
        await driver.open()
        info = await driver.get_vm("vm-1")
        assert info.power_state == CRASHED and "did not answer on QMP" in info.fault
        await until(lambda: not _alive(pid))
        assert (await driver.start("vm-1")).power_state == RUNNING  # the disk is free again
        await driver.destroy("vm-1")

    asyncio.run(second_agent())


def test_a_forced_stop_overtakes_a_graceful_stop_the_guest_ignores(
    make_driver: Callable[[], QemuDriver],
) -> None:
    """Regression: the forced stop queued behind the graceful one's 60 s wait."""

    async def scenario() -> None:
        driver = await with_vm(make_driver)
        log = serial_log(driver)
        await asyncio.to_thread(wait_for_text, log, READY)
        await asyncio.to_thread(guest_run, driver.serial_socket("vm-1"), "killall acpid")
        # The graceful stop's timeout: ACPI is ignored, so QEMU is powered off after it.
        info = await driver.shutdown("vm-1", timeout_s=3)
        assert info.power_state == STOPPED and info.fault == ""
        assert "NOVACRON-POWEROFF" not in log.read_text()  # the guest never saw it through

        await driver.start("vm-1")
        await asyncio.to_thread(wait_for_text, log, READY, count=2)
        await asyncio.to_thread(guest_run, driver.serial_socket("vm-1"), "killall acpid")
        graceful = asyncio.create_task(driver.shutdown("vm-1", timeout_s=120))
        await asyncio.sleep(1)
        assert not graceful.done()  # the guest ignores the power button
        forced = await asyncio.wait_for(driver.stop("vm-1"), 30)
        assert forced.power_state == STOPPED
        assert (await asyncio.wait_for(graceful, 10)).power_state == STOPPED
        await driver.destroy("vm-1")

    run(scenario)


def test_concurrent_clone_retries_make_one_good_clone(
    make_driver: Callable[[], QemuDriver],
) -> None:
    """Regression: the second of two concurrent clone calls deleted the first one's files."""

    async def scenario() -> None:
        driver = await with_vm(make_driver)
        await driver.stop("vm-1")
        copies = await asyncio.gather(
            driver.clone("vm-1", spec(driver, "vm-2")), driver.clone("vm-1", spec(driver, "vm-2"))
        )
        assert [c.id for c in copies] == ["vm-2", "vm-2"]
        assert (driver.vms_dir / "vm-2" / "disk.qcow2").exists()
        assert (await driver.start("vm-2")).power_state == RUNNING
        for vm_id in ("vm-1", "vm-2"):
            await driver.destroy(vm_id)

    run(scenario)


def test_a_leftover_directory_does_not_fail_a_retried_create(
    make_driver: Callable[[], QemuDriver],
) -> None:
    """Regression: an agent killed between mkdir and its record made every retry fail."""

    async def scenario() -> None:
        driver = make_driver()
        await driver.open()
        (driver.vms_dir / "vm-1").mkdir(parents=True)
        (driver.vms_dir / "vm-1" / "disk.qcow2").write_bytes(b"half-made")
        assert (await driver.create(spec(driver))).power_state == RUNNING
        await driver.destroy("vm-1")

    run(scenario)


def test_a_port_in_time_wait_is_free_for_a_forward(make_driver: Callable[[], QemuDriver]) -> None:
    """Regression: the driver refused ports QEMU itself can use (TIME_WAIT after a crash)."""
    import socket

    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the side that closes first keeps the port in TIME_WAIT
    client.close()
    listener.close()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.bind(("127.0.0.1", port))  # the condition under test: a plain bind refuses

    async def scenario() -> None:
        driver = make_driver()
        await driver.open()
        network = {"mode": "user", "forwards": [{"host_port": port, "guest_port": 8080}]}
        assert (await driver.create(spec(driver, network=network))).power_state == RUNNING
        await driver.destroy("vm-1")

    run(scenario)


def test_a_disk_image_gets_a_cloud_init_seed_on_a_cd_rom(
    make_driver: Callable[[], QemuDriver], tiny_image: Any, tmp_path: Path
) -> None:
    """Standard cloud images boot from their disk through the BIOS and read a NoCloud
    seed (hostname, SSH keys, user-data) from a CD-ROM labelled cidata."""
    import subprocess as sp

    import pycdlib

    disk_dir = tmp_path / "images" / "img-cloud"
    disk_dir.mkdir(parents=True)
    sp.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk_dir / "disk"), "1G"], check=True)

    async def images(_ref: dict[str, Any]) -> Path:
        return disk_dir

    async def scenario() -> None:
        driver = QemuDriver("h1", tmp_path / "agent2", accel="tcg", images=images)
        driver.test_ref = None  # type: ignore[attr-defined]
        await driver.open()
        ref = {"id": "img-cloud", "kind": "disk", "format": "qcow2", "files": {"disk": "-"}}
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0gnZ0ICVUg0dyIqdbnDq3P1ZRIDFwyQdbpK7ngW0gy a@b"
        cloud_init = {
            "ssh_authorized_keys": [key],
            "user_data": "#cloud-config\npackages: [htop]\n",
        }
        vm_spec = spec(driver, name="cloud-1", image_ref=ref, cloud_init=cloud_init)
        assert (await driver.create(vm_spec)).power_state == RUNNING
        seed = driver.vms_dir / "vm-1" / "seed.iso"
        iso = pycdlib.PyCdlib()
        iso.open(str(seed))
        try:
            assert iso.pvd.volume_identifier.decode().strip() == "cidata"
            files = {}
            for name in ("meta-data", "user-data"):
                from io import BytesIO

                out = BytesIO()
                iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
                files[name] = out.getvalue().decode()
        finally:
            iso.close()
        assert "instance-id: vm-1" in files["meta-data"]
        assert "local-hostname: cloud-1" in files["meta-data"]
        assert key in files["user-data"] and "htop" in files["user-data"]
        argv = (Path("/proc") / str(_pid(driver)) / "cmdline").read_bytes().split(b"\0")
        assert b"ide-cd,drive=seed0,id=cidata0" in argv
        await driver.destroy("vm-1")

    run(scenario)


def test_a_guest_kernel_panic_is_a_crash(make_driver: Callable[[], QemuDriver]) -> None:
    """pvpanic tells QEMU about the panic; the VM is crashed with that reason."""

    async def scenario() -> None:
        driver = await with_vm(make_driver)
        await asyncio.to_thread(wait_for_text, serial_log(driver), READY)
        await asyncio.to_thread(
            guest_type, driver.serial_socket("vm-1"), "\necho c > /proc/sysrq-trigger\n"
        )
        await until(lambda: driver._vms["vm-1"].power_state == CRASHED)
        assert (await driver.get_vm("vm-1")).fault == "guest kernel panic"
        await driver.destroy("vm-1")

    run(scenario)
