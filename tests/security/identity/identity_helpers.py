"""Helpers of the identity tests: problem checks, users made through the admin API, and
signed-in browser-like clients (session cookie + CSRF token)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from novacron.core.database import Database
from novacron.security.models import AuditRecord
from novacron.testing.cluster import Cluster

PASSWORD = "Tidal-Orchard-9-Lantern"
PROBLEM = "application/problem+json"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def unique(prefix: str) -> str:
    """A user or project name no other test of the module uses."""
    return f"{prefix}-{secrets.token_hex(3)}"


def new_user(cluster: Cluster, prefix: str, password: str | None = PASSWORD, **extra: Any) -> str:
    name = unique(prefix)
    body: dict[str, Any] = {"name": name, **extra}
    if password is not None:
        body["password"] = password
    ok(cluster.api.post("/users", json=body), 201)
    return name


def grant(cluster: Cluster, project: str, user: str, role: str) -> None:
    ok(cluster.api.post(f"/projects/{project}/members", json={"user": user, "role": role}), 201)


@dataclass
class Browser:
    """A signed-in client: the session cookie (kept by httpx) and the CSRF token the
    login answered with, sent on every state-changing request like the pages do."""

    client: httpx.Client
    csrf: str
    login: httpx.Response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("POST", path, **kwargs)

    def close(self) -> None:
        self.client.close()


def login_response(
    cluster: Cluster, name: str, password: str = PASSWORD, code: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"name": name, "password": password}
    if code is not None:
        body["code"] = code
    return httpx.post(f"{cluster.url}/api/v1/auth/login", json=body, timeout=30)


def sign_in(
    cluster: Cluster, name: str, password: str = PASSWORD, code: str | None = None
) -> Browser:
    response = login_response(cluster, name, password, code)
    assert response.status_code == 200, response.text
    client = httpx.Client(base_url=f"{cluster.url}/api/v1", timeout=30)
    client.cookies.update(response.cookies)
    return Browser(client, response.json()["csrf_token"], response)


def bearer(cluster: Cluster, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{cluster.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def audit_of(db: Database, request_id: str) -> list[AuditRecord]:
    """The audit records of one request (by the id its response carried)."""
    with db.read() as s:
        query = select(AuditRecord).where(AuditRecord.request_id == request_id)
        return list(s.scalars(query.order_by(AuditRecord.seq)))
