"""Hosts that crash, miss heartbeats and come back; injected agent failures."""

from __future__ import annotations

from novacron.agent.client import AgentClient
from novacron.testing.cluster import Cluster, wait_until


def _host_state(cluster: Cluster, name: str) -> str:
    return str(cluster.api.get(f"/hosts/{name}").json()["state"])


def test_crashed_host_goes_down_and_comes_back(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(heartbeat_timeout_s=2.0)
    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    vm = cluster.create_vm("victim", host=hosts[0])
    survivor = cluster.create_vm("survivor", host=hosts[1])
    url, secret = cluster.agent_api()
    agent = AgentClient(url, secret)
    agent.crash_host(hosts[0])

    wait_until(lambda: _host_state(cluster, hosts[0]) == "down", 15, what="host down")
    victim = cluster.api.get(f"/vms/{vm['id']}").json()
    assert victim["state"] == "unknown"
    assert f"host {hosts[0]} stopped reporting" in victim["fault"]
    assert cluster.api.get(f"/vms/{survivor['id']}").json()["state"] == "running"
    assert _host_state(cluster, hosts[1]) == "up"
    # A down host takes no new VMs.
    op = cluster.wait_op(
        cluster.api.post(
            "/vms", json={"name": "x", "vcpus": 1, "memory_mib": 512, "host": hosts[0]}
        ).json()
    )
    assert op["state"] == "failed" and "1 down" in op["error"]

    agent.recover_host(hosts[0])
    wait_until(lambda: _host_state(cluster, hosts[0]) == "up", 15, what="host up")
    # The sim brings a crashed host's VMs back powered off; the server follows.
    wait_until(
        lambda: cluster.api.get(f"/vms/{vm['id']}").json()["state"] == "stopped",
        15,
        what="VM reconciled",
    )
    assert cluster.wait_op(cluster.api.post("/vms/victim/start").json())["state"] == "succeeded"


def test_vm_deleted_while_its_host_is_down_is_destroyed_on_return(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(heartbeat_timeout_s=2.0)
    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    vm = cluster.create_vm("ghost", host=hosts[0])
    url, secret = cluster.agent_api()
    agent = AgentClient(url, secret)
    agent.crash_host(hosts[0])
    wait_until(lambda: _host_state(cluster, hosts[0]) == "down", 15, what="host down")

    op = cluster.wait_op(cluster.api.delete("/vms/ghost").json())
    assert op["state"] == "succeeded"
    assert "is down" in op["result"]["note"]
    assert cluster.api.get(f"/hosts/{hosts[0]}").json()["alloc_vcpus"] == 0

    agent.recover_host(hosts[0])
    wait_until(lambda: _host_state(cluster, hosts[0]) == "up", 15, what="host up")
    # The heartbeat answer names the VM as an orphan and the agent destroys it.
    wait_until(lambda: agent.get_vm(hosts[0], vm["id"]) is None, 15, what="orphan destroyed")


def test_injected_failures_end_operations_with_reasons(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(agent_args=["--sim-failure-rate", "pause=1.0"])
    cluster.create_vm("flaky")
    op = cluster.wait_op(cluster.api.post("/vms/flaky/pause").json())
    assert op["state"] == "failed"
    assert "sim: injected failure in pause" in op["error"]
    vm = cluster.api.get("/vms/flaky").json()
    # The VM is back in the state its host reports, with the fault recorded.
    assert vm["state"] == "running"
    assert "injected failure" in vm["fault"]
    assert vm["task_operation_id"] is None


def test_all_hosts_failing_creates_fails_with_every_reason(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(agent_args=["--sim-failure-rate", "create=1.0"])
    resp = cluster.api.post("/vms", json={"name": "doomed", "vcpus": 1, "memory_mib": 512})
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed"
    # Three hosts tried, then placement finds no host left to try.
    assert op["error"].count("injected failure in create") == 3
    assert "3 excluded" in op["error"]
    vm = cluster.api.get(f"/vms/{op['target_id']}").json()
    assert vm["state"] == "error" and vm["host_id"] is None
    hosts = cluster.api.get("/hosts").json()["items"]
    assert all(h["alloc_vcpus"] == 0 for h in hosts)


def test_host_lost_during_an_action_leaves_the_vm_unknown(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(
        heartbeat_timeout_s=2.0, agent_args=["--sim-delay", "shutdown=1.5"]
    )
    hosts = sorted(h["name"] for h in cluster.api.get("/hosts").json()["items"])
    vm = cluster.create_vm("lost", host=hosts[0])
    url, secret = cluster.agent_api()
    op = cluster.api.post("/vms/lost/stop").json()
    wait_until(lambda: cluster.api.get("/vms/lost").json()["state"] == "stopping", 5)
    AgentClient(url, secret).crash_host(hosts[0])
    final = cluster.wait_op(op)
    assert final["state"] == "failed" and "crashed" in final["error"]
    after = cluster.api.get(f"/vms/{vm['id']}").json()
    assert after["state"] == "unknown"
    assert "crashed" in after["fault"]
    wait_until(lambda: _host_state(cluster, hosts[0]) == "down", 15, what="host down")
    assert cluster.api.get(f"/vms/{vm['id']}").json()["state"] == "unknown"


def test_a_forced_stop_supersedes_a_hanging_graceful_stop(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(agent_args=["--sim-delay", "shutdown=3"])
    cluster.create_vm("stubborn")
    graceful = cluster.api.post("/vms/stubborn/stop").json()
    wait_until(lambda: cluster.api.get("/vms/stubborn").json()["state"] == "stopping", 5)
    assert cluster.api.get("/vms/stubborn").json()["actions"] == ["force-stop"]
    forced = cluster.api.post("/vms/stubborn/stop", json={"force": True})
    assert forced.status_code == 202
    assert cluster.wait_op(forced.json())["state"] == "succeeded"
    assert cluster.api.get("/vms/stubborn").json()["state"] == "stopped"
    old = cluster.wait_op(graceful)
    assert old["state"] == "failed"
    assert old["error"].startswith("superseded by")
    assert cluster.api.get("/vms/stubborn").json()["state"] == "stopped"
