"""Errors become problem+json without breaking the client's connection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError, IntegrityError

from novacron.agent.testing import run_uvicorn_in_thread
from novacron.core import problems
from novacron.core.errors import NotFound
from novacron.testing.cluster import Cluster

PROBLEM = "application/problem+json"


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app, component="tiny")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/async-crash")
    async def async_crash() -> None:
        raise RuntimeError("secret internals")

    @app.get("/integrity")
    def integrity() -> None:
        raise IntegrityError("INSERT INTO vms (name) VALUES ('secret')", {}, Exception("x"))

    @app.get("/data")
    def data() -> None:
        raise DataError("SELECT * FROM vms WHERE name = 'secret'", {}, Exception("x"))

    @app.get("/missing")
    def missing() -> None:
        raise NotFound("no VM 'x'")

    @app.get("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_uvicorn_in_thread(_app()) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def _local_port(resp: httpx.Response) -> int:
    """The client side port of the connection that carried ``resp``."""
    return int(resp.extensions["network_stream"].get_extra_info("client_addr")[1])


def _problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status
    assert "secret" not in resp.text and "Traceback" not in resp.text
    assert "SELECT" not in resp.text and "INSERT" not in resp.text
    return dict(body)


@pytest.mark.parametrize("path", ["/crash", "/async-crash"])
def test_a_crash_answers_500_and_keeps_the_connection(client: httpx.Client, path: str) -> None:
    crashed = client.get(path)
    port = _local_port(crashed)
    body = _problem(crashed, 500)
    assert body["detail"] == "tiny internal error: RuntimeError"
    assert body["instance"] == path
    # The same connection serves the next request (uvicorn used to close it, so the
    # next request failed with ReadError, or at best went over a new connection).
    ok = client.get("/ok")
    assert ok.json() == {"ok": True}
    assert _local_port(ok) == port


def test_a_crash_is_logged_whole(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="novacron.api"):
        client.get("/crash")
    (record,) = [r for r in caplog.records if r.name == "novacron.api"]
    assert record.getMessage() == "unhandled error in GET /crash"
    assert record.exc_info and "hunter2" in str(record.exc_info[1])


def test_server_default_component() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("x")

    with run_uvicorn_in_thread(app) as url, httpx.Client(base_url=url) as c:
        crashed = c.get("/crash")
        port = _local_port(crashed)
        assert _problem(crashed, 500)["detail"] == "server internal error: RuntimeError"
        again = c.get("/crash")
        assert again.status_code == 500 and _local_port(again) == port


def test_integrity_error_is_a_conflict(client: httpx.Client) -> None:
    body = _problem(client.get("/integrity"), 409)
    assert body["type"].endswith("/conflict")
    assert "conflicts with existing data" in body["detail"]


def test_data_error_is_invalid_input(client: httpx.Client) -> None:
    body = _problem(client.get("/data"), 422)
    assert body["type"].endswith("/invalid")
    assert body["detail"] == "invalid value in request"


def test_other_errors_are_unchanged(client: httpx.Client) -> None:
    assert _problem(client.get("/missing"), 404)["detail"] == "no VM 'x'"
    assert _problem(client.get("/nope"), 404)["detail"] == "no route /nope"
    assert client.post("/ok").status_code == 405


def test_nul_byte_in_a_vm_reference(cluster: Cluster) -> None:
    # PostgreSQL refuses NUL bytes in text: that is bad input, not a server error.
    for path in ("/vms/a%00b", "/hosts/a%00b", "/operations/a%00b"):
        resp = cluster.api.get(path)
        assert resp.status_code in (404, 422), resp.text
        assert resp.headers["content-type"].startswith(PROBLEM)
    assert cluster.api.get("/vms").status_code == 200  # and the connection still works
