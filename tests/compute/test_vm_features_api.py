"""Snapshots, resize, clone, restart policy, console and stats: validation at the API edge.

The sim driver has none of these features, so every request must be refused up front
with a clear problem (no operation, nothing changed); real guests are in tests/e2e.
"""

from __future__ import annotations

from typing import Any

from novacron.testing.cluster import Cluster


def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return dict(resp.json())


def test_features_a_sim_host_lacks_are_refused_without_an_operation(cluster: Cluster) -> None:
    cluster.create_vm("web")
    ops_before = cluster.api.get("/operations").json()["total"]
    for method, path, body in [
        ("POST", "/vms/web/snapshots", {"name": "s1"}),
        ("POST", "/vms/web/resize", {"disk_gib": 5}),
        ("GET", "/vms/web/console", None),
        ("GET", "/vms/web/stats", None),
    ]:
        body_out = problem(cluster.api.request(method, path, json=body), 409)
        assert "sim driver) does not support" in body_out["detail"], body_out
    assert cluster.api.get("/operations").json()["total"] == ops_before
    assert cluster.api.get("/vms/web").json()["state"] == "running"


def test_resize_and_clone_validation(cluster: Cluster) -> None:
    cluster.create_vm("db", disk_gib=4)
    body = problem(cluster.api.post("/vms/db/resize", json={}), 422)
    assert body["errors"][0]["loc"] == ["body"]
    body = problem(cluster.api.post("/vms/db/resize", json={"vcpus": 0}), 422)
    assert body["errors"][0]["loc"] == ["body", "vcpus"]
    body = problem(cluster.api.post("/vms/db/clone", json={"name": "bad name!"}), 422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    problem(cluster.api.post("/vms/nope/clone", json={"name": "x"}), 404)
    problem(cluster.api.delete("/vms/db/snapshots/never-taken"), 404)
    problem(cluster.api.post("/vms/db/snapshots/never-taken/revert"), 404)


def test_restart_policy_is_set_at_create_and_changed_later(cluster: Cluster) -> None:
    vm = cluster.create_vm("svc", restart_policy="on-failure")
    assert vm["restart_policy"] == "on-failure"
    resp = cluster.api.patch("/vms/svc", json={"restart_policy": "always"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["restart_policy"] == "always"
    body = problem(cluster.api.patch("/vms/svc", json={"restart_policy": "sometimes"}), 422)
    assert body["errors"][0]["loc"] == ["body", "restart_policy"]
    body = problem(cluster.api.patch("/vms/svc", json={"colour": "red"}), 422)
    assert body["errors"][0]["loc"] == ["body", "colour"]


def test_network_options_are_validated_with_field_paths(cluster: Cluster) -> None:
    base = {"name": "n1", "vcpus": 1, "memory_mib": 64}
    twice = {"forwards": [{"host_port": 2222, "guest_port": 22}] * 2}
    body = problem(cluster.api.post("/vms", json={**base, "network": twice}), 422)
    assert body["errors"][0]["loc"] == ["body", "network", "forwards"]
    bad_port = {"forwards": [{"host_port": 70000, "guest_port": 22}]}
    body = problem(cluster.api.post("/vms", json={**base, "network": bad_port}), 422)
    assert body["errors"][0]["loc"] == ["body", "network", "forwards", 0, "host_port"]
    body = problem(cluster.api.post("/vms", json={**base, "network": {"mode": "bridge"}}), 422)
    assert body["errors"][0]["loc"] == ["body", "network", "bridge"]
    body = problem(
        cluster.api.post("/vms", json={**base, "cloud_init": {"hostname": "-bad-"}}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "cloud_init", "hostname"]
    # A bridged VM needs a host with that bridge: none here, and the error says so.
    resp = cluster.api.post("/vms", json={**base, "network": {"mode": "bridge", "bridge": "br0"}})
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed" and "bridge:br0" in op["error"], op
    assert cluster.api.get("/vms").json()["total"] == 1  # the failed one, in error
