"""The agent HTTP API, driven over real HTTP by the server's ``AgentClient``."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from novacron.agent.app import create_agent_app
from novacron.agent.client import AgentClient, agent_client, close_agent_clients
from novacron.agent.testing import TEST_API_SECRET as SECRET
from novacron.agent.testing import SimAgentAPI, free_port, run_uvicorn_in_thread
from novacron.core.errors import (
    AgentUnreachable,
    DriverError,
    Invalid,
    InvalidState,
    NotFound,
)
from novacron.hypervisor.base import VMSpec
from novacron.hypervisor.sim import SimConfig, SimDriver

pytestmark = pytest.mark.timeout(60)


def spec(vm_id: str = "vm-1", **kw: object) -> VMSpec:
    fields: dict[str, object] = {"name": vm_id, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20}
    fields.update(kw)
    return VMSpec(id=vm_id, **fields)


# -- health and auth -------------------------------------------------------------------


def test_healthz_needs_no_auth(sim_agent: SimAgentAPI) -> None:
    response = httpx.get(f"{sim_agent.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "hosts": 3}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret"},
        {"Authorization": f"Basic {SECRET}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {SECRET}x"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/hosts"),
        ("GET", "/v1/hosts/t-001/vms"),
        ("POST", "/v1/hosts/t-001/vms"),
        ("DELETE", "/v1/hosts/t-001/vms/vm-1"),
        ("POST", "/v1/hosts/t-001/vms/vm-1/actions/start"),
        ("GET", "/v1/sim/config"),
        ("POST", "/v1/sim/hosts/t-001/crash"),
    ],
)
def test_every_route_but_healthz_needs_the_secret(
    shared_sim_agent: SimAgentAPI, headers: dict[str, str], method: str, path: str
) -> None:
    response = httpx.request(method, shared_sim_agent.url + path, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "type": "https://novacron.dev/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "missing or wrong agent API secret",
        "instance": path,
    }
    assert not shared_sim_agent.fleet["t-001"].crashed


def test_client_with_a_wrong_secret_gets_a_driver_error(sim_agent: SimAgentAPI) -> None:
    with (
        AgentClient(sim_agent.url, "not-the-secret") as client,
        pytest.raises(DriverError, match="rejected the server's credentials") as err,
    ):
        client.hosts()
    assert type(err.value) is DriverError


# -- hosts and VMs ---------------------------------------------------------------------


def test_hosts_lists_host_info(sim_agent: SimAgentAPI) -> None:
    hosts = sim_agent.client.hosts()
    assert [h["name"] for h in hosts] == ["t-001", "t-002", "t-003"]
    assert hosts[0] == {
        "name": "t-001",
        "driver": "sim",
        "vcpus": 16,
        "memory_mib": 65536,
        "disk_gib": 500,
        "capabilities": ["sim", "live-migration"],
        "labels": {},
        "cpu_used_pct": 0.0,
        "memory_used_mib": 0,
    }


def test_create_act_and_destroy(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    created = client.create_vm("t-002", spec("vm-1", name="web", labels={"app": "web"}))
    assert created == {
        "id": "vm-1",
        "name": "web",
        "power_state": "running",
        "vcpus": 2,
        "memory_mib": 2048,
        "disk_gib": 20,
        "cpu_time_s": 0.0,
        "uptime_s": 0.0,
        "fault": "",
        "migrating": "",
    }
    assert sim_agent.fleet["t-002"].list_vms_now()[0].id == "vm-1"
    assert client.create_vm("t-002", spec("vm-1"))["name"] == "web"  # idempotent
    assert [vm["id"] for vm in client.list_vms("t-002")] == ["vm-1"]
    assert client.list_vms("t-001") == []

    steps = [
        ("pause", "paused"),
        ("resume", "running"),
        ("reboot", "running"),
        ("shutdown", "stopped"),
        ("start", "running"),
        ("stop", "stopped"),
        ("stop", "stopped"),
    ]
    for action, state in steps:
        assert client.vm_action("t-002", "vm-1", action)["power_state"] == state
    client.vm_action("t-002", "vm-1", "start")
    assert client.vm_action("t-002", "vm-1", "shutdown", timeout_s=5)["power_state"] == "stopped"
    assert client.get_vm("t-002", "vm-1")["power_state"] == "stopped"
    hosts = {h["name"]: h for h in client.hosts()}
    assert hosts["t-002"]["memory_used_mib"] == 0

    client.destroy_vm("t-002", "vm-1")
    assert client.get_vm("t-002", "vm-1") is None
    client.destroy_vm("t-002", "vm-1")  # idempotent
    assert client.list_vms("t-002") == []


def test_create_answers_201_and_destroy_204(sim_agent: SimAgentAPI) -> None:
    headers = {"Authorization": f"Bearer {SECRET}"}
    body = {"id": "vm-9", "name": "db", "vcpus": 1, "memory_mib": 512, "disk_gib": 5}
    created = httpx.post(f"{sim_agent.url}/v1/hosts/t-001/vms", json=body, headers=headers)
    assert created.status_code == 201
    assert created.json()["power_state"] == "running"
    deleted = httpx.delete(f"{sim_agent.url}/v1/hosts/t-001/vms/vm-9", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""


def test_unknown_host_is_404(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    with pytest.raises(NotFound, match="no host 'nope' on this agent"):
        client.list_vms("nope")
    with pytest.raises(NotFound, match="no host 'nope'"):
        client.get_vm("nope", "vm-1")  # an unknown host is not "no such VM"
    with pytest.raises(NotFound):
        client.create_vm("nope", spec())
    with pytest.raises(NotFound):
        client.destroy_vm("nope", "vm-1")
    response = httpx.get(
        f"{sim_agent.url}/v1/hosts/nope/vms", headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["missing"] == "host"


def test_unknown_vm(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    assert client.get_vm("t-001", "ghost") is None
    with pytest.raises(NotFound, match="no VM ghost on host t-001"):
        client.vm_action("t-001", "ghost", "start")


def test_illegal_transition_arrives_as_invalid_state(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    client.create_vm("t-001", spec())
    client.vm_action("t-001", "vm-1", "stop")
    with pytest.raises(InvalidState, match="cannot pause VM vm-1 on host t-001: it is stopped"):
        client.vm_action("t-001", "vm-1", "pause")
    assert client.get_vm("t-001", "vm-1")["power_state"] == "stopped"
    response = httpx.post(
        f"{sim_agent.url}/v1/hosts/t-001/vms/vm-1/actions/pause",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 409
    assert response.json()["type"] == "https://novacron.dev/problems/invalid-state"


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        (
            {"id": "v", "name": "v", "vcpus": 1, "memory_mib": 1, "disk_gib": 1, "cpus": 4},
            [["body", "cpus"]],
        ),
        ({"id": "v", "name": "v", "vcpus": 0, "memory_mib": 1, "disk_gib": 1}, [["body", "vcpus"]]),
        ({"id": "v", "vcpus": 1, "memory_mib": 1, "disk_gib": 1}, [["body", "name"]]),
        (
            {"id": "", "name": "v", "vcpus": 1, "memory_mib": "lots", "disk_gib": 1},
            [["body", "id"], ["body", "memory_mib"]],
        ),
    ],
)
def test_create_validation_is_422_problem_json(
    sim_agent: SimAgentAPI, body: dict[str, object], locs: list[list[str]]
) -> None:
    response = httpx.post(
        f"{sim_agent.url}/v1/hosts/t-001/vms",
        json=body,
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://novacron.dev/problems/invalid"
    assert [e["loc"] for e in problem["errors"]] == locs
    assert all(isinstance(e["msg"], str) and e["msg"] for e in problem["errors"])
    assert sim_agent.fleet["t-001"].list_vms_now() == []


def test_unknown_action_and_misplaced_timeout_are_invalid(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    client.create_vm("t-001", spec())
    with pytest.raises(Invalid) as err:
        client.vm_action("t-001", "vm-1", "explode")
    assert err.value.errors[0]["loc"] == ["path", "action"]
    with pytest.raises(Invalid) as err:
        client.vm_action("t-001", "vm-1", "stop", timeout_s=3)
    assert err.value.errors == [{"loc": ["body", "timeout_s"], "msg": "not allowed for stop"}]
    with pytest.raises(Invalid):
        client.vm_action("t-001", "vm-1", "shutdown", timeout_s=-1)
    assert client.get_vm("t-001", "vm-1")["power_state"] == "running"


def test_unknown_route_is_404_problem_json(sim_agent: SimAgentAPI) -> None:
    response = httpx.get(f"{sim_agent.url}/v2/whatever")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://novacron.dev/problems/not-found"


# -- sim controls ----------------------------------------------------------------------


def test_injected_failure_is_a_driver_error(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    config = client.sim_config(failure_rates={"create": 1.0})
    assert config["failure_rates"]["create"] == 1.0
    with pytest.raises(DriverError, match="sim: injected failure in create") as err:
        client.create_vm("t-001", spec())
    assert type(err.value) is DriverError
    assert client.list_vms("t-001") == []
    client.sim_config(failure_rates={"create": 0.0})
    assert client.create_vm("t-001", spec())["id"] == "vm-1"


def test_sim_config_get_and_merge(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    before = client.sim_config()
    assert before["delays"]["create"] == 0.0
    assert before["seed"] == 42
    after = client.sim_config(delays={"create": 0.01}, failure_rates={"stop": 0.5})
    assert after["delays"] == {**before["delays"], "create": 0.01}
    assert after["failure_rates"] == {**before["failure_rates"], "stop": 0.5}
    assert sim_agent.fleet.config.delay("create") == 0.01
    with pytest.raises(Invalid) as err:
        client.sim_config(delays={"teleport": 1.0}, failure_rates={"stop": 2})
    assert [e["loc"] for e in err.value.errors] == [
        ["body", "delays", "teleport"],
        ["body", "failure_rates", "stop"],
    ]
    assert client.sim_config() == after


def test_crash_and_recover_a_host(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    client.create_vm("t-003", spec())
    assert client.crash_host("t-003") == {"name": "t-003", "crashed": True}
    with pytest.raises(AgentUnreachable, match="sim: host t-003 crashed"):
        client.list_vms("t-003")
    with pytest.raises(AgentUnreachable):
        client.vm_action("t-003", "vm-1", "stop")
    assert [h["name"] for h in client.hosts()] == ["t-001", "t-002"]
    assert client.recover_host("t-003") == {"name": "t-003", "crashed": False}
    assert client.get_vm("t-003", "vm-1")["power_state"] == "stopped"
    with pytest.raises(NotFound):
        client.crash_host("nope")


def test_crash_a_vm(sim_agent: SimAgentAPI) -> None:
    client = sim_agent.client
    client.create_vm("t-001", spec())
    assert client.crash_vm("t-001", "vm-1")["power_state"] == "crashed"
    assert client.vm_action("t-001", "vm-1", "start")["power_state"] == "running"


def test_sim_routes_exist_only_for_a_sim_fleet() -> None:
    drivers = {"solo": SimDriver("solo", config=SimConfig(delays={"create": 0.0}))}
    with (
        run_uvicorn_in_thread(create_agent_app(drivers, SECRET)) as url,
        AgentClient(url, SECRET) as client,
    ):
        assert client.create_vm("solo", spec())["power_state"] == "running"
        assert [h["name"] for h in client.hosts()] == ["solo"]
        with pytest.raises(NotFound, match="no route /v1/sim/config"):
            client.sim_config()


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(Invalid):
        create_agent_app({}, "")


# -- reachability ----------------------------------------------------------------------


def test_nothing_listening_is_agent_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with AgentClient(url, SECRET, timeout_s=2) as client:
        with pytest.raises(AgentUnreachable, match=f"agent at {url} unreachable"):
            client.hosts()
        with pytest.raises(AgentUnreachable):
            client.get_vm("h", "vm-1")


def test_a_silent_agent_times_out_as_unreachable() -> None:
    # A socket that accepts connections (via the backlog) but never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with (
            AgentClient(url, SECRET, timeout_s=0.3) as client,
            pytest.raises(AgentUnreachable, match="timed out"),
        ):
            client.hosts()


def test_an_agent_that_goes_away_is_unreachable(sim_agent: SimAgentAPI) -> None:
    fleet = sim_agent.fleet
    with run_uvicorn_in_thread(create_agent_app(fleet, SECRET)) as url:
        client = AgentClient(url, SECRET, timeout_s=2)
        assert len(client.hosts()) == 3
    with pytest.raises(AgentUnreachable):
        client.hosts()
    client.close()


# -- the shared client -----------------------------------------------------------------


def test_agent_client_is_cached_per_agent_and_secret(sim_agent: SimAgentAPI) -> None:
    try:
        first = agent_client(sim_agent.url, SECRET, 10)
        assert agent_client(sim_agent.url + "/", SECRET, 10) is first
        assert agent_client(sim_agent.url, "other", 10) is not first
        first.close()
        assert agent_client(sim_agent.url, SECRET, 10) is not first  # closed ones are replaced
    finally:
        close_agent_clients()


def test_one_client_serves_many_threads(sim_agent: SimAgentAPI) -> None:
    sim_agent.client.sim_config(delays={"create": 0.05})
    try:
        client = agent_client(sim_agent.url, SECRET, 10)
        threads: set[str] = set()

        def create(i: int) -> str:
            threads.add(threading.current_thread().name)
            return str(client.create_vm(f"t-00{1 + i % 3}", spec(f"vm-{i}"))["id"])

        with ThreadPoolExecutor(max_workers=32) as pool:
            ids = list(pool.map(create, range(96)))
        assert sorted(ids) == sorted(f"vm-{i}" for i in range(96))
        assert sum(len(client.list_vms(h)) for h in ("t-001", "t-002", "t-003")) == 96
        assert len(threads) > 1
    finally:
        close_agent_clients()
