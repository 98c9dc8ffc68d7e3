"""The ``tls`` migration option from the API, CLI and agent API down to the drivers,
without QEMU: defaults, the capability checks that refuse it up front, and the sim
driver refusing to pretend. Encrypted migrations of real guests are in
tests/hypervisor/qemu/test_qemu_migration_tls.py and tests/e2e/test_migration_e2e.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from novacron.agent.testing import run_sim_agent_api
from novacron.compute.features import migration_params
from novacron.compute.migration.handler import _traits
from novacron.compute.schemas import HostDrain, MigrationOptions, VMMigrate
from novacron.core.errors import DriverError
from novacron.hypervisor.base import VMSpec
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.hypervisor.sim import OPERATIONS, SimFleet
from novacron.testing.cli import CLI
from novacron.testing.cluster import Cluster


def test_tls_is_off_by_default_and_reaches_the_operation_parameters() -> None:
    assert MigrationOptions().tls is False
    assert migration_params(VMMigrate())["tls"] is False
    assert migration_params(VMMigrate(tls=True))["tls"] is True
    assert migration_params(HostDrain(tls=True, parallel=3))["tls"] is True


def test_a_tls_migration_needs_a_destination_that_can_encrypt() -> None:
    class Ctx:
        def __init__(self, params: dict[str, Any]) -> None:
            self.op_params = params

    assert _traits(Ctx({"tls": True})) == {"migration-tls"}  # type: ignore[arg-type]
    assert _traits(Ctx({})) == frozenset()  # type: ignore[arg-type]


def test_qemu_hosts_advertise_migration_tls(tmp_path: Any) -> None:
    assert "migration-tls" in QemuDriver("q", tmp_path, accel="tcg").capabilities()


def test_the_sim_driver_refuses_tls_over_the_agent_api() -> None:
    fleet = SimFleet.build("s-", 1, delays=dict.fromkeys(OPERATIONS, 0.0))
    with run_sim_agent_api(fleet) as agent:
        spec = VMSpec(id="vm-1", name="vm-1", vcpus=1, memory_mib=256, disk_gib=1)
        agent.client.create_vm("s-001", spec)
        facts = agent.client.migration_outgoing("s-001", "vm-1")
        assert facts["ram_bytes"] == 256 * 1024 * 1024 and "tls_csr" not in facts
        with pytest.raises(DriverError, match=r"cannot encrypt migrations \(TLS\)"):
            agent.client.migration_outgoing("s-001", "vm-1", {"tls": True})
    assert "migration-tls" not in fleet["s-001"].capabilities()


def test_sim_prepare_outgoing_keeps_its_old_call() -> None:
    fleet = SimFleet.build("s-", 1, delays=dict.fromkeys(OPERATIONS, 0.0))
    host = fleet["s-001"]

    async def run() -> dict[str, Any]:
        await host.create(VMSpec(id="vm-1", name="vm-1", vcpus=1, memory_mib=256, disk_gib=1))
        return await host.prepare_outgoing("vm-1")

    assert "uuid" in asyncio.run(run())


def test_tls_on_sim_hosts_is_refused_up_front(cluster: Cluster) -> None:
    cluster.create_vm("web")
    ops_before = cluster.api.get("/operations").json()["total"]
    resp = cluster.api.post("/vms/web/migrate", json={"tls": True})
    assert resp.status_code == 409, resp.text
    assert "does not support encrypted (TLS) migration" in resp.json()["detail"]
    host = cluster.api.get("/vms/web").json()["host_name"]
    resp = cluster.api.post(f"/hosts/{host}/drain", json={"tls": True})
    assert resp.status_code == 409, resp.text
    assert "does not support encrypted (TLS) migration" in resp.json()["detail"]
    assert cluster.api.get("/operations").json()["total"] == ops_before
    assert cluster.api.get(f"/hosts/{host}").json()["state"] == "up"
    assert cluster.api.get("/vms/web").json()["state"] == "running"
    resp = cluster.api.post("/vms/web/migrate", json={"tls": "yes please"})
    assert resp.status_code == 422, resp.text


def test_cli_tls_flags(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOVACRON_TOKEN", raising=False)
    monkeypatch.delenv("NOVACRON_URL", raising=False)
    cli = CLI(cluster.url, cluster.token)
    cluster.create_vm("web")
    host = cluster.api.get("/vms/web").json()["host_name"]
    assert "encrypted (TLS) migration" in cli.error("vm", "migrate", "web", "--tls")
    assert "encrypted (TLS) migration" in cli.error("host", "drain", host, "--tls")
    assert "--tls" in cli("vm", "migrate", "--help").stdout
