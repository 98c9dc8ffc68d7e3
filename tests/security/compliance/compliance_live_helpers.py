"""Helpers of the live compliance tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from novacron.testing.cluster import Cluster

BASE = "/security/compliance"
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
    return f"{prefix}-{secrets.token_hex(3)}"


def run(cluster: Cluster) -> dict[str, Any]:
    """A new compliance run, with its findings."""
    body: dict[str, Any] = ok(cluster.api.post(f"{BASE}/runs"), 201)
    return body


def findings(run_detail: dict[str, Any], check_id: str) -> dict[str, dict[str, Any]]:
    """The findings of one check, by resource."""
    return {f["resource"]: f for f in run_detail["findings"] if f["check_id"] == check_id}


def finding(
    run_detail: dict[str, Any], check_id: str, resource: str = "platform"
) -> dict[str, Any]:
    found = findings(run_detail, check_id)
    assert resource in found, (check_id, resource, sorted(found))
    return found[resource]
