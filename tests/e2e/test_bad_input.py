"""Bad input gets a 4xx problem+json with field paths, and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from novacron.security.sessions import csrf_for
from novacron.testing.cluster import Cluster

PROBLEM = "application/problem+json"


def problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def vm_count(cluster: Cluster) -> int:
    return int(cluster.api.get("/vms", params={"include_deleted": True}).json()["total"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "vcpus": -1, "memory_mib": 512}, "vcpus"),
        ({"name": "x", "vcpus": 0, "memory_mib": 512}, "vcpus"),
        ({"name": "x", "vcpus": 1, "memory_mib": 10**12}, "memory_mib"),
        ({"name": "x", "vcpus": 100000, "memory_mib": 512}, "vcpus"),
        ({"name": "x", "vcpus": 1, "memory_mib": 512, "disk_gib": 0}, "disk_gib"),
        ({"name": "bad name!", "vcpus": 1, "memory_mib": 512}, "name"),
        ({"name": "x", "vcpus": "two", "memory_mib": 512}, "vcpus"),
        ({"name": "x", "vcpus": 1}, "memory_mib"),
        ({"name": "x", "vcpus": 1, "memory_mib": 512, "colour": "red"}, "colour"),
    ],
)
def test_invalid_vm_specs(cluster: Cluster, body: dict, field: str) -> None:
    before = vm_count(cluster)
    p = problem(cluster.api.post("/vms", json=body), 422)
    assert field in [e["field"] for e in p["errors"]]
    assert field in p["detail"]
    assert vm_count(cluster) == before


def test_malformed_json(cluster: Cluster) -> None:
    resp = cluster.api.post(
        "/vms", content=b'{"name": "x", "vcpus": ', headers={"content-type": "application/json"}
    )
    assert problem(resp, 422)["detail"] == "request body is not valid JSON"


def test_unknown_references(cluster: Cluster) -> None:
    body = {"name": "x", "vcpus": 1, "memory_mib": 512}
    p = problem(cluster.api.post("/vms", json={**body, "image": "nope"}), 422)
    assert p["errors"][0]["loc"] == ["body", "image"]
    p = problem(cluster.api.post("/vms", json={**body, "group": "nope"}), 422)
    assert p["errors"][0]["loc"] == ["body", "group"]
    p = problem(cluster.api.post("/vms", json={**body, "host": "nope"}), 422)
    assert p["errors"][0]["loc"] == ["body", "host"]
    problem(cluster.api.get("/vms/nope"), 404)
    problem(cluster.api.post("/vms/nope/start"), 404)
    problem(cluster.api.get("/operations/op-nope"), 404)
    problem(cluster.api.get("/hosts/nope"), 404)


def test_illegal_transitions(cluster: Cluster) -> None:
    cluster.create_vm("t-1")
    cluster.wait_op(cluster.api.post("/vms/t-1/stop").json())
    p = problem(cluster.api.post("/vms/t-1/pause"), 409)
    assert "cannot pause a VM that is stopped" in p["detail"]
    assert p["type"].endswith("/invalid-state")
    problem(cluster.api.post("/vms/t-1/resume"), 409)
    # Deleting twice: the second request meets the running delete, then a deleted VM.
    first = cluster.api.delete("/vms/t-1")
    assert first.status_code == 202
    second = cluster.api.delete("/vms/t-1")
    assert second.status_code in (404, 409)
    cluster.wait_op(first.json())
    problem(cluster.api.delete("/vms/t-1"), 404)
    vm_id = first.json()["target_id"]
    p = problem(cluster.api.delete(f"/vms/{vm_id}"), 404)
    assert "no VM" in p["detail"]


def test_duplicate_name(cluster: Cluster) -> None:
    cluster.create_vm("dup")
    p = problem(cluster.api.post("/vms", json={"name": "dup", "vcpus": 1, "memory_mib": 512}), 409)
    assert "already exists" in p["detail"]


def test_stop_with_bad_body(cluster: Cluster) -> None:
    cluster.create_vm("s-1")
    p = problem(cluster.api.post("/vms/s-1/stop", json={"force": "maybe"}), 422)
    assert p["errors"][0]["field"] == "force"
    assert cluster.api.get("/vms/s-1").json()["state"] == "running"


def test_every_route_needs_a_token(cluster: Cluster) -> None:
    anon = httpx.Client(base_url=f"{cluster.url}/api/v1")
    for method, path in [
        ("GET", "/vms"),
        ("POST", "/vms"),
        ("GET", "/hosts"),
        ("GET", "/operations"),
        ("GET", "/images"),
        ("GET", "/events"),
        ("DELETE", "/vms/x"),
        ("POST", "/hosts/x/maintenance"),
    ]:
        p = problem(anon.request(method, path), 401)
        assert p["detail"] == "missing bearer token (or sign in for a session)"
    bad = anon.get("/vms", headers={"Authorization": "Bearer nct_wrong"})
    assert problem(bad, 401)["detail"] == "invalid or revoked token"
    assert problem(anon.get("/vms", headers={"Authorization": "Basic abc"}), 401)


def test_an_agent_token_is_not_a_user_token(cluster: Cluster) -> None:
    from novacron.core.database import Database
    from novacron.security.tokens import issue_token

    db = Database(cluster.settings.resolved_database_url)
    try:
        with db.session() as s:
            _, agent_token = issue_token(s, "agent:test", "agent", "agent")
    finally:
        db.dispose()
    headers = {"Authorization": f"Bearer {agent_token}"}
    p = problem(httpx.get(f"{cluster.url}/api/v1/vms", headers=headers), 401)
    assert p["detail"] == "invalid or revoked token"
    # ...while the heartbeat route takes it (and answers for an agent it doesn't know).
    resp = httpx.post(f"{cluster.url}/api/v1/agents/heartbeat", json={"hosts": []}, headers=headers)
    assert resp.status_code == 404


def test_enrolment_token_is_checked(cluster: Cluster) -> None:
    resp = httpx.post(
        f"{cluster.url}/api/v1/agents/register",
        json={
            "enrolment_token": "nce_wrong",
            "name": "rogue",
            "url": "http://127.0.0.1:1",
            "api_secret": "x" * 32,
            "hosts": [],
        },
    )
    problem(resp, 401)
    resp = httpx.post(
        f"{cluster.url}/api/v1/agents/heartbeat",
        json={"hosts": []},
        headers={"Authorization": f"Bearer {cluster.token}"},
    )
    problem(resp, 401)


def test_the_ui_cookie_cannot_drive_the_api_from_another_origin(cluster: Cluster) -> None:
    cluster.create_vm("csrf-1")
    cookies = cluster.web_cookies()
    csrf = {"X-CSRF-Token": csrf_for(next(iter(cookies.values())))}
    url = f"{cluster.url}/api/v1/vms/csrf-1/pause"
    evil = httpx.post(
        url, timeout=30, cookies=cookies, headers={"Origin": "http://127.0.0.1:1", **csrf}
    )
    assert (
        problem(evil, 403)["detail"] == "cross-origin request refused (origin http://127.0.0.1:1)"
    )
    fetched = httpx.post(
        url, timeout=30, cookies=cookies, headers={"Sec-Fetch-Site": "same-site", **csrf}
    )
    assert problem(fetched, 403)
    # Same origin but without the session's CSRF token (or with another one): refused.
    same = {"Origin": cluster.url, "Sec-Fetch-Site": "same-origin"}
    assert (
        "CSRF" in problem(httpx.post(url, timeout=30, cookies=cookies, headers=same), 403)["detail"]
    )
    wrong = {**same, "X-CSRF-Token": csrf_for("another-session")}
    assert (
        "CSRF"
        in problem(httpx.post(url, timeout=30, cookies=cookies, headers=wrong), 403)["detail"]
    )
    assert cluster.api.get("/vms/csrf-1").json()["state"] == "running"
    # The UI's own fetches are same-origin and carry the token; reads need no proof.
    ok = httpx.post(url, timeout=30, cookies=cookies, headers={**same, **csrf})
    assert ok.status_code == 202
    assert httpx.get(f"{cluster.url}/api/v1/vms", cookies=cookies, timeout=30).status_code == 200
