"""Placement through the whole stack: atomic claims, filters' reasons, groups, retries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from novacron.testing.cluster import Cluster


def test_concurrent_creates_never_overcommit(make_cluster) -> None:  # type: ignore[no-untyped-def]
    # 3 hosts × 32 vCPU × ratio 1 = room for exactly 24 VMs of 4 vCPU; 100 ask at once.
    cluster: Cluster = make_cluster(default_cpu_allocation_ratio=1.0, executor_threads=16)
    body = {"vcpus": 4, "memory_mib": 1024, "disk_gib": 1}

    def create(i: int) -> dict:
        with httpx.Client(
            base_url=f"{cluster.url}/api/v1",
            headers={"Authorization": f"Bearer {cluster.token}"},
            timeout=60,
        ) as c:
            resp = c.post("/vms", json={"name": f"c-{i:03d}", **body})
            assert resp.status_code == 202, resp.text
            return resp.json()

    with ThreadPoolExecutor(32) as pool:
        ops = list(pool.map(create, range(100)))
    finals = [cluster.wait_op(op, timeout=120) for op in ops]
    succeeded = [o for o in finals if o["state"] == "succeeded"]
    failed = [o for o in finals if o["state"] == "failed"]
    assert len(succeeded) == 24
    assert len(failed) == 76
    odd = [o["error"] for o in failed if "short of vcpus" not in o["error"]]
    assert not odd, odd
    hosts = cluster.api.get("/hosts").json()["items"]
    for h in hosts:
        assert h["alloc_vcpus"] <= h["vcpus"] * h["cpu_allocation_ratio"]
        assert h["alloc_vcpus"] == 32
    running = cluster.api.get("/vms", params={"state": "running", "limit": 1000}).json()
    assert running["total"] == 24
    # Allocations equal the sum of the VMs placed on each host.
    per_host: dict[str, int] = {}
    for vm in running["items"]:
        per_host[vm["host_id"]] = per_host.get(vm["host_id"], 0) + vm["vcpus"]
    assert per_host == {h["id"]: h["alloc_vcpus"] for h in hosts}


def test_no_capacity_says_why_per_filter(cluster: Cluster) -> None:
    hosts = cluster.api.get("/hosts").json()["items"]
    op = cluster.wait_op(
        cluster.api.post(
            f"/hosts/{hosts[0]['name']}/maintenance", json={"enabled": True, "reason": "disk swap"}
        ).json()
    )
    assert op["state"] == "succeeded"
    assert cluster.api.get(f"/hosts/{hosts[0]['id']}").json()["state"] == "maintenance"
    resp = cluster.api.post("/vms", json={"name": "huge", "vcpus": 1, "memory_mib": 200_000})
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed"
    assert op["error"] == (
        "no host fits 1 vCPU / 200000 MiB / 10 GiB: 3 hosts: 2 short of memory, 1 in maintenance"
    )
    vm = cluster.api.get(f"/vms/{op['target_id']}").json()
    assert vm["state"] == "error" and "short of memory" in vm["fault"]
    # A VM in error can be deleted; nothing was claimed.
    assert cluster.wait_op(cluster.api.delete("/vms/huge").json())["state"] == "succeeded"
    assert sum(h["alloc_memory_mib"] for h in cluster.api.get("/hosts").json()["items"]) == 0


def test_maintenance_host_is_skipped_then_used_again(cluster: Cluster) -> None:
    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    for name in hosts[:2]:
        cluster.wait_op(
            cluster.api.post(f"/hosts/{name}/maintenance", json={"enabled": True}).json()
        )
    for i in range(3):
        assert cluster.create_vm(f"m-{i}")["host_name"] == hosts[2]
    cluster.wait_op(
        cluster.api.post(f"/hosts/{hosts[0]}/maintenance", json={"enabled": False}).json()
    )
    # Spread (the default) now prefers the empty host.
    assert cluster.create_vm("m-3")["host_name"] == hosts[0]


def test_anti_affinity_hard_and_affinity(cluster: Cluster) -> None:
    assert (
        cluster.api.post(
            "/placement-groups", json={"name": "db", "policy": "anti-affinity"}
        ).status_code
        == 201
    )
    placed = {cluster.create_vm(f"db-{i}", group="db")["host_id"] for i in range(3)}
    assert len(placed) == 3
    op = cluster.wait_op(
        cluster.api.post(
            "/vms", json={"name": "db-3", "vcpus": 1, "memory_mib": 512, "group": "db"}
        ).json()
    )
    assert op["state"] == "failed"
    assert "3 anti-affinity: group member already there" in op["error"]
    cluster.api.post("/placement-groups", json={"name": "app", "policy": "affinity"})
    hosts = {cluster.create_vm(f"app-{i}", group="app")["host_id"] for i in range(3)}
    assert len(hosts) == 1
    group = cluster.api.get("/placement-groups/app").json()
    assert len(group["members"]) == 3


def test_forced_host_labels_and_traits(cluster: Cluster) -> None:
    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    assert cluster.create_vm("f-1", host=hosts[1])["host_name"] == hosts[1]
    cluster.api.patch(f"/hosts/{hosts[2]}", json={"labels": {"ssd": "yes"}})
    assert cluster.create_vm("l-1", host_labels={"ssd": "yes"})["host_name"] == hosts[2]
    op = cluster.wait_op(
        cluster.api.post(
            "/vms", json={"name": "t-1", "vcpus": 1, "memory_mib": 512, "traits": ["kvm"]}
        ).json()
    )
    assert op["state"] == "failed" and "3 missing traits" in op["error"]
    assert cluster.create_vm("t-2", traits=["sim"])["state"] == "running"


def test_failed_create_is_retried_on_an_alternate_host(cluster: Cluster) -> None:
    from novacron.agent.client import AgentClient

    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    # Load two hosts so that spread's first choice is the third, then make it fail.
    cluster.create_vm("load-1", host=hosts[1], vcpus=8)
    cluster.create_vm("load-2", host=hosts[2], vcpus=8)
    url, secret = cluster.agent_api()
    AgentClient(url, secret).crash_host(hosts[0])
    vm = cluster.create_vm("retry-1")
    assert vm["state"] == "running"
    assert vm["host_name"] in hosts[1:]
    op = cluster.api.get("/operations", params={"target": vm["id"]}).json()["items"][0]
    assert [(s["name"], s["state"]) for s in op["steps"]] == [
        ("schedule", "succeeded"),
        (f"create on {hosts[0]}", "failed"),
        ("schedule", "succeeded"),
        (f"create on {vm['host_name']}", "succeeded"),
    ]
    assert "crashed" in op["steps"][1]["detail"]
    # The failed host's claim was released.
    assert cluster.api.get(f"/hosts/{hosts[0]}").json()["alloc_vcpus"] == 0


def test_concurrent_actions_on_one_vm_are_accepted_once(cluster: Cluster) -> None:
    vms = [cluster.create_vm(f"cc-{i}", vcpus=2) for i in range(6)]

    def delete(vm_id: str) -> int:
        with httpx.Client(
            base_url=f"{cluster.url}/api/v1", headers={"Authorization": f"Bearer {cluster.token}"}
        ) as c:
            return c.delete(f"/vms/{vm_id}").status_code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(delete, [v["id"] for v in vms for _ in range(4)]))
    assert codes.count(202) == len(vms)
    assert set(codes) <= {202, 404, 409}
    for op in cluster.api.get("/operations", params={"kind": "vm.delete"}).json()["items"]:
        assert cluster.wait_op(op)["state"] == "succeeded"
    hosts = cluster.api.get("/hosts").json()["items"]
    assert [h["alloc_vcpus"] for h in hosts] == [0, 0, 0]


def test_actions_on_a_vm_that_was_never_placed_are_refused(cluster: Cluster) -> None:
    op = cluster.wait_op(
        cluster.api.post("/vms", json={"name": "nowhere", "vcpus": 1, "memory_mib": 10**6}).json()
    )
    assert op["state"] == "failed"
    resp = cluster.api.post("/vms/nowhere/stop", json={"force": True})
    assert resp.status_code == 409
    assert "never placed on a host" in resp.json()["detail"]
    assert cluster.wait_op(cluster.api.delete("/vms/nowhere").json())["state"] == "succeeded"


def test_an_unplaced_vm_lists_only_delete(cluster: Cluster) -> None:
    op = cluster.wait_op(
        cluster.api.post("/vms", json={"name": "unplaced", "vcpus": 1, "memory_mib": 10**6}).json()
    )
    assert cluster.api.get(f"/vms/{op['target_id']}").json()["actions"] == ["delete"]
