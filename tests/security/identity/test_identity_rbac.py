"""Roles in projects over the real API: a second project with one user per role, each
acting through their own token. Compute and corporate rights per role, project isolation,
platform-only routes, project admins managing their own members, and the last admins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from identity_helpers import PASSWORD, bearer, grant, new_user, ok, problem, unique

from novacron.compute.operations import TERMINAL
from novacron.security.rbac import ROLES
from novacron.testing.cluster import Cluster, wait_until
from novacron.testing.security import create_project, user_token

WITH_AGENT = True  # VMs are really created

VM = {"vcpus": 1, "memory_mib": 64, "disk_gib": 1}
NPV = {"rate": 0.1, "cashflows": [-100, 60, 60], "timing": "t0"}


@dataclass
class Team:
    """Project B and one client per role in it (tokens with every scope)."""

    project: dict[str, Any]
    names: dict[str, str]
    clients: dict[str, httpx.Client]

    @property
    def header(self) -> dict[str, str]:
        return {"X-NovaCron-Project": self.project["name"]}

    def as_(self, role: str) -> httpx.Client:
        return self.clients[role]

    def wait_op(self, op: dict[str, Any]) -> dict[str, Any]:
        """Operations are the project's: the platform admin's default project has none."""

        def done() -> dict[str, Any] | None:
            body: dict[str, Any] = ok(self.as_("viewer").get(f"/operations/{op['id']}"))
            return body if body["state"] in TERMINAL else None

        result: dict[str, Any] = wait_until(done, 30, what=f"operation {op['id']}")
        return result


@pytest.fixture(scope="module")
def team(cluster: Cluster) -> Iterator[Team]:
    project = create_project(cluster.url, cluster.token, unique("proj-b"))
    names, clients = {}, {}
    for role in ROLES:
        name = unique(role)
        token = user_token(cluster.url, cluster.token, name, {project["name"]: role})
        names[role] = name
        clients[role] = bearer(cluster, token)
        clients[role].headers["X-NovaCron-Project"] = project["name"]
    yield Team(project, names, clients)
    for client in clients.values():
        client.close()


def test_whoami_shows_the_role_in_the_project(team: Team) -> None:
    for role in ROLES:
        me = ok(team.as_(role).get("/auth/whoami"))
        assert me["project"] == team.project["id"]
        assert me["projects"] == [
            {"id": team.project["id"], "name": team.project["name"], "roles": [role]}
        ]
        assert me["platform_admin"] is False


def test_operators_and_admins_create_vms_viewers_do_not(cluster: Cluster, team: Team) -> None:
    created = {}
    for role in ("operator", "admin"):
        op = ok(team.as_(role).post("/vms", json={**VM, "name": f"{role}-vm"}), 202)
        done = team.wait_op(op)
        assert done["state"] == "succeeded", done
        created[role] = done["target_id"]
    for role in ("viewer", "corp-manager", "corp-analyst", "corp-viewer"):
        refused = problem(team.as_(role).post("/vms", json={**VM, "name": f"{role}-vm"}), 403)
        assert refused["detail"] == f"{team.names[role]} may not write compute in this project"

    # Everyone with compute rights sees the project's VMs; corporate roles do not.
    for role in ("viewer", "operator", "admin"):
        listed = ok(team.as_(role).get("/vms"))
        assert {v["id"] for v in listed["items"]} == set(created.values())
    problem(team.as_("corp-viewer").get("/vms"), 403)
    # A viewer cannot stop a VM; the operator can.
    vm = created["operator"]
    problem(team.as_("viewer").post(f"/vms/{vm}/stop"), 403)
    stopped = team.wait_op(ok(team.as_("operator").post(f"/vms/{vm}/stop"), 202))
    assert stopped["state"] == "succeeded"


def test_corporate_approvals_need_the_manager(team: Team) -> None:
    analyst, manager = team.as_("corp-analyst"), team.as_("corp-manager")
    target = ok(
        analyst.post("/corporate/targets", json={"name": unique("Acme"), "category": "storage"}),
        201,
    )
    base = f"/corporate/targets/{target['id']}"
    ok(analyst.post(f"{base}/valuations", json={"kind": "npv", "inputs": NPV}), 201)
    denied = problem(analyst.post(f"{base}/valuations/1/approve"), 403)
    assert denied["detail"].endswith("may not approve corporate in this project")
    problem(team.as_("operator").post(f"{base}/valuations/1/approve"), 403)
    valuation = {"kind": "npv", "inputs": NPV}
    problem(team.as_("corp-viewer").post(f"{base}/valuations", json=valuation), 403)
    approved = ok(manager.post(f"{base}/valuations/1/approve"))
    assert approved["approved"] is True and approved["approved_by"] == team.names["corp-manager"]
    # Readers read.
    for role in ("corp-viewer", "viewer", "operator"):
        assert ok(team.as_(role).get(f"{base}/valuations"))["total"] == 1


def test_mdf_approval_needs_the_manager(team: Team) -> None:
    analyst, manager = team.as_("corp-analyst"), team.as_("corp-manager")
    partner = ok(
        analyst.post(
            "/corporate/partners",
            json={"name": unique("Gamma"), "type": "hardware", "currency": "USD",
                  "status": "active"},
        ),
        201,
    )  # fmt: skip
    programme = ok(
        analyst.post(
            "/corporate/partner-programmes",
            json={"name": unique("Field"), "kind": "marketing", "start_on": "2026-01-01",
                  "mdf_budget": "10000", "budget_currency": "USD"},
        ),
        201,
    )  # fmt: skip
    ok(analyst.post(f"/corporate/partner-programmes/{programme['id']}/enrol",
                    json={"partner": partner["id"]}), 201)  # fmt: skip
    req = ok(
        analyst.post(
            "/corporate/mdf",
            json={"partner": partner["id"], "programme": programme["name"], "activity": "Show",
                  "currency": "USD", "planned_start": "2026-03-01", "planned_end": "2026-03-31",
                  "amount": "2500"},
        ),
        201,
    )  # fmt: skip
    body = {"approved_amount": "2000"}
    problem(analyst.post(f"/corporate/mdf/{req['id']}/approve", json=body), 403)
    problem(team.as_("corp-viewer").post(f"/corporate/mdf/{req['id']}/approve", json=body), 403)
    approved = ok(manager.post(f"/corporate/mdf/{req['id']}/approve", json=body))
    assert approved["state"] == "approved"
    # The project admin approves too.
    assert ok(team.as_("admin").get(f"/corporate/mdf/{req['id']}"))["state"] == "approved"


def test_members_of_b_are_refused_in_a(cluster: Cluster, team: Team) -> None:
    vm = cluster.create_vm(unique("a-vm"))  # in the default project, by the platform admin
    for role in ROLES:
        client = team.as_(role)
        # By header (name or id), and by query parameter when no header says otherwise.
        by_query = httpx.Client(base_url=client.base_url, timeout=30)
        by_query.headers["Authorization"] = client.headers["Authorization"]
        for response in (
            client.get("/corporate/targets", headers={"X-NovaCron-Project": "default"}),
            client.get("/corporate/targets", headers={"X-NovaCron-Project": "proj-default"}),
            by_query.get("/corporate/targets", params={"project": "default"}),
        ):
            denied = problem(response, 403)
            assert denied["detail"] == (
                f"{team.names[role]} may not read corporate in this project"
            )
        by_query.close()
        problem(client.get("/vms", headers={"X-NovaCron-Project": "no-such-project"}), 404)
    # In their own project, A's VM does not exist.
    problem(team.as_("admin").get(f"/vms/{vm['id']}"), 404)
    problem(team.as_("admin").post(f"/vms/{vm['id']}/stop"), 404)
    assert vm["id"] not in {v["id"] for v in ok(team.as_("viewer").get("/vms"))["items"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("POST", "/users"),
        ("GET", "/audit"),
        ("GET", "/audit/verify"),
        ("GET", "/audit/export"),
        ("GET", "/projects"),
        ("POST", "/projects"),
        ("POST", "/users/admin/unlock"),
        ("PATCH", "/hosts/sim-001"),
    ],
)
def test_platform_routes_are_for_platform_admins_only(
    cluster: Cluster, team: Team, method: str, path: str
) -> None:
    for role in ROLES:
        problem(team.as_(role).request(method, path, json={}), 403)
    assert cluster.api.request(method, path, json={}).status_code != 403


def test_project_admins_manage_their_own_members_only(cluster: Cluster, team: Team) -> None:
    admin = team.as_("admin")
    newcomer = new_user(cluster, "newcomer")
    base = f"/projects/{team.project['name']}"
    added = ok(admin.post(f"{base}/members", json={"user": newcomer, "role": "viewer"}), 201)
    assert added == {"user": newcomer, "user_id": added["user_id"], "role": "viewer"}
    members = {(m["user"], m["role"]) for m in ok(admin.get(f"{base}/members"))}
    assert (newcomer, "viewer") in members and (team.names["admin"], "admin") in members
    bad = problem(admin.post(f"{base}/members", json={"user": "ghost", "role": "viewer"}), 422)
    assert bad["errors"][0]["loc"] == ["body", "user"]
    bad_role = problem(admin.post(f"{base}/members", json={"user": newcomer, "role": "god"}), 422)
    assert bad_role["errors"][0]["loc"] == ["body", "role"]

    # Not in another project, whatever the header says.
    for path in ("/projects/default/members", "/projects/proj-default/members"):
        problem(admin.post(path, json={"user": newcomer, "role": "admin"}), 403)
        problem(admin.get(path, headers={"X-NovaCron-Project": "default"}), 403)
    problem(admin.delete("/projects/default/members/admin/admin"), 403)

    # Other roles read the members but do not change them.
    ok(team.as_("viewer").get(f"{base}/members"))
    promote = {"user": newcomer, "role": "admin"}
    problem(team.as_("operator").post(f"{base}/members", json=promote), 403)
    # The description is the project admin's; quotas are the platform's.
    assert ok(admin.patch(base, json={"description": "team B"}))["description"] == "team B"
    assert "platform admin" in problem(admin.patch(base, json={"quota_vms": 100}), 403)["detail"]
    assert ok(cluster.api.patch(base, json={"quota_vms": 100}))["quota_vms"] == 100
    assert admin.delete(f"{base}/members/{newcomer}/viewer").status_code == 204
    assert newcomer not in {m["user"] for m in ok(admin.get(f"{base}/members"))}


def test_the_last_admin_of_a_project_cannot_be_removed(cluster: Cluster) -> None:
    first = new_user(cluster, "owner")
    project = ok(cluster.api.post("/projects", json={"name": unique("solo"), "admin": first}), 201)
    base = f"/projects/{project['id']}/members"
    last = problem(cluster.api.delete(f"{base}/{first}/admin"), 409)
    assert last["detail"] == f"{project['name']} would have no admin left"
    second = new_user(cluster, "heir")
    grant(cluster, project["name"], second, "admin")
    assert cluster.api.delete(f"{base}/{first}/admin").status_code == 204
    problem(cluster.api.delete(f"{base}/{second}/admin"), 409)
    problem(cluster.api.delete(f"{base}/{first}/admin"), 404)  # no longer a member


def test_the_last_platform_admin_cannot_be_disabled_or_demoted(cluster: Cluster) -> None:
    disabled = problem(cluster.api.patch("/users/admin", json={"disabled": True}), 409)
    assert disabled["detail"] == "the last platform admin cannot be disabled"
    problem(cluster.api.patch("/users/admin", json={"platform_admin": False}), 409)
    assert ok(cluster.api.get("/users/admin"))["disabled_at"] is None

    # With a second platform admin, either may go; then the other is the last again.
    deputy = new_user(cluster, "deputy", platform_admin=True)
    deputy_token = user_token(cluster.url, cluster.token, deputy, password=PASSWORD)
    with bearer(cluster, deputy_token) as api:
        assert len(ok(api.get("/users"))) >= 2  # a platform admin with no project role
    ok(cluster.api.patch(f"/users/{deputy}", json={"disabled": True}))
    problem(cluster.api.patch("/users/admin", json={"disabled": True}), 409)
    with bearer(cluster, deputy_token) as api:
        problem(api.get("/users"), 401)
    ok(cluster.api.patch(f"/users/{deputy}", json={"disabled": False}))
    ok(cluster.api.patch(f"/users/{deputy}", json={"platform_admin": False}))
    with bearer(cluster, deputy_token) as api:
        problem(api.get("/users"), 403)
