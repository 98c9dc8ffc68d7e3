"""Test helpers for the security slice: projects, users with roles, and their tokens,
made through the real API the way an administrator and the users themselves would."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "sweep-Passphrase-2026"


def create_project(url: str, admin_token: str, name: str, **quotas: Any) -> dict[str, Any]:
    resp = httpx.post(
        f"{url}/api/v1/projects",
        json={"name": name, **quotas},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    )
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def user_token(
    url: str,
    admin_token: str,
    name: str,
    grants: dict[str, str] | None = None,
    *,
    password: str = PASSWORD,
    scopes: list[str] | None = None,
) -> str:
    """Create user ``name`` with ``grants`` (project → role); the user signs in and mints
    an API token for themselves. Returns the token."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client:
        client.post("/users", json={"name": name, "password": password}, headers=admin)
        for project, role in (grants or {}).items():
            resp = client.post(
                f"/projects/{project}/members", json={"user": name, "role": role}, headers=admin
            )
            resp.raise_for_status()
        login = client.post("/auth/login", json={"name": name, "password": password})
        login.raise_for_status()
        csrf = {"X-CSRF-Token": login.json()["csrf_token"], "Origin": url}
        made = client.post(
            "/tokens", json={"name": f"{name}-token", "scopes": scopes or ["*"]}, headers=csrf
        )
        made.raise_for_status()
        client.post("/auth/logout", headers=csrf)
        token: str = made.json()["token"]
        return token
