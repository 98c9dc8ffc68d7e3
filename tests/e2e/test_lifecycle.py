"""A VM's whole life through the REST API, against a real server and agent process."""

from __future__ import annotations

from novacron.testing.cluster import Cluster


def test_vm_lifecycle(cluster: Cluster) -> None:
    vm = cluster.create_vm("web-1", vcpus=2, memory_mib=1024, disk_gib=5, labels={"tier": "web"})
    assert vm["state"] == "running"
    assert vm["host_name"].startswith("agent-1-")
    assert vm["labels"] == {"tier": "web"}
    host = cluster.api.get(f"/hosts/{vm['host_id']}").json()
    assert (host["alloc_vcpus"], host["alloc_memory_mib"], host["alloc_disk_gib"]) == (2, 1024, 5)

    for action, expected in [
        ("pause", "paused"),
        ("resume", "running"),
        ("reboot", "running"),
        ("stop", "stopped"),
        ("start", "running"),
    ]:
        op = cluster.wait_op(cluster.api.post(f"/vms/web-1/{action}").json())
        assert op["state"] == "succeeded", op
        assert op["kind"] == f"vm.{action}"
        assert cluster.api.get("/vms/web-1").json()["state"] == expected

    op = cluster.wait_op(cluster.api.delete("/vms/web-1").json())
    assert op["state"] == "succeeded"
    assert op["progress"] == 100
    assert [(s["name"], s["state"]) for s in op["steps"]] == [
        (f"destroy on {vm['host_name']}", "succeeded"),
        ("remove from inventory", "succeeded"),
    ]
    assert cluster.api.get("/vms/web-1").status_code == 404
    assert cluster.api.get(f"/vms/{vm['id']}").json()["state"] == "deleted"
    host = cluster.api.get(f"/hosts/{vm['host_id']}").json()
    assert (host["alloc_vcpus"], host["alloc_memory_mib"], host["alloc_disk_gib"]) == (0, 0, 0)
    # The name is free again once the VM is deleted.
    assert cluster.create_vm("web-1")["state"] == "running"


def test_operation_records_steps_and_requester(cluster: Cluster) -> None:
    vm = cluster.create_vm("steps-1")
    ops = cluster.api.get("/operations", params={"target": vm["id"]}).json()
    assert ops["total"] == 1
    op = ops["items"][0]
    assert op["requested_by"] == "admin"
    assert op["attempts"] == 1
    names = [s["name"] for s in op["steps"]]
    assert names[0] == "schedule"
    assert names[-1] == f"create on {vm['host_name']}"
    assert all(s["state"] == "succeeded" for s in op["steps"])
    assert op["started_at"] and op["finished_at"]


def test_force_stop_and_list_filters(cluster: Cluster) -> None:
    cluster.create_vm("a-1")
    cluster.create_vm("b-1")
    op = cluster.wait_op(cluster.api.post("/vms/a-1/stop", json={"force": True}).json())
    assert op["kind"] == "vm.force-stop" and op["state"] == "succeeded"
    stopped = cluster.api.get("/vms", params={"state": "stopped"}).json()
    assert [v["name"] for v in stopped["items"]] == ["a-1"]
    page = cluster.api.get("/vms", params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["limit"] == 1
    page2 = cluster.api.get("/vms", params={"limit": 1, "offset": 1}).json()
    assert page2["items"][0]["name"] != page["items"][0]["name"]


def test_health_needs_no_token_but_the_api_description_does(cluster: Cluster) -> None:
    import httpx

    assert httpx.get(f"{cluster.url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{cluster.url}/openapi.json").status_code == 401
    docs = httpx.get(f"{cluster.url}/docs")
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=%2Fdocs"
    spec = httpx.get(
        f"{cluster.url}/openapi.json", headers={"Authorization": f"Bearer {cluster.token}"}
    ).json()
    assert "/api/v1/vms" in spec["paths"]


def test_events_are_recorded_and_pruned(cluster: Cluster) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from novacron.core import events
    from novacron.core.clock import utcnow
    from novacron.core.database import Database

    vm = cluster.create_vm("ev-1")
    items = cluster.api.get("/events", params={"limit": 1000}).json()["items"]
    changes = [
        e["data"]["to"]
        for e in items
        if e["kind"] == "vm.state_changed" and e["object_id"] == vm["id"]
    ]
    assert changes == ["building", "running"]
    db = Database(cluster.settings.resolved_database_url)
    try:
        with db.session() as s:
            s.execute(update(events.Event).values(ts=utcnow() - timedelta(hours=100)))
            assert events.prune(s, 72) == len(items)
    finally:
        db.dispose()
    assert cluster.api.get("/events").json()["items"] == []


def test_api_docs_are_served_offline(cluster: Cluster) -> None:
    import httpx

    page = httpx.get(f"{cluster.url}/docs", cookies=cluster.web_cookies()).text
    assert "/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    js = httpx.get(f"{cluster.url}/swagger-ui/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_images_and_groups_used_only_by_deleted_vms_can_be_deleted(cluster: Cluster) -> None:
    assert cluster.api.post("/images", json={"name": "deb12", "size_gib": 2}).status_code == 201
    assert (
        cluster.api.post(
            "/placement-groups", json={"name": "g", "policy": "anti-affinity"}
        ).status_code
        == 201
    )
    vm = cluster.create_vm("imaged", image="deb12", group="g", disk_gib=2)
    assert cluster.api.delete("/images/deb12").status_code == 409  # in use by a live VM
    assert cluster.api.delete("/placement-groups/g").status_code == 409
    cluster.wait_op(cluster.api.delete(f"/vms/{vm['id']}").json())
    assert cluster.api.delete("/images/deb12").status_code == 204
    assert cluster.api.delete("/placement-groups/g").status_code == 204
    assert cluster.api.get(f"/vms/{vm['id']}").json()["image_id"] is None
