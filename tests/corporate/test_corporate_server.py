"""The corporate routes are mounted behind authentication."""

from __future__ import annotations

import httpx

from novacron.testing.corporate import CorporateServer


def test_corporate_routes_need_a_token(corp: CorporateServer) -> None:
    # Generous: the first request builds the whole OpenAPI document (seconds on a busy box).
    spec = httpx.get(f"{corp.url}/openapi.json", headers=corp.api.headers, timeout=60).json()
    corporate = [path for path in spec["paths"] if path.startswith("/api/v1/corporate")]
    assert corporate, "no corporate routes are mounted"
    for path in corporate:
        if "{" in path:
            continue
        methods = spec["paths"][path]
        if "get" in methods:
            assert httpx.get(f"{corp.url}{path}").status_code == 401, path
