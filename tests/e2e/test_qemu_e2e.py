"""The whole path with real guests: API → server → agent → QEMU (TCG here).

One cluster per test on SQLite (and PostgreSQL when configured); guests boot the tiny
image uploaded through the API, so the agent's image cache and overlays are exercised.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from novacron.hypervisor.qemu.driver import run_dir_for
from novacron.testing.cluster import Cluster, ServerThread, spawn_agent, wait_until
from novacron.testing.qemu import (
    QEMU_CLUSTER_SETTINGS,
    guest_run,
    guest_type,
    heartbeats,
    upload_disk_image,
    upload_tiny,
    wait_for_text,
)

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

READY = "NOVACRON-GUEST-READY"


@pytest.fixture
def qemu_cluster(make_cluster: Any, tiny_image: Any) -> tuple[Cluster, Path]:
    cluster = make_cluster(with_agent=False, **QEMU_CLUSTER_SETTINGS)
    agent_dir = cluster.add_qemu_agent("qhost")
    upload_tiny(cluster.api, tiny_image)
    return cluster, agent_dir


def act(cluster: Cluster, vm: str, path: str, **body: Any) -> dict[str, Any]:
    resp = cluster.api.post(f"/vms/{vm}/{path}", json=body or None)
    assert resp.status_code == 202, resp.text
    op = cluster.wait_op(resp.json(), timeout=120)
    assert op["state"] == "succeeded", op
    return op


def vm_state(cluster: Cluster, vm: str) -> dict[str, Any]:
    return dict(cluster.api.get(f"/vms/{vm}").json())


def console(cluster: Cluster, vm: str) -> str:
    resp = cluster.api.get(f"/vms/{vm}/console", params={"offset": 0, "limit": 1 << 20})
    assert resp.status_code == 200, resp.text
    return resp.text


def test_full_lifecycle_through_server_and_agent(qemu_cluster: tuple[Cluster, Path]) -> None:
    cluster, agent_dir = qemu_cluster
    host = cluster.api.get("/hosts").json()["items"][0]
    assert host["driver"] == "qemu" and "tcg" in host["capabilities"]
    assert host["labels"]["accel"] == "tcg"
    assert host["memory_mib"] > 1024  # the real machine's capacity, not a simulated one

    vm = cluster.create_vm("web", memory_mib=256, image="tiny")
    assert vm["state"] == "running"
    log = agent_dir / "vms" / vm["id"] / "serial.log"
    wait_for_text(log, "NOVACRON-HB 1")
    wait_until(lambda: READY in console(cluster, "web"), 30, what="console through the API")

    act(cluster, "web", "pause")
    assert vm_state(cluster, "web")["state"] == "paused"
    act(cluster, "web", "resume")
    act(cluster, "web", "reboot")
    wait_for_text(log, READY, count=2)
    act(cluster, "web", "stop")  # ACPI: the guest powers off by itself
    assert vm_state(cluster, "web")["state"] == "stopped"
    assert "NOVACRON-POWEROFF" in log.read_text()
    act(cluster, "web", "start")
    wait_for_text(log, READY, count=3)

    # Snapshots through the API: disk and RAM come back.
    sock = run_dir_for(agent_dir) / f"{vm['id']}.serial"
    guest_run(sock, "echo original > /data/f; sync")
    act(cluster, "web", "snapshots", name="s1")
    snaps = cluster.api.get("/vms/web/snapshots").json()
    assert [s["name"] for s in snaps] == ["s1"] and snaps[0]["vm_state_bytes"] > 0
    guest_run(sock, "echo changed > /data/f; sync")
    act(cluster, "web", "snapshots/s1/revert")
    assert "original" in guest_run(sock, "cat /data/f")
    resp = cluster.api.delete("/vms/web/snapshots/s1")
    assert cluster.wait_op(resp.json())["state"] == "succeeded"

    stats = cluster.api.get("/vms/web/stats").json()
    assert stats["cpu_time_s"] > 0 and stats["disk"]["write_bytes"] > 0

    resp = cluster.api.delete("/vms/web")
    assert cluster.wait_op(resp.json())["state"] == "succeeded"
    assert not (agent_dir / "vms" / vm["id"]).exists()


def test_killed_qemu_is_crashed_and_restarted_by_its_policy(
    qemu_cluster: tuple[Cluster, Path],
) -> None:
    cluster, agent_dir = qemu_cluster
    vm = cluster.create_vm("db", memory_mib=256, image="tiny", restart_policy="on-failure")
    log = agent_dir / "vms" / vm["id"] / "serial.log"
    wait_for_text(log, READY)
    pid = int((agent_dir / "vms" / vm["id"] / "qemu.pid").read_text())
    os.kill(pid, signal.SIGKILL)

    def crashed_event() -> dict[str, Any] | None:
        items = cluster.api.get("/events", params={"limit": 1000}).json()["items"]
        return next((e for e in items if e["kind"] == "vm.crashed"), None)

    event = wait_until(crashed_event, 30, what="vm.crashed event")
    assert "killed by SIGKILL" in event["data"]["reason"]
    # The policy restarts it: a start operation requested by the policy, a second boot.
    wait_for_text(log, READY, count=2, timeout_s=60)
    wait_until(lambda: vm_state(cluster, "db")["state"] == "running", 30, what="running again")
    ops = cluster.api.get("/operations", params={"limit": 50}).json()["items"]
    assert any(o["kind"] == "vm.start" and o["requested_by"] == "restart-policy" for o in ops)

    # A VM without a policy stays crashed, with the reason.
    other = cluster.create_vm("cache", memory_mib=256, image="tiny")
    wait_for_text(agent_dir / "vms" / other["id"] / "serial.log", READY)
    os.kill(int((agent_dir / "vms" / other["id"] / "qemu.pid").read_text()), signal.SIGKILL)
    wait_until(lambda: vm_state(cluster, "cache")["state"] == "crashed", 30, what="crashed")
    assert "SIGKILL" in vm_state(cluster, "cache")["fault"]


def test_guests_keep_running_across_a_restart_of_server_and_agent(
    qemu_cluster: tuple[Cluster, Path],
) -> None:
    cluster, agent_dir = qemu_cluster
    vm = cluster.create_vm("keep", memory_mib=256, image="tiny")
    log = agent_dir / "vms" / vm["id"] / "serial.log"
    wait_for_text(log, "NOVACRON-HB 2")
    pid = int((agent_dir / "vms" / vm["id"] / "qemu.pid").read_text())

    old_agent_url, _ = cluster.agent_api()
    # Stop NovaCron: agent and server.
    for proc in cluster.agents:
        proc.terminate()
        proc.wait(20)
    assert cluster.server is not None
    cluster.server.stop()
    before = heartbeats(log.read_text())[-1]
    wait_for_text(log, f"NOVACRON-HB {before + 2}")  # the guest runs on, unattended

    # Start it again on the same database and data dirs.
    cluster.server = ServerThread(cluster.settings).start()
    cluster.agents = [
        spawn_agent(
            cluster.url,
            cluster.enrolment_token,
            "qhost",
            1,
            ["--driver", "qemu", "--accel", "tcg", "--data-dir", str(agent_dir)],
            log_path=cluster.settings.data_dir / "qhost-2.log",
        )
    ]
    wait_until(lambda: cluster.agent_api()[0] != old_agent_url, 60, what="agent registered")
    assert int((agent_dir / "vms" / vm["id"] / "qemu.pid").read_text()) == pid
    # The host was down meanwhile (VM unknown); two heartbeats bring the VM back.
    wait_until(lambda: vm_state(cluster, "keep")["state"] == "running", 30, what="running")
    counts = heartbeats(log.read_text())
    assert counts == list(range(1, len(counts) + 1)), "the guest never rebooted"
    # Re-attached: control works on the process started by the previous agent.
    act(cluster, "keep", "pause")
    act(cluster, "keep", "resume")
    act(cluster, "keep", "stop", force=True)
    assert vm_state(cluster, "keep")["state"] == "stopped"


def test_always_restarts_a_guest_that_powered_itself_off(
    qemu_cluster: tuple[Cluster, Path],
) -> None:
    cluster, agent_dir = qemu_cluster
    vm = cluster.create_vm("kiosk", memory_mib=256, image="tiny", restart_policy="always")
    log = agent_dir / "vms" / vm["id"] / "serial.log"
    wait_for_text(log, READY)
    guest_type(run_dir_for(agent_dir) / f"{vm['id']}.serial", "\npoweroff -f\n")
    wait_for_text(log, READY, count=2, timeout_s=60)  # booted again by the policy
    wait_until(lambda: vm_state(cluster, "kiosk")["state"] == "running", 30, what="running")
    # A stop the user asked for is not undone.
    act(cluster, "kiosk", "stop")
    import time

    time.sleep(3)
    assert vm_state(cluster, "kiosk")["state"] == "stopped"


def test_resize_and_clone_through_the_api(qemu_cluster: tuple[Cluster, Path]) -> None:
    cluster, agent_dir = qemu_cluster
    vm = cluster.create_vm("app", memory_mib=256, image="tiny")
    sock = run_dir_for(agent_dir) / f"{vm['id']}.serial"
    wait_for_text(agent_dir / "vms" / vm["id"] / "serial.log", READY)
    guest_run(sock, "echo payload > /data/p; sync")
    resp = cluster.api.post("/vms/app/resize", json={"vcpus": 2})
    assert resp.status_code == 409 and "stop VM app" in resp.json()["detail"]
    act(cluster, "app", "resize", vcpus=1, disk_gib=3)  # online grow; vcpus unchanged
    act(cluster, "app", "stop")
    # No room on the host: the operation fails and the VM is stopped again, not stuck.
    resp = cluster.api.post("/vms/app/resize", json={"vcpus": 1000})
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed" and "no room" in op["error"]
    assert vm_state(cluster, "app")["state"] == "stopped"
    host_before = cluster.api.get("/hosts").json()["items"][0]
    act(cluster, "app", "resize", vcpus=2, memory_mib=320)
    app = vm_state(cluster, "app")
    assert (app["vcpus"], app["memory_mib"], app["disk_gib"]) == (2, 320, 3)
    host_after = cluster.api.get("/hosts").json()["items"][0]
    assert host_after["alloc_vcpus"] == host_before["alloc_vcpus"] + 1
    assert host_after["alloc_memory_mib"] == host_before["alloc_memory_mib"] + 64

    op = act(cluster, "app", "clone", name="app-copy")
    copy = vm_state(cluster, op["result"]["clone_id"])
    assert copy["state"] == "stopped" and copy["name"] == "app-copy" and copy["vcpus"] == 2
    act(cluster, "app-copy", "start")
    wait_for_text(agent_dir / "vms" / copy["id"] / "serial.log", READY)
    copy_sock = run_dir_for(agent_dir) / f"{copy['id']}.serial"
    assert "payload" in guest_run(copy_sock, "cat /data/p")


def test_a_clone_that_does_not_fit_leaves_nothing_stuck(
    qemu_cluster: tuple[Cluster, Path],
) -> None:
    """Regression: a failed claim left the source ``cloning`` and the clone ``building``."""
    cluster, _ = qemu_cluster
    cluster.create_vm("big", memory_mib=256, image="tiny")
    act(cluster, "big", "stop")
    host = cluster.api.get("/hosts").json()["items"][0]
    resp = cluster.api.patch(f"/hosts/{host['name']}", json={"ram_allocation_ratio": 0.01})
    assert resp.status_code == 200, resp.text
    resp = cluster.api.post("/vms/big/clone", json={"name": "big-copy"})
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed" and "no room" in op["error"], op
    assert vm_state(cluster, "big")["state"] == "stopped"
    assert cluster.api.get("/vms/big-copy").status_code == 404  # the name is free again
    after = cluster.api.get("/hosts").json()["items"][0]
    assert after["alloc_memory_mib"] == host["alloc_memory_mib"]


def test_a_disk_image_boots_from_its_disk_and_reads_its_cloud_init_seed(
    make_cluster: Any, tiny_disk_image: Path
) -> None:
    """The standard cloud-image path: import a disk image, boot it through the BIOS,
    and the guest reads hostname and SSH keys from the NoCloud seed NovaCron attached."""
    cluster = make_cluster(with_agent=False, **QEMU_CLUSTER_SETTINGS)
    agent_dir = cluster.add_qemu_agent("qhost")
    upload_disk_image(cluster.api, tiny_disk_image, "cloudy")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0gnZ0ICVUg0dyIqdbnDq3P1ZRIDFwyQdbpK7ngW0gy me@host"
    vm = cluster.create_vm(
        "cloud-1",
        memory_mib=256,
        image="cloudy",
        cloud_init={"hostname": "db-primary", "ssh_authorized_keys": [key]},
    )
    log = agent_dir / "vms" / vm["id"] / "serial.log"
    text = wait_for_text(log, READY, timeout_s=90)
    assert f"NOVACRON-CLOUDINIT instance-id={vm['id']} hostname=db-primary ssh-keys=1" in text
