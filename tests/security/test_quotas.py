"""Project quotas over real HTTP: checked when VMs are created and placed; what a
project holds is shown against them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from novacron.testing.cluster import Cluster, wait_until


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster.start(tmp_path_factory.mktemp("quotas"), None)
    try:
        yield c
    finally:
        c.stop()


def in_project(cluster: Cluster) -> httpx.Client:
    return httpx.Client(
        base_url=f"{cluster.url}/api/v1",
        headers={"Authorization": f"Bearer {cluster.token}", "X-NovaCron-Project": "small"},
        timeout=30,
    )


def create(api: httpx.Client, name: str, vcpus: int, memory_mib: int = 256) -> httpx.Response:
    body = {"name": name, "vcpus": vcpus, "memory_mib": memory_mib, "disk_gib": 1}
    return api.post("/vms", json=body)


def settled(api: httpx.Client, op: dict[str, Any]) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        got: dict[str, Any] = api.get(f"/operations/{op['id']}").json()
        return got if got["state"] in ("succeeded", "failed", "cancelled") else None

    result: dict[str, Any] = wait_until(done, 30, what=f"operation {op['id']}")
    return result


def test_quotas_bound_what_a_project_places(cluster: Cluster) -> None:
    cluster.api.post(
        "/projects", json={"name": "small", "quota_vms": 2, "quota_vcpus": 4}
    ).raise_for_status()
    with in_project(cluster) as api:
        for name in ("a", "b"):
            resp = create(api, name, 2)
            assert resp.status_code == 202, resp.text
            assert settled(api, resp.json())["state"] == "succeeded"
        refused = create(api, "c", 1)
        assert refused.status_code == 409
        problem = refused.json()
        assert problem["type"].endswith("/quota-exceeded")
        assert "VMs 2 + 1 > 2" in problem["detail"] and "vCPUs 4 + 1 > 4" in problem["detail"]
        # Nothing was left behind by the refusal.
        assert [v["name"] for v in api.get("/vms").json()["items"]] == ["b", "a"]
        usage = cluster.api.get("/projects/small").json()["usage"]
        assert usage == {"vms": 2, "vcpus": 4, "memory_mib": 512, "disk_gib": 2}

        # A resize is checked the same way (here the sim driver refuses resizing first).
        stop = api.post("/vms/a/stop")
        assert settled(api, stop.json())["state"] == "succeeded"

        # Deleting gives the room back.
        gone = api.delete("/vms/b")
        assert settled(api, gone.json())["state"] == "succeeded"
        again = create(api, "c", 2)
        assert again.status_code == 202, again.text
        assert settled(api, again.json())["state"] == "succeeded"

    # The default project has no quota and is not affected.
    assert cluster.api.get("/projects/default").json()["quota_vcpus"] is None
    cluster.create_vm("free", vcpus=8)


def test_only_platform_admins_set_quotas_and_negative_ones_are_refused(cluster: Cluster) -> None:
    bad = cluster.api.patch("/projects/default", json={"quota_vcpus": -1})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"][-1] == "quota_vcpus"


def test_a_resize_demand_replaces_the_vms_own_size() -> None:
    from types import SimpleNamespace

    from novacron.compute.quotas import Demand

    vm: Any = SimpleNamespace(id="vm-1", project_id="p", vcpus=2, memory_mib=512, disk_gib=10)
    grown = Demand.resized(vm, {"vcpus": 4, "disk_gib": 20})
    assert (grown.vcpus, grown.memory_mib, grown.disk_gib) == (4, 512, 20)
    assert grown.id == "vm-1"  # usage excludes the VM itself, so only the new size counts
