"""HA restart with fencing, through the real server, agent HTTP and sim hosts.

A sim host "crashes" (its agent stops reporting it, its VMs are cut off); the server
marks it down, fences it by policy (watchdog timing) or on an operator's word, then
restarts its HA VMs on a host of the same storage pool, or marks them lost when their
disk was local. When the host comes back, the copy it still has is destroyed: a VM
never runs twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from novacron.agent.client import AgentClient, agent_client
from novacron.agent.watchdog import SelfFence
from novacron.hypervisor.sim import SimDriver
from novacron.testing.cluster import FAST_SIM, Cluster, wait_until

pytestmark = pytest.mark.slow

FAST_HA = {
    "heartbeat_timeout_s": 2.0,
    "ha_fence_after_s": 3.0,
    "ha_self_fence_s": 1.5,
}


def agent(cluster: Cluster) -> AgentClient:
    url, secret = cluster.agent_api()
    return agent_client(url, secret)


def hosts_by_name(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in cluster.api.get("/hosts", params={"limit": 50}).json()["items"]}


def vm(cluster: Cluster, name: str) -> dict[str, Any]:
    return dict(cluster.api.get(f"/vms/{name}").json())


def restarted(cluster: Cluster, name: str, failed: str) -> bool:
    now = vm(cluster, name)
    return bool(now["state"] == "running" and now["host_name"] not in (None, failed))


def setup_fleet(cluster: Cluster) -> list[str]:
    names = sorted(hosts_by_name(cluster))
    for name in names[:3]:
        resp = cluster.api.patch(f"/hosts/{name}", json={"labels": {"shared-storage": "pool-a"}})
        assert resp.status_code == 200, resp.text
    return names


def test_watchdog_fencing_restarts_shared_storage_vms_and_loses_local_ones(
    make_cluster: Callable[..., Cluster],
) -> None:
    cluster = make_cluster(sim_hosts=4, agent_args=FAST_SIM, **FAST_HA)
    names = setup_fleet(cluster)
    failing, local = names[0], names[3]
    db = cluster.create_vm("db", memory_mib=512, host=failing, ha=True)
    plain = cluster.create_vm("plain", memory_mib=512, host=failing)
    cluster.create_vm("cache", memory_mib=512, host=local, ha=True)
    client = agent(cluster)
    client.crash_host(failing)
    client.crash_host(local)

    wait_until(
        lambda: (
            vm(cluster, "db")["state"] == "running"
            and vm(cluster, "db")["host_name"] not in (None, failing)
        ),
        60,
        what="db restarted",
    )
    moved = vm(cluster, "db")
    assert moved["host_name"] in names[1:3]  # a host of pool-a, not the failed one
    assert moved["id"] == db["id"]
    failed_host = hosts_by_name(cluster)[failing]
    assert failed_host["state"] == "down" and failed_host["fenced_at"]
    assert "silent for" in failed_host["fence_reason"]
    assert vm(cluster, "plain")["state"] == "unknown"  # not HA: waits for its host
    wait_until(lambda: vm(cluster, "cache")["state"] == "lost", 30, what="cache lost")
    assert "local storage" in vm(cluster, "cache")["fault"]
    ops = cluster.api.get("/operations", params={"target_id": db["id"]}).json()["items"]
    assert any(op["requested_by"] == "ha" and op["state"] == "succeeded" for op in ops)

    # The failed host comes back: its copy of db is an orphan and goes; plain stays.
    client.recover_host(failing)
    wait_until(
        lambda: db["id"] not in {v["id"] for v in client.list_vms(failing)},
        30,
        what="the stale copy destroyed",
    )
    assert plain["id"] in {v["id"] for v in client.list_vms(failing)}
    up = [h for h in names if h != local]  # the local one is still crashed
    running = [h for h in up if db["id"] in {v["id"] for v in client.list_vms(h)}]
    assert running == [moved["host_name"]]  # exactly one copy in the fleet
    assert not hosts_by_name(cluster)[failing]["fenced_at"]  # up again: no longer fenced


def test_manual_fencing_waits_for_the_operator(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(sim_hosts=4, agent_args=FAST_SIM, ha_fencing="manual", **FAST_HA)
    names = setup_fleet(cluster)
    failing = names[0]
    cluster.create_vm("db", memory_mib=512, host=failing, ha=True)
    resp = cluster.api.post(f"/hosts/{failing}/fence", json={"reason": "BMC power off"})
    assert resp.status_code == 409, resp.text  # up hosts are not fenced
    agent(cluster).crash_host(failing)
    wait_until(lambda: hosts_by_name(cluster)[failing]["state"] == "down", 30, what="down")
    asyncio.run(asyncio.sleep(FAST_HA["ha_fence_after_s"] + 1.0))
    assert vm(cluster, "db")["state"] == "unknown"  # no fencing, no restart
    assert cluster.api.post(f"/hosts/{failing}/fence", json={"reason": " "}).status_code == 422
    resp = cluster.api.post(f"/hosts/{failing}/fence", json={"reason": "BMC power off"})
    assert resp.status_code == 200, resp.text
    assert "BMC power off" in resp.json()["fence_reason"]
    wait_until(lambda: vm(cluster, "db")["state"] == "running", 30, what="db restarted")
    assert vm(cluster, "db")["host_name"] in names[1:3]


def test_the_agent_watchdog_stops_ha_guests_when_the_server_is_silent() -> None:
    now = [100.0]
    driver = SimDriver("h1")

    async def scenario() -> None:
        from novacron.hypervisor.base import VMSpec

        for vm_id in ("ha-1", "other"):
            await driver.create(VMSpec(id=vm_id, name=vm_id, vcpus=1, memory_mib=64, disk_gib=1))
        fence = SelfFence({"h1": driver}, clock=lambda: now[0])
        fence.answered({"after_s": 30, "vms": {"h1": ["ha-1"]}})
        now[0] += 29
        assert await fence.check() == 0
        now[0] += 2
        assert await fence.check() == 1
        states = {v.id: v.power_state for v in await driver.list_vms()}
        assert states == {"ha-1": "stopped", "other": "running"}  # only HA guests
        assert fence.fenced == {"h1": {"stopped": 1.0, "after_s": 31.0}}
        assert await fence.check() == 0  # once
        fence.reported(dict(fence.fenced))
        assert fence.fenced == {}

    asyncio.run(scenario())
