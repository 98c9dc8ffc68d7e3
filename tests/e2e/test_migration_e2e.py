"""Live migration through the whole stack: API → server → two agents → QEMU (TCG).

Two qemu agents on this machine play two hosts (own data dirs, own ports). Each test
boots the tiny guest on host ``qa`` and moves it, or fails to: a cancel, a timeout and
the destination's QEMU dying must each leave the guest running on ``qa`` — its
heartbeat counter goes on — with nothing left on ``qb``.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from novacron.hypervisor.qemu.tiny import guest_cmdline
from novacron.testing.cluster import Cluster, wait_until
from novacron.testing.qemu import QEMU_CLUSTER_SETTINGS, heartbeats, upload_tiny, wait_for_text

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

SLOW_LINK = {"bandwidth_mib_s": 8, "allow_postcopy": False}


@pytest.fixture
def two_hosts(make_cluster: Any, tiny_image: Any) -> tuple[Cluster, dict[str, Path]]:
    cluster = make_cluster(with_agent=False, **QEMU_CLUSTER_SETTINGS)
    dirs = {name: cluster.add_qemu_agent(name) for name in ("qa", "qb")}
    upload_tiny(cluster.api, tiny_image)
    return cluster, dirs


def boot(cluster: Cluster, dirs: dict[str, Path], dirty_mbps: int = 0) -> dict[str, Any]:
    vm = cluster.create_vm(
        "mover",
        memory_mib=256,
        image="tiny",
        host="qa",
        kernel_args=guest_cmdline("", dirty_mbps=dirty_mbps) if dirty_mbps else "",
    )
    wait_for_text(dirs["qa"] / "vms" / vm["id"] / "serial.log", "NOVACRON-HB 1")
    return vm


def migrate(cluster: Cluster, **body: Any) -> dict[str, Any]:
    resp = cluster.api.post("/vms/mover/migrate", json=body)
    assert resp.status_code == 202, resp.text
    return dict(resp.json())


def still_on_qa(cluster: Cluster, dirs: dict[str, Path], vm: dict[str, Any]) -> None:
    now = cluster.api.get("/vms/mover").json()
    assert now["state"] == "running" and now["host_name"] == "qa", now
    assert now["migration_host_id"] is None
    counting_on(dirs["qa"] / "vms" / vm["id"] / "serial.log")
    assert not (dirs["qb"] / "vms" / vm["id"]).exists()
    hosts = {h["name"]: h for h in cluster.api.get("/hosts").json()["items"]}
    assert hosts["qb"]["alloc_memory_mib"] == 0  # the destination's claim was returned


def counting_on(log: Path) -> None:
    """The guest prints two more heartbeats into ``log`` (which may start empty: a
    migration's destination keeps its own console log)."""
    seen = len(heartbeats(log.read_text(errors="replace"))) if log.exists() else 0
    wait_for_text(log, "NOVACRON-HB", count=seen + 2)


def step_names(op: dict[str, Any]) -> list[str]:
    return [s["name"] for s in op["steps"]]


def test_migrate_moves_the_running_guest(two_hosts: tuple[Cluster, dict[str, Path]]) -> None:
    cluster, dirs = two_hosts
    vm = boot(cluster, dirs, dirty_mbps=20)
    op = cluster.wait_op(migrate(cluster), timeout=180)  # the scheduler picks qb
    assert op["state"] == "succeeded", (op["error"], op["steps"])
    names = step_names(op)
    assert "choose destination" in names and "finish on qb" in names
    assert any(n.startswith("policy: downtime-limit") for n in names), names
    assert op["result"]["to"] == "qb" and op["result"]["downtime_ms"] is not None
    assert op["result"]["migration"]["transferred_bytes"] > 0
    now = cluster.api.get("/vms/mover").json()
    assert now["host_name"] == "qb" and now["state"] == "running"
    counting_on(dirs["qb"] / "vms" / vm["id"] / "serial.log")  # on qb now
    assert not (dirs["qa"] / "vms" / vm["id"]).exists()
    hosts = {h["name"]: h for h in cluster.api.get("/hosts").json()["items"]}
    assert hosts["qa"]["alloc_memory_mib"] == 0 and hosts["qb"]["alloc_memory_mib"] == 256
    # And back, named explicitly.
    op = cluster.wait_op(migrate(cluster, to_host="qa"), timeout=180)
    assert op["state"] == "succeeded", op
    assert cluster.api.get("/vms/mover").json()["host_name"] == "qa"


def test_migrate_over_tls(two_hosts: tuple[Cluster, dict[str, Path]]) -> None:
    """``tls``: both streams encrypted with per-migration certificates (the wire itself
    is checked in tests/hypervisor/qemu/test_qemu_migration_tls.py); none left after."""
    cluster, dirs = two_hosts
    vm = boot(cluster, dirs)
    hosts = {h["name"]: h for h in cluster.api.get("/hosts").json()["items"]}
    assert "migration-tls" in hosts["qb"]["capabilities"]
    op = cluster.wait_op(migrate(cluster, tls=True), timeout=180)
    assert op["state"] == "succeeded", (op["error"], op["steps"])
    encrypt = [s for s in op["steps"] if s["name"] == "encrypt"]
    assert encrypt and "TLS to 127.0.0.1" in encrypt[0]["detail"], op["steps"]
    assert "PRIVATE KEY" not in str(op)  # no key in the operation the server stored
    counting_on(dirs["qb"] / "vms" / vm["id"] / "serial.log")
    assert not (dirs["qb"] / "vms" / vm["id"] / "migration-tls").exists()


def test_cancel_rolls_back(two_hosts: tuple[Cluster, dict[str, Path]]) -> None:
    cluster, dirs = two_hosts
    vm = boot(cluster, dirs, dirty_mbps=50)
    op = migrate(cluster, **SLOW_LINK)
    wait_until(
        lambda: cluster.api.get(f"/operations/{op['id']}").json()["result"].get("migration"),
        60,
        what="the stream to start",
    )
    resp = cluster.api.post(f"/operations/{op['id']}/cancel")
    assert resp.status_code == 200, resp.text
    op = cluster.wait_op(op, timeout=60)
    assert op["state"] == "cancelled" and "cancelled" in op["error"], op
    still_on_qa(cluster, dirs, vm)


def test_timeout_rolls_back(two_hosts: tuple[Cluster, dict[str, Path]]) -> None:
    cluster, dirs = two_hosts
    vm = boot(cluster, dirs, dirty_mbps=50)
    op = cluster.wait_op(migrate(cluster, timeout_s=3, **SLOW_LINK), timeout=60)
    assert op["state"] == "failed" and "timed out after 3 s" in op["error"], op
    still_on_qa(cluster, dirs, vm)


def test_destination_death_rolls_back(two_hosts: tuple[Cluster, dict[str, Path]]) -> None:
    cluster, dirs = two_hosts
    vm = boot(cluster, dirs, dirty_mbps=50)
    op = migrate(cluster, **SLOW_LINK)
    pidfile = dirs["qb"] / "vms" / vm["id"] / "qemu.pid"
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 60, what="dest QEMU")
    time.sleep(1.0)
    os.kill(int(pidfile.read_text()), signal.SIGKILL)
    op = cluster.wait_op(op, timeout=60)
    assert op["state"] == "failed", op
    assert "roll back" in step_names(op)
    still_on_qa(cluster, dirs, vm)
