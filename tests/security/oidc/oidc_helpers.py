"""Helpers of the single sign-on tests: a browser-like sign-in and audit queries."""

from __future__ import annotations

from typing import Any

import httpx

from novacron.testing.cluster import Cluster

PROJECT = "sso-team"
ROLE = "operator"
ADMIN_GROUP = "novacron-admins"


def sso(
    url: str, *, next_path: str = "/", headers: dict[str, str] | None = None
) -> tuple[httpx.Client, httpx.Response]:
    """Sign in like a browser, following redirects by hand: NovaCron → provider →
    callback. Returns the client (holding the cookies) and the callback's response."""
    client = httpx.Client(timeout=30, follow_redirects=False)
    start = client.get(f"{url}/auth/oidc/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    at_idp = client.get(start.headers["location"])
    assert at_idp.status_code == 302, at_idp.text
    back = client.get(at_idp.headers["location"], headers=headers)
    return client, back


def audit(cluster: Cluster, **params: Any) -> list[dict[str, Any]]:
    resp = cluster.api.get("/audit", params={"limit": 1000, **params})
    resp.raise_for_status()
    items: list[dict[str, Any]] = resp.json()["items"]
    return items
