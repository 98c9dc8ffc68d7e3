"""Every route × every role × two projects, over real HTTP against a real server.

Project ``alpha`` holds one of everything (a VM, an image, a placement group, the
corporate demo portfolio). Users hold each project role in ``alpha``; ``outsider`` is
admin of ``beta`` only. The sweep fails when any route

- answers without credentials (anything but 401, or a redirect to sign-in for pages);
- lets ``outsider`` act in ``alpha`` (anything but 403);
- shows ``outsider``, acting in ``beta``, an ``alpha`` object: a 2xx for a URL naming
  one, or a listing that contains one's id;
- disagrees with the role policy: 403 for a role the policy allows, anything else for
  one it forbids.

Routes come from the app itself (pages and fragments included), so a new route is swept
the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from novacron.api import create_app
from novacron.core.config import Settings
from novacron.security.rbac import POLICY, ROLES, classify
from novacron.testing.cluster import Cluster, wait_until
from novacron.testing.security import create_project, user_token

# Reached without a user's credentials by design: health, sign-in, agents (their own
# tokens, checked in the handler), and the sign-in/out pages.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/agents/register"),
    ("POST", "/api/v1/agents/heartbeat"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/vendor/plotly.min.js"),  # a static asset from the plotly wheel
    ("GET", "/auth/oidc/login"),  # single sign-on: off (404) unless configured
    ("GET", "/auth/oidc/callback"),
    ("POST", "/api/v1/agents/enrol"),  # a one-time enrolment token in the body
    ("POST", "/api/v1/agents/rotate"),  # the agent's client certificate (409 without TLS)
    ("GET", "/api/v1/pki/ca.crt"),  # the CA certificate is public (404 while TLS is off)
}
AGENT_ROUTES = "/api/v1/agents/"
"""Agents' own routes: agent credentials only, so user tokens are refused outright."""
# Never called as an allowed role: they would hang (streams) or reload the demo.
NOT_CALLED_WHEN_ALLOWED = {
    ("GET", "/api/v1/events/stream"),
    ("POST", "/api/v1/corporate/demo"),
    ("POST", "/api/v1/auth/logout"),
}
MISSING = "sweep-missing"
PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    def url(self, values: dict[str, str]) -> str:
        return PARAM.sub(lambda m: values.get(m.group(1), MISSING), self.path)


def all_routes() -> list[Route]:
    app = create_app(Settings(), workers=False)
    routes = {
        Route(method, path)
        for path, methods in _walk(app.routes)
        for method in methods - {"HEAD", "OPTIONS"}
    }
    return sorted(routes, key=lambda r: (r.path, r.method))


def _walk(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
    """(path template, methods) of every API route, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods)
        elif hasattr(route, "effective_candidates"):  # a router included in the app
            for candidate in route.effective_candidates():
                original = getattr(candidate, "original_route", None)
                if isinstance(original, APIRoute):
                    yield candidate.path, set(candidate.methods)
                else:
                    yield from _walk([candidate])


def policy_allows(role: str, resource: str, action: str) -> bool:
    for r, obj, act in POLICY:
        if r == role and obj in ("*", resource) and re.fullmatch(act, action):
            return True
    return False


@dataclass
class World:
    cluster: Cluster
    tokens: dict[str, str]
    alpha: str
    beta: str
    alpha_ids: set[str]
    values: dict[str, dict[str, str]]
    """For each route path: its path parameters filled with alpha's objects."""
    client: httpx.Client
    """Keep-alive connections to the server, shared by the sweeping threads."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("sweep")
    cluster = Cluster.start(data_dir, None)
    try:
        yield _populate(cluster)
    finally:
        cluster.stop()


def _populate(cluster: Cluster) -> World:
    url, admin = cluster.url, cluster.token
    alpha = create_project(url, admin, "alpha")["id"]
    beta = create_project(url, admin, "beta")["id"]
    tokens = {role: user_token(url, admin, f"u-{role}", {"alpha": role}) for role in ROLES}
    tokens["outsider"] = user_token(url, admin, "outsider", {"beta": "admin"})
    api = httpx.Client(
        base_url=f"{url}/api/v1",
        headers={"Authorization": f"Bearer {admin}", "X-NovaCron-Project": "alpha"},
        timeout=60,
    )
    api.post("/images", json={"name": "alpha-image"}).raise_for_status()
    api.post("/placement-groups", json={"name": "alpha-group", "policy": "anti-affinity"})
    vm = {"name": "alpha-vm", "image": "alpha-image", "vcpus": 1, "memory_mib": 256, "disk_gib": 1}
    created = api.post("/vms", json=vm)
    created.raise_for_status()
    wait_until(
        lambda: api.get(f"/operations/{created.json()['id']}").json()["state"] == "succeeded",
        30,
        what="alpha-vm",
    )
    api.post("/corporate/demo", json={}).raise_for_status()
    routes = all_routes()
    values, alpha_ids = _alpha_values(api, routes)
    client = httpx.Client(
        base_url=url,
        follow_redirects=False,
        timeout=60,
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
    )
    return World(cluster, tokens, alpha, beta, alpha_ids, values, client)


def _ids_in(data: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                yield from _ids_in(value)
            else:
                yield key, value
    elif isinstance(data, list):
        for item in data:
            yield from _ids_in(item)


def _first_item(data: Any) -> dict[str, Any] | None:
    items = data.get("items") if isinstance(data, dict) else data
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def _alpha_values(
    api: httpx.Client, routes: list[Route]
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Fill each route's path parameters from alpha's listings, left to right: the list
    at the path before a parameter names the objects it can take."""
    alpha_ids: set[str] = set()
    listings: dict[str, Any] = {}

    def listing(path: str) -> Any:
        if path not in listings:
            resp = api.get(path.removeprefix("/api/v1"))
            listings[path] = resp.json() if resp.status_code == 200 else None
            owned = classify("GET", path).resource in ("compute", "corporate")
            if listings[path] is not None and owned:
                alpha_ids.update(
                    str(v) for k, v in _ids_in(listings[path]) if k == "id" and isinstance(v, str)
                )
        return listings[path]

    values: dict[str, dict[str, str]] = {}
    for route in routes:
        if not route.path.startswith("/api/v1/") or not route.params:
            continue
        filled: dict[str, str] = {}
        for name in route.params:
            prefix = route.path.split("{" + name)[0].rstrip("/")
            item = _first_item(listing(Route("GET", prefix).url(filled)))
            if item is None:
                break
            for key in (name, "id", "name", "version", "number"):
                if key in item and item[key] is not None:
                    filled[name] = str(item[key])
                    break
        values[route.path] = filled
    return values, alpha_ids


def call(
    world: World, route: Route, who: str | None, project: str | None, *, real: bool
) -> httpx.Response:
    headers: dict[str, str] = {}
    if who is not None:
        headers["Authorization"] = f"Bearer {world.tokens[who]}"
    if project is not None:
        headers["X-NovaCron-Project"] = project
    values = world.values.get(route.path, {}) if real else {}
    body = {} if route.method in ("POST", "PUT", "PATCH") else None
    return world.client.request(route.method, route.url(values), headers=headers, json=body)


def sweep(routes: list[Route], check: Callable[[Route], str | None]) -> list[str]:
    """Run ``check`` over routes concurrently (the server serves many at once); the
    problems it reports, in route order."""
    with ThreadPoolExecutor(8) as pool:
        return [p for p in pool.map(check, routes) if p]


def test_the_sweep_covers_every_slice(world: World) -> None:
    routes = all_routes()
    paths = {r.path for r in routes}
    for prefix in ("/api/v1/vms", "/api/v1/corporate/targets", "/api/v1/audit", "/corporate"):
        assert any(p.startswith(prefix) for p in paths), prefix
    with_params = [p for p in world.values if PARAM.search(p)]
    resolved = [p for p in with_params if world.values[p]]
    # Most routes with parameters were called with a real alpha object.
    assert len(resolved) >= 0.6 * len(with_params), sorted(set(with_params) - set(resolved))
    assert len(world.alpha_ids) > 20


def test_no_route_answers_without_credentials(world: World) -> None:
    def check(route: Route) -> str | None:
        resp = call(world, route, None, None, real=True)
        page = not route.path.startswith(("/api/", "/ui/", "/openapi.json"))
        refused = resp.status_code == 401 or (
            page and resp.status_code == 303 and resp.headers["location"].startswith("/login")
        )
        return None if refused else f"{route.method} {route.path} -> {resp.status_code}"

    routes = [r for r in all_routes() if (r.method, r.path) not in PUBLIC]
    assert sweep(routes, check) == []


def test_no_route_lets_an_outsider_act_in_another_project(world: World) -> None:
    def check(route: Route) -> str | None:
        resp = call(world, route, "outsider", "alpha", real=True)
        return None if resp.status_code == 403 else f"{route} -> {resp.status_code}"

    routes = [
        r
        for r in all_routes()
        if (r.method, r.path) not in PUBLIC
        and classify(r.method, r.path).resource != "self"
        and not r.path.startswith(("/api/v1/projects/{project_ref}", AGENT_ROUTES))
    ]
    assert sweep(routes, check) == []


def test_project_urls_of_another_project_are_refused(world: World) -> None:
    outsider = {"Authorization": f"Bearer {world.tokens['outsider']}"}
    for path in ("/api/v1/projects/alpha", "/api/v1/projects/alpha/members"):
        assert world.client.get(path, headers=outsider).status_code == 403, path
    own = world.client.get("/api/v1/projects/beta/members", headers=outsider)
    assert own.status_code == 200
    assert [m["user"] for m in own.json()] == ["outsider"]


def test_no_route_shows_an_outsider_another_projects_objects(world: World) -> None:
    def check(route: Route) -> str | None:
        resp = call(world, route, "outsider", "beta", real=True)
        if world.values.get(route.path):
            if 200 <= resp.status_code < 300:
                return f"GET {route.url(world.values[route.path])} -> {resp.status_code}"
        elif resp.status_code == 200:
            shown = world.alpha_ids & set(re.findall(r"[a-z]+-[0-9a-f]{8,}", resp.text))
            if shown:
                return f"GET {route.path} lists alpha's {sorted(shown)[:3]}"
        return None

    routes = [
        r
        for r in all_routes()
        if r.method == "GET"
        and (r.method, r.path) not in PUBLIC | NOT_CALLED_WHEN_ALLOWED
        and classify(r.method, r.path).resource in ("compute", "corporate")
        and not r.path.startswith("/api/v1/corporate/calc")
    ]
    assert sweep(routes, check) == []


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_enforces_the_role_policy(world: World, role: str) -> None:
    def check(route: Route) -> str | None:
        need = classify(route.method, route.path)
        allowed = policy_allows(role, need.resource, need.action)
        if allowed and (route.method, route.path) in NOT_CALLED_WHEN_ALLOWED:
            return None
        if route.path.startswith("/api/v1/projects/{project_ref}"):
            # The project in the URL is the domain: alpha, where the role is held.
            body = {} if route.method in ("POST", "PATCH") else None
            resp = world.client.request(
                route.method,
                route.url({"project_ref": "alpha"}),
                headers={"Authorization": f"Bearer {world.tokens[role]}"},
                json=body,
            )
        else:
            # Allowed calls use made-up ids so the sweep changes nothing it relies on.
            resp = call(world, route, role, "alpha", real=not allowed or route.method == "GET")
        if allowed and resp.status_code == 403:
            return f"{role} refused {route.method} {route.path}: {resp.text[:160]}"
        if not allowed and resp.status_code != 403:
            return f"{role} reached {route.method} {route.path} -> {resp.status_code}"
        return None

    routes = [
        r
        for r in all_routes()
        if (r.method, r.path) not in PUBLIC
        and classify(r.method, r.path).resource != "self"
        and not r.path.startswith(AGENT_ROUTES)
    ]
    assert sweep(routes, check) == []


def test_user_tokens_never_reach_agent_routes(world: World) -> None:
    def check(route: Route) -> str | None:
        resp = call(world, route, "admin", "alpha", real=True)
        return None if resp.status_code in (401, 403) else f"{route} -> {resp.status_code}"

    routes = [
        r
        for r in all_routes()
        if r.path.startswith(AGENT_ROUTES) and (r.method, r.path) not in PUBLIC
    ]
    assert len(routes) >= 2
    assert sweep(routes, check) == []
