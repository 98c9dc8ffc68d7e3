"""Host drain at scale on sim hosts: 200 VMs live-migrated off one of 50 hosts through
the real server, agent HTTP and executor, with placement rules that must hold.

The sim driver plays each migration from the migration model (time-compressed), so
the orchestration — child operations, parallelism, claims, placement filters — is
what is tested here; real QEMU migration is in tests/e2e/test_migration_e2e.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from novacron.testing.cluster import FAST_SIM, Cluster, wait_until

pytestmark = pytest.mark.slow

HOSTS = 50
VMS = 200
PARALLEL = 6


def test_drain_200_vms_across_50_sim_hosts(make_cluster: Callable[..., Cluster]) -> None:
    # 64 vCPUs x 4 overcommit: one host can hold all 200 one-vCPU VMs before the drain.
    agent_args = [*FAST_SIM, "--sim-vcpus", "64"]
    cluster = make_cluster(sim_hosts=HOSTS, agent_args=agent_args, executor_threads=10)
    hosts = {h["name"]: h for h in page(cluster, "/hosts", limit=HOSTS)}
    assert len(hosts) == HOSTS
    names = sorted(hosts)
    source = names[0]
    zone_b = {names[i] for i in (0, 7, 8, 9)}
    for name in zone_b:  # some VMs may only run in zone b
        assert cluster.api.patch(f"/hosts/{name}", json={"labels": {"zone": "b"}}).is_success
    group = cluster.api.post(
        "/placement-groups", json={"name": "spread", "policy": "anti-affinity"}
    ).json()
    # Two members of a strict anti-affinity group already run on two other hosts.
    for i, host in enumerate(sorted(hosts)[1:3]):
        cluster.create_vm(f"spread-{i}", memory_mib=256, group=group["id"], host=host)

    def create(i: int) -> dict[str, Any]:
        extra: dict[str, Any] = {"host_labels": {"zone": "b"}} if i < 20 else {}
        if i == 20:
            extra["group"] = group["id"]
        return cluster.create_vm(f"vm-{i:03d}", memory_mib=512, host=source, **extra)

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, range(VMS)))
    assert {vm["host_name"] for vm in created} == {source}
    stop = cluster.api.post(f"/vms/{created[5]['id']}/stop")  # a stopped VM stays behind
    assert stop.status_code == 202, stop.text
    assert cluster.wait_op(stop.json())["state"] == "succeeded"

    resp = cluster.api.post(f"/hosts/{source}/drain", json={"parallel": PARALLEL})
    assert resp.status_code == 202, resp.text
    op = cluster.wait_op(resp.json(), timeout=600)
    assert op["state"] == "succeeded", (op["error"], op["steps"][-5:])
    result = op["result"]
    assert len(result["migrated"]) == VMS - 1 and result["failed"] == {}
    assert result["not_running"] == ["vm-005"]

    vms = {vm["name"]: vm for vm in page(cluster, "/vms", limit=500)}
    left = [name for name, vm in vms.items() if vm["host_name"] == source]
    assert left == ["vm-005"]
    assert all(vm["state"] in ("running", "stopped") for vm in vms.values())
    # Placement rules held: zone-b VMs in zone b; the group spread over distinct hosts.
    moved_zone_b = {vms[f"vm-{i:03d}"]["host_name"] for i in range(20) if i != 5}
    assert moved_zone_b <= zone_b - {source}
    group_hosts = [vms[n]["host_name"] for n in ("spread-0", "spread-1", "vm-020")]
    assert len(set(group_hosts)) == 3, group_hosts
    # Claims follow the VMs: every host's allocation is the sum of its VMs' memory.
    after = {h["name"]: h for h in page(cluster, "/hosts", limit=HOSTS)}
    per_host = Counter()
    for vm in vms.values():
        per_host[vm["host_name"]] += vm["memory_mib"]
    for name, host in after.items():
        assert host["alloc_memory_mib"] == per_host.get(name, 0), name
        assert host["alloc_memory_mib"] <= host["memory_mib"]
    assert after[source]["state"] == "maintenance" and not after[source]["draining"]
    # Spread over many hosts, at most PARALLEL migrations at a time.
    assert len({vm["host_name"] for vm in vms.values()}) > 10
    children = page(cluster, "/operations", limit=500, kind="vm.migrate")
    assert len(children) == VMS - 1
    assert max_overlap(children) <= PARALLEL

    # Undrain, bringing the VMs back.
    resp = cluster.api.post(f"/hosts/{source}/undrain", json={"bring_back": False})
    assert cluster.wait_op(resp.json())["state"] == "succeeded"
    assert cluster.api.get(f"/hosts/{source}").json()["state"] == "up"


def test_drain_is_cancelled_and_rolls_back_in_flight(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(sim_hosts=4, agent_args=FAST_SIM)
    source = sorted(h["name"] for h in page(cluster, "/hosts", limit=10))[0]
    for i in range(6):
        cluster.create_vm(f"c-{i}", memory_mib=512, host=source)
    # A 1 MiB/s link without post-copy: these migrations take minutes (simulated).
    body = {"parallel": 2, "bandwidth_mib_s": 1, "allow_postcopy": False}
    op = cluster.api.post(f"/hosts/{source}/drain", json=body).json()
    wait_until(lambda: running_children(cluster), 30, what="migrations to start")
    assert cluster.api.post(f"/operations/{op['id']}/cancel").status_code == 200
    final = cluster.wait_op(op, timeout=120)
    assert final["state"] == "cancelled", final
    children = page(cluster, "/operations", limit=20, kind="vm.migrate")
    assert children and all(c["state"] == "cancelled" for c in children), children
    vms = page(cluster, "/vms", limit=20)
    assert all(vm["state"] == "running" and vm["host_name"] == source for vm in vms), vms
    assert cluster.api.get(f"/hosts/{source}").json()["state"] == "maintenance"
    for host in page(cluster, "/hosts", limit=10):
        if host["name"] != source:
            assert host["alloc_memory_mib"] == 0, host  # destination claims returned


# -- helpers -----------------------------------------------------------------------------


def page(cluster: Cluster, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    resp = cluster.api.get(path, params={"limit": limit, **params})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def max_overlap(ops: list[dict[str, Any]]) -> int:
    """The most operations in flight at the same moment, from when the drain created
    each one to when it ended (``started_at`` is read before a worker waits for
    SQLite's write lock, so it can precede the end of the operation it replaced)."""
    edges = []
    for op in ops:
        edges.append((op["created_at"], 1))
        edges.append((op["finished_at"], -1))
    running = peak = 0
    for _, delta in sorted(edges, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def running_children(cluster: Cluster) -> bool:
    return bool(page(cluster, "/operations", limit=10, kind="vm.migrate", state="running"))
