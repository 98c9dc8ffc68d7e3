"""HTTP hardening on a real server: headers, body limits, sign-in rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from novacron.security.hardening import RateLimiter
from novacron.testing.cluster import Cluster


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir: Path = tmp_path_factory.mktemp("hardening")
    cluster = Cluster.start(
        data_dir, None, with_agent=False, login_rate_per_minute=5, max_request_bytes=4096
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def test_api_and_pages_carry_security_headers(hardened: Cluster) -> None:
    api = hardened.api.get("/vms")
    assert api.status_code == 200
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["x-frame-options"] == "DENY"
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["x-request-id"]
    page = httpx.get(f"{hardened.url}/login")
    # Pages keep their own policy (scripts from 'self'), not the API's.
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    refused = httpx.get(f"{hardened.url}/api/v1/vms")
    assert refused.status_code == 401
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_oversized_bodies_are_refused_before_parsing(hardened: Cluster) -> None:
    big = {"name": "x", "labels": {f"k{i}": "v" * 50 for i in range(200)}}
    resp = hardened.api.post("/vms", json=big)
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"
    assert "4096 bytes" in resp.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"name": "y", "labels": {'
        for i in range(300):
            yield f'"k{i}": "{"v" * 40}", '.encode()
        yield b'"end": "1"}}'

    resp = hardened.api.post("/vms", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert hardened.api.get("/vms").json()["total"] == 0
    assert hardened.api.post("/vms", json={"name": "small"}).status_code != 413


def test_sign_in_is_rate_limited_per_address(hardened: Cluster) -> None:
    url = f"{hardened.url}/api/v1/auth/login"
    codes = [
        httpx.post(url, json={"name": "nobody", "password": "wrong password"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    limited = httpx.post(url, json={"name": "nobody", "password": "wrong password"})
    assert int(limited.headers["retry-after"]) >= 1
    # Other endpoints are not affected.
    assert hardened.api.get("/vms").status_code == 200


def test_rate_limiter_refills_and_stays_bounded() -> None:
    limiter = RateLimiter(per_minute=60, max_keys=3)
    assert [limiter.take("a", now=0.0) for _ in range(60)] == [0.0] * 60
    assert limiter.take("a", now=0.0) == pytest.approx(1.0)
    assert limiter.take("a", now=1.0) == 0.0  # one token back after a second
    for key in "bcdef":
        limiter.take(key, now=2.0)
    assert len(limiter._buckets) == 3
