"""Registration and heartbeats, against ``FakeControlPlane`` (a test fake of the server)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from novacron import __version__
from novacron.agent.client import AgentClient
from novacron.agent.main import run_agent, serve_agent
from novacron.agent.reporter import Reporter
from novacron.agent.testing import free_port, run_agent_in_thread, run_uvicorn_in_thread
from novacron.core.errors import AgentUnreachable, Invalid
from novacron.hypervisor.base import VMSpec
from novacron.hypervisor.sim import OPERATIONS, SimFleet

pytestmark = pytest.mark.timeout(60)

ENROLMENT = "enrol-secret-123"
NO_DELAYS = dict.fromkeys(OPERATIONS, 0.0)


class FakeControlPlane:
    """A TEST FAKE of the server's agent endpoints, not the real server.

    Accepts registrations with ``enrolment_token``, hands out tokens ``tok-1``,
    ``tok-2`` …, records every request, and answers heartbeats with the VMs it
    considers deleted (``deleted``) that the agent still reports: the orphans.
    """

    def __init__(self, enrolment_token: str = ENROLMENT, heartbeat_interval_s: float = 0.05):
        self.enrolment_token = enrolment_token
        self.heartbeat_interval_s = heartbeat_interval_s
        self.lock = threading.Lock()
        self.registrations: list[dict[str, Any]] = []
        self.heartbeats: list[tuple[str, dict[str, Any]]] = []
        self.rejected_registrations = 0
        self.tokens: set[str] = set()
        self.deleted: set[tuple[str, str]] = set()
        self.app = self._build()

    def _build(self) -> FastAPI:
        app = FastAPI()

        def problem(status: int, detail: str) -> JSONResponse:
            body = {"type": "https://novacron.dev/problems/unauthorized", "title": "Unauthorized"}
            return JSONResponse(
                {**body, "status": status, "detail": detail},
                status_code=status,
                media_type="application/problem+json",
            )

        @app.post("/api/v1/agents/register")
        async def register(request: Request) -> JSONResponse:
            body = await request.json()
            with self.lock:
                if body.get("enrolment_token") != self.enrolment_token:
                    self.rejected_registrations += 1
                    return problem(401, "invalid enrolment token")
                self.registrations.append(body)
                token = f"tok-{len(self.registrations)}"
                self.tokens.add(token)
            return JSONResponse(
                {
                    "agent_id": "agent-1",
                    "token": token,
                    "hosts": {h["name"]: f"host-{h['name']}" for h in body["hosts"]},
                    "heartbeat_interval_s": self.heartbeat_interval_s,
                }
            )

        @app.post("/api/v1/agents/heartbeat")
        async def heartbeat(request: Request) -> JSONResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            body = await request.json()
            with self.lock:
                if token not in self.tokens:
                    return problem(401, "unknown agent token")
                self.heartbeats.append((token, body))
                orphans: dict[str, list[str]] = {}
                for host in body["hosts"]:
                    for vm in host["vms"]:
                        if (host["name"], vm["id"]) in self.deleted:
                            orphans.setdefault(host["name"], []).append(vm["id"])
            return JSONResponse({"orphans": orphans})

        return app

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def heartbeat_count(self) -> int:
        with self.lock:
            return len(self.heartbeats)

    def last_heartbeat(self) -> dict[str, Any]:
        with self.lock:
            return self.heartbeats[-1][1]

    def hosts_in_last_heartbeat(self) -> dict[str, dict[str, Any]]:
        return {h["name"]: h for h in self.last_heartbeat()["hosts"]}


@pytest.fixture
def control_plane() -> Iterator[tuple[FakeControlPlane, str]]:
    fake = FakeControlPlane()
    with run_uvicorn_in_thread(fake.app) as url:
        yield fake, url


async def eventually(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def heartbeats_after(fake: FakeControlPlane, n: int = 2) -> None:
    """Wait until ``n`` more heartbeats arrived, so the latest reflects current state."""
    target = fake.heartbeat_count() + n
    await eventually(lambda: fake.heartbeat_count() >= target)


def make_reporter(server_url: str, fleet: SimFleet, **kw: Any) -> Reporter:
    options: dict[str, Any] = {
        "server_url": server_url,
        "enrolment_token": ENROLMENT,
        "name": "agent-a",
        "agent_url": "http://127.0.0.1:9999",
        "api_secret": "agent-api-secret",
        "drivers": fleet,
        "retry_initial_s": 0.01,
        "retry_max_s": 0.05,
        "enrolment_retry_s": 0.05,
    }
    options.update(kw)
    return Reporter(**options)


@contextlib.asynccontextmanager
async def reporting(reporter: Reporter) -> AsyncIterator[Reporter]:
    task = asyncio.create_task(reporter.run())
    try:
        yield reporter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def fleet_of(count: int = 3, prefix: str = "a-") -> SimFleet:
    return SimFleet.build(prefix, count, vcpus=8, memory_mib=16384, disk_gib=100, delays=NO_DELAYS)


def spec(vm_id: str) -> VMSpec:
    return VMSpec(id=vm_id, name=vm_id, vcpus=1, memory_mib=1024, disk_gib=10)


# -- registration and heartbeats -------------------------------------------------------


def test_registration_payload(control_plane: tuple[FakeControlPlane, str]) -> None:
    fake, url = control_plane

    async def scenario() -> Reporter:
        fleet = fleet_of()
        async with reporting(make_reporter(url, fleet)) as reporter:
            await asyncio.wait_for(reporter.registered.wait(), 10)
            return reporter

    reporter = asyncio.run(scenario())
    assert len(fake.registrations) == 1
    registration = fake.registrations[0]
    assert registration == {
        "enrolment_token": ENROLMENT,
        "name": "agent-a",
        "url": "http://127.0.0.1:9999",
        "api_secret": "agent-api-secret",
        "version": __version__,
        "hosts": [
            {
                "name": f"a-00{i}",
                "driver": "sim",
                "vcpus": 8,
                "memory_mib": 16384,
                "disk_gib": 100,
                "capabilities": ["sim", "live-migration"],
                "labels": {},
                "cpu_used_pct": 0.0,
                "memory_used_mib": 0,
            }
            for i in (1, 2, 3)
        ],
    }
    assert reporter.agent_id == "agent-1"
    assert reporter.host_ids == {
        "a-001": "host-a-001",
        "a-002": "host-a-002",
        "a-003": "host-a-003",
    }
    assert reporter.heartbeat_interval_s == 0.05


def test_periodic_heartbeats_carry_host_info_and_vms(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        fleet = fleet_of()
        async with reporting(make_reporter(url, fleet)):
            await eventually(lambda: fake.heartbeat_count() >= 3)
            await fleet["a-001"].create(spec("vm-1"))
            await fleet["a-001"].create(spec("vm-2"))
            await fleet["a-002"].create(spec("vm-3"))
            await fleet["a-001"].stop("vm-2")
            await heartbeats_after(fake)
            hosts = fake.hosts_in_last_heartbeat()
            assert list(hosts) == ["a-001", "a-002", "a-003"]
            assert {vm["id"]: vm["power_state"] for vm in hosts["a-001"]["vms"]} == {
                "vm-1": "running",
                "vm-2": "stopped",
            }
            assert [vm["id"] for vm in hosts["a-002"]["vms"]] == ["vm-3"]
            assert hosts["a-003"]["vms"] == []
            assert hosts["a-001"]["info"]["memory_used_mib"] == 1024
            assert hosts["a-001"]["info"]["name"] == "a-001"
            assert set(hosts["a-001"]["vms"][0]) == {
                "id", "name", "power_state", "vcpus", "memory_mib", "disk_gib",
                "cpu_time_s", "uptime_s", "fault", "migrating",
            }  # fmt: skip

    asyncio.run(scenario())
    assert {token for token, _ in fake.heartbeats} == {"tok-1"}
    assert len(fake.registrations) == 1


def test_heartbeats_keep_their_interval(control_plane: tuple[FakeControlPlane, str]) -> None:
    fake, url = control_plane
    fake.heartbeat_interval_s = 0.2

    async def scenario() -> int:
        async with reporting(make_reporter(url, fleet_of())) as reporter:
            await asyncio.wait_for(reporter.registered.wait(), 10)
            await asyncio.sleep(1.0)
        return fake.heartbeat_count()

    # One right after registering, then one every 0.2 s: about 6 in a second, not 50.
    assert 2 <= asyncio.run(scenario()) <= 8


def test_a_crashed_host_is_left_out_until_it_recovers(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        fleet = fleet_of()
        await fleet["a-002"].create(spec("vm-1"))
        async with reporting(make_reporter(url, fleet)):
            await eventually(lambda: fake.heartbeat_count() >= 1)
            fleet.crash("a-002")
            await heartbeats_after(fake)
            assert list(fake.hosts_in_last_heartbeat()) == ["a-001", "a-003"]
            fleet.recover("a-002")
            await heartbeats_after(fake)
            hosts = fake.hosts_in_last_heartbeat()
            assert list(hosts) == ["a-001", "a-002", "a-003"]
            assert hosts["a-002"]["vms"][0]["power_state"] == "stopped"

    asyncio.run(scenario())


def test_a_host_crashed_at_registration_is_not_registered(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        fleet = fleet_of()
        fleet.crash("a-001")
        async with reporting(make_reporter(url, fleet)) as reporter:
            await asyncio.wait_for(reporter.registered.wait(), 10)
            fleet.recover("a-001")
            await heartbeats_after(fake)
            assert list(fake.hosts_in_last_heartbeat()) == ["a-001", "a-002", "a-003"]

    asyncio.run(scenario())
    assert [h["name"] for h in fake.registrations[0]["hosts"]] == ["a-002", "a-003"]


def test_orphans_are_destroyed(control_plane: tuple[FakeControlPlane, str]) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        fleet = fleet_of()
        fleet.configure(delays={"destroy": 0.05})
        for vm_id in ("keep", "orphan-1", "orphan-2"):
            await fleet["a-001"].create(spec(vm_id))
        await fleet["a-003"].create(spec("orphan-3"))
        with fake.lock:
            fake.deleted |= {("a-001", "orphan-1"), ("a-001", "orphan-2"), ("a-003", "orphan-3")}
        async with reporting(make_reporter(url, fleet)):
            await eventually(
                lambda: [vm.id for d in fleet.values() for vm in d.list_vms_now()] == ["keep"]
            )
            await heartbeats_after(fake)
            hosts = fake.hosts_in_last_heartbeat()
            assert [vm["id"] for vm in hosts["a-001"]["vms"]] == ["keep"]
            assert hosts["a-003"]["vms"] == []

    asyncio.run(scenario())


def test_an_orphan_on_a_crashed_host_waits_for_recovery(
    control_plane: tuple[FakeControlPlane, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        fleet = fleet_of()
        await fleet["a-001"].create(spec("orphan"))
        async with reporting(make_reporter(url, fleet)):
            await eventually(lambda: fake.heartbeat_count() >= 1)
            fleet.crash("a-001")
            with fake.lock:
                fake.deleted.add(("a-001", "orphan"))
            await heartbeats_after(fake, 3)  # not reported, so not listed as orphan
            fleet.recover("a-001")
            await eventually(lambda: fleet["a-001"].list_vms_now() == [])

    with caplog.at_level(logging.INFO, logger="novacron.agent"):
        asyncio.run(scenario())
    assert "destroyed orphan VM orphan on host a-001" in caplog.text


def test_re_registers_when_the_token_is_rejected(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane

    async def scenario() -> None:
        async with reporting(make_reporter(url, fleet_of())):
            await eventually(lambda: fake.heartbeat_count() >= 2)
            fake.revoke_tokens()
            await eventually(lambda: len(fake.registrations) == 2)
            await heartbeats_after(fake)
            assert fake.heartbeats[-1][0] == "tok-2"

    asyncio.run(scenario())
    assert len(fake.registrations) == 2


def test_a_rejected_enrolment_token_is_logged_and_retried(
    control_plane: tuple[FakeControlPlane, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = control_plane
    fake.enrolment_token = "the-right-one"

    async def scenario() -> None:
        async with reporting(make_reporter(url, fleet_of())) as reporter:
            await eventually(lambda: fake.rejected_registrations >= 3)
            assert not reporter.registered.is_set()
            with fake.lock:
                fake.enrolment_token = ENROLMENT  # the operator fixes the server side
            await asyncio.wait_for(reporter.registered.wait(), 10)

    with caplog.at_level(logging.INFO, logger="novacron.agent"):
        asyncio.run(scenario())
    rejected = [r for r in caplog.records if "enrolment token rejected" in r.getMessage()]
    assert len(rejected) >= 3
    assert all(r.levelno == logging.ERROR for r in rejected)
    assert ENROLMENT not in caplog.text and "agent-api-secret" not in caplog.text
    assert "tok-1" not in caplog.text


def test_an_unreachable_server_is_logged_once_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fake = FakeControlPlane()

    async def scenario() -> None:
        async with reporting(make_reporter(url, fleet_of())) as reporter:
            await asyncio.sleep(0.5)  # many retries at 0.01 .. 0.05 s
            assert not reporter.registered.is_set()
            # The server comes up on that port: the agent finds it.
            with run_uvicorn_in_thread(fake.app, port=port):
                await asyncio.wait_for(reporter.registered.wait(), 10)
                await eventually(lambda: fake.heartbeat_count() >= 2)
            # ... and goes away again: a second outage, a second warning, no crash.
            count = fake.heartbeat_count()
            await asyncio.sleep(0.3)
            assert fake.heartbeat_count() == count

    with caplog.at_level(logging.INFO, logger="novacron.agent"):
        asyncio.run(scenario())
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("novacron.agent")
    ]
    assert len(warnings) == 2
    assert all(f"server at {url} unreachable" in r.getMessage() for r in warnings)
    assert "reachable again" in caplog.text


def test_heartbeats_for_ten_thousand_hosts(control_plane: tuple[FakeControlPlane, str]) -> None:
    fake, url = control_plane
    fake.heartbeat_interval_s = 60.0
    fleet = SimFleet.build("big", 10_000)  # default delays: reporting must not pay them

    async def scenario() -> None:
        await fleet["big042"].create(spec("vm-42"))
        async with reporting(make_reporter(url, fleet)):
            await eventually(lambda: fake.heartbeat_count() >= 1, timeout_s=30)

    asyncio.run(scenario())
    assert len(fake.registrations[0]["hosts"]) == 10_000
    hosts = fake.hosts_in_last_heartbeat()
    assert len(hosts) == 10_000
    assert [vm["id"] for vm in hosts["big042"]["vms"]] == ["vm-42"]


# -- the agent process -----------------------------------------------------------------


def test_serve_agent_registers_its_api_and_stops_on_cancel(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane
    ready: list[str] = []

    async def scenario() -> None:
        task = asyncio.create_task(
            serve_agent(
                server_url=url,
                enrolment_token=ENROLMENT,
                name="edge",
                sim_hosts=2,
                sim_delays=NO_DELAYS,
                sim_seed=3,
                ready=ready.append,
            )
        )
        await eventually(lambda: fake.heartbeat_count() >= 1)
        registration = fake.registrations[0]
        assert registration["url"] == ready[0]
        assert [h["name"] for h in registration["hosts"]] == ["edge-001", "edge-002"]

        def drive() -> None:
            with AgentClient(registration["url"], registration["api_secret"]) as client:
                assert client.create_vm("edge-002", spec("vm-1"))["power_state"] == "running"
                assert client.sim_config()["seed"] == 3

        await asyncio.to_thread(drive)
        await heartbeats_after(fake)
        assert [vm["id"] for vm in fake.hosts_in_last_heartbeat()["edge-002"]["vms"]] == ["vm-1"]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert ready[0].startswith("http://127.0.0.1:")
    assert len(fake.registrations[0]["api_secret"]) >= 32
    with pytest.raises(AgentUnreachable):  # the port is closed after a clean stop
        AgentClient(ready[0], "x", timeout_s=2).hosts()


def test_run_agent_in_thread(control_plane: tuple[FakeControlPlane, str]) -> None:
    fake, url = control_plane
    with run_agent_in_thread(
        server_url=url, enrolment_token=ENROLMENT, name="th", sim_hosts=1, public_url=None
    ) as agent_url:
        assert httpx.get(f"{agent_url}/healthz").json() == {"status": "ok", "hosts": 1}
        deadline = time.monotonic() + 10
        while fake.heartbeat_count() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.registrations[0]["url"] == agent_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{agent_url}/healthz")


def test_public_url_is_what_the_agent_registers(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane
    with run_agent_in_thread(
        server_url=url,
        enrolment_token=ENROLMENT,
        name="pub",
        sim_hosts=1,
        sim_host_prefix="node",
        public_url="http://agent.example:7000/",
    ) as agent_url:
        deadline = time.monotonic() + 10
        while not fake.registrations and time.monotonic() < deadline:
            time.sleep(0.01)
    assert agent_url == "http://agent.example:7000"
    assert fake.registrations[0]["url"] == "http://agent.example:7000"
    assert [h["name"] for h in fake.registrations[0]["hosts"]] == ["node001"]


def test_unknown_driver_is_invalid() -> None:
    with pytest.raises(Invalid, match="unknown driver 'xen'"):
        run_agent(server_url="http://127.0.0.1:1", enrolment_token="x", name="n", driver="xen")


@pytest.mark.slow
def test_the_agent_process_stops_cleanly_on_sigterm(
    control_plane: tuple[FakeControlPlane, str],
) -> None:
    fake, url = control_plane
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from novacron.agent.main import run_agent\n"
        f"run_agent(server_url={url!r}, enrolment_token={ENROLMENT!r}, name='proc',"
        " sim_hosts=2)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while fake.heartbeat_count() < 1:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "agent did not heartbeat"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "agent proc stopped" in stderr
    assert "Traceback" not in stderr
    secret = fake.registrations[0]["api_secret"]
    assert secret not in stderr and ENROLMENT not in stderr and "tok-1" not in stderr
