"""Live migration between sim hosts: the driver contract played over the physics model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from novacron.core.errors import (
    AgentUnreachable,
    Conflict,
    DriverError,
    Invalid,
    InvalidState,
    NotFound,
)
from novacron.hypervisor.base import CRASHED, PAUSED, RUNNING, STOPPED, MigrationProgress, VMSpec
from novacron.hypervisor.sim import SimConfig, SimDriver, SimFleet
from novacron.hypervisor.sim.config import OPERATIONS

pytestmark = pytest.mark.timeout(60)

MiB = 1 << 20
NO_DELAYS = dict.fromkeys(OPERATIONS, 0.0)
#: Far above the 10 Gbit/s link: pre-copy can never catch up.
HOT = 4e9


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


def spec(vm_id: str = "vm-1", **kw: Any) -> VMSpec:
    fields: dict[str, Any] = {"name": vm_id, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20}
    fields.update(kw)
    return VMSpec(id=vm_id, **fields)


def pair(time_scale: float = 0.001, **config: Any) -> tuple[SimDriver, SimDriver]:
    cfg = SimConfig(delays=NO_DELAYS, migration_time_scale=time_scale, **config)
    return SimDriver("a", config=cfg), SimDriver("b", config=cfg)


async def until_done(d: SimDriver, vm_id: str = "vm-1") -> MigrationProgress:
    seen: list[MigrationProgress] = []
    while not (progress := await d.migration_status(vm_id)).done:
        seen.append(progress)
        await asyncio.sleep(0.001)
    elapsed = [p.elapsed_s for p in seen]
    assert elapsed == sorted(elapsed)  # progress only moves forward
    return progress


async def until_status(d: SimDriver, status: str, vm_id: str = "vm-1") -> MigrationProgress:
    while (progress := await d.migration_status(vm_id)).status != status:
        assert not progress.done, progress
        await asyncio.sleep(0.0005)
    return progress


async def start(a: SimDriver, b: SimDriver, vm: VMSpec, **options: Any) -> dict[str, Any]:
    target = await b.prepare_incoming(vm, {})
    await a.migrate(vm.id, target, options)
    return target


def states(d: SimDriver) -> dict[str, str]:
    return {vm.id: vm.power_state for vm in d.list_vms_now()}


# -- the happy path ---------------------------------------------------------------------


def test_a_vm_moves_from_one_host_to_the_other() -> None:
    a, b = pair()

    async def scenario() -> None:
        vm = spec(memory_mib=4096)
        await a.create(vm)
        facts = await a.prepare_outgoing("vm-1")
        assert facts["accel"] == "sim" and facts["ram_bytes"] == 4096 * MiB

        target = await b.prepare_incoming(vm, facts)
        assert target["uri"] == "sim:b" and target["nbd"] is None
        assert target["bandwidth_bps"] == 1.25e9
        # Reserved on the destination: paused (not running yet), memory counted.
        incoming = (await b.list_vms())[0]
        assert (incoming.power_state, incoming.migrating) == (PAUSED, "incoming")
        assert (await b.host_info()).memory_used_mib == 4096
        assert await b.prepare_incoming(vm, facts) == target  # a retry: the same
        assert (await b.host_info()).memory_used_mib == 4096

        await a.migrate("vm-1", target, {"downtime_ms": 300})
        assert (await a.get_vm("vm-1")).migrating == "outgoing"
        await a.migrate("vm-1", target, {})  # a repeated call while it runs: no-op
        progress = await until_done(a)

        assert progress.status == "completed", progress.error
        assert progress.mode == "precopy"
        assert progress.downtime_ms is not None and progress.downtime_ms < 300 + 5
        assert progress.total_bytes == 4096 * MiB
        assert progress.transferred_bytes > 0 and progress.remaining_bytes == 0
        assert progress.iteration >= 1 and progress.bandwidth_bps == 1.25e9
        assert progress.decisions[0].choice == "precopy"
        assert progress.decisions[-1].choice == "switchover"
        # Stopped on the source (QEMU's postmigrate), not yet running on the destination.
        assert (await a.get_vm("vm-1")).power_state == PAUSED
        assert (await b.get_vm("vm-1")).power_state == PAUSED

        info = await b.finish_migration("vm-1", source=False)
        assert info is not None and info.power_state == RUNNING and info.migrating == ""
        assert await a.finish_migration("vm-1", source=True) is None
        # Idempotent, both sides.
        assert (await b.finish_migration("vm-1", source=False)).power_state == RUNNING
        assert await a.finish_migration("vm-1", source=True) is None

        assert await a.list_vms() == []
        assert states(b) == {"vm-1": RUNNING}
        assert (await a.host_info()).memory_used_mib == 0
        assert (await b.host_info()).memory_used_mib == 4096
        assert (await a.migration_status("vm-1")).status == "completed"  # the last one

    run(scenario())


def test_hosts_advertise_live_migration() -> None:
    assert "live-migration" in SimDriver("h").capabilities()
    assert SimDriver("h", capabilities=["sim"]).capabilities() == ["sim"]


def test_the_workload_travels_with_the_vm() -> None:
    a, b = pair()

    async def scenario() -> None:
        await a.create(spec())
        a.set_workload("vm-1", dirty_rate_bps=1e6, working_set_fraction=0.01)
        await start(a, b, spec())
        assert (await until_done(a)).status == "completed"
        await b.finish_migration("vm-1", source=False)
        assert b._vms["vm-1"].workload.dirty_rate_bps == 1e6

    run(scenario())


def test_synthetic_workloads_are_stable_and_configurable() -> None:
    config = SimConfig()
    loads = [config.workload(f"vm-{i}") for i in range(200)]
    assert loads == [SimConfig().workload(f"vm-{i}") for i in range(200)]  # stable per id
    assert all(0 <= w.dirty_rate_bps <= 200e6 for w in loads)
    assert all(0.1 <= w.zero_fraction <= 0.6 for w in loads)
    assert len({w.dirty_rate_bps for w in loads}) > 100  # and varied
    assert SimConfig(dirty_rate_range=(5e6, 5e6)).workload("x").dirty_rate_bps == 5e6
    assert SimConfig(speed=10).migration_seconds(10) == pytest.approx(0.01)
    with pytest.raises(Invalid) as err:
        SimConfig(migration_bandwidth_bps=0, zero_fraction_range=(0.5, 0.2))
    assert [e["loc"] for e in err.value.errors] == [
        ["migration_bandwidth_bps"],
        ["zero_fraction_range"],
    ]
    host = SimDriver("h", config=config)
    with pytest.raises(NotFound):
        host.set_workload("nope", dirty_rate_bps=1)


# -- refusals ---------------------------------------------------------------------------


def test_a_destination_without_room_refuses() -> None:
    cfg = SimConfig(delays=NO_DELAYS)
    small = SimDriver("small", vcpus=4, memory_mib=3000, config=cfg)

    async def scenario() -> None:
        await small.create(spec("resident", memory_mib=2000, vcpus=1))
        with pytest.raises(DriverError, match="needs 2048 MiB of memory, 1000 of 3000 are free"):
            await small.prepare_incoming(spec(), {})
        with pytest.raises(DriverError, match="needs 8 vCPUs, 3 of 4 are free"):
            await small.prepare_incoming(spec(memory_mib=512, vcpus=8), {})
        with pytest.raises(DriverError, match="VM resident already exists on host small"):
            await small.prepare_incoming(spec("resident", memory_mib=1), {})
        with pytest.raises(DriverError, match="cannot receive a VM from kvm"):
            await small.prepare_incoming(spec(memory_mib=1), {"accel": "kvm"})
        assert states(small) == {"resident": RUNNING}
        # A stopped VM holds no memory: now it fits.
        await small.stop("resident")
        await small.prepare_incoming(spec(), {})
        assert states(small) == {"resident": STOPPED, "vm-1": PAUSED}

    run(scenario())


def test_concurrent_prepares_never_overcommit() -> None:
    cfg = SimConfig(delays={**NO_DELAYS, "prepare_incoming": 0.01})
    d = SimDriver("d", memory_mib=5000, config=cfg)

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            *(d.prepare_incoming(spec(f"vm-{i}"), {}) for i in range(4)),
            return_exceptions=True,
        )

    outcomes = run(scenario())
    assert sum(isinstance(o, dict) for o in outcomes) == 2
    assert all(isinstance(o, DriverError) for o in outcomes if not isinstance(o, dict))
    assert d.host_info_now().memory_used_mib == 4096


def test_migrate_refuses_what_it_cannot_start() -> None:
    a, b = pair()
    c = SimDriver("c", config=a.config)

    async def scenario() -> None:
        await a.create(spec())
        target = await b.prepare_incoming(spec(), {})
        with pytest.raises(DriverError, match="no sim host prepared it"):
            await a.migrate("vm-1", {"uri": "tcp:10.0.0.1:4444"}, {})
        with pytest.raises(DriverError, match="has not prepared an incoming migration of vm-1"):
            await a.migrate("vm-1", {**target, "uri": "sim:c", "sim_host_id": c.sim_id}, {})
        with pytest.raises(Invalid, match="downtime_limit_ms must be > 0"):
            await a.migrate("vm-1", target, {"downtime_ms": -5})
        await a.pause("vm-1")
        with pytest.raises(InvalidState, match="it is paused"):
            await a.migrate("vm-1", target, {})
        with pytest.raises(InvalidState, match="it is paused"):
            await a.prepare_outgoing("vm-1")
        await a.resume("vm-1")
        with pytest.raises(NotFound, match="no migration of VM vm-1"):
            await a.migration_status("vm-1")
        with pytest.raises(InvalidState, match="it is none, not completed"):
            await a.finish_migration("vm-1", source=True)
        with pytest.raises(DriverError, match="has not completed"):
            await b.finish_migration("vm-1", source=False)
        assert states(a) == {"vm-1": RUNNING}  # nothing of it changed the VM

        await a.migrate("vm-1", target, {"time_bound_s": 1000})
        with pytest.raises(InvalidState, match="already migrating"):
            await a.prepare_outgoing("vm-1")
        other = await c.prepare_incoming(spec(), {})
        with pytest.raises(Conflict, match="already migrating to sim:b"):
            await a.migrate("vm-1", other, {})
        await until_done(a)

    run(scenario())


# -- cancel, failure, rollback ------------------------------------------------------------


def test_cancel_keeps_the_vm_running_on_the_source() -> None:
    a, b = pair(time_scale=0.01)

    async def scenario() -> None:
        await a.create(spec(memory_mib=8192))
        await start(a, b, spec(memory_mib=8192))
        await until_status(a, "memory")
        await a.cancel_migration("vm-1")
        progress = await a.migration_status("vm-1")
        assert (progress.status, progress.error) == ("cancelled", "cancelled")
        await a.cancel_migration("vm-1")  # idempotent
        await asyncio.sleep(0.05)  # the stopped task changes nothing any more
        assert (await a.migration_status("vm-1")).status == "cancelled"

        await a.rollback_migration("vm-1", source=True)
        await b.rollback_migration("vm-1", source=False)
        await b.rollback_migration("vm-1", source=False)  # idempotent
        assert states(a) == {"vm-1": RUNNING} and (await a.get_vm("vm-1")).migrating == ""
        assert states(b) == {} and (await b.host_info()).memory_used_mib == 0

    run(scenario())


def test_an_injected_failure_rolls_back_cleanly() -> None:
    a, b = pair(failure_rates={"migrate": 1.0}, seed=3)

    async def scenario() -> None:
        await a.create(spec())
        await start(a, b, spec())
        progress = await until_done(a)
        assert progress.status == "failed"
        assert progress.error.startswith("sim: injected failure in migrate (connection reset at")
        assert progress.remaining_bytes > 0  # it stopped part-way
        assert states(a) == {"vm-1": RUNNING}  # never stopped: it failed before switchover
        with pytest.raises(InvalidState, match="it is failed, not completed"):
            await a.finish_migration("vm-1", source=True)

        for _ in range(2):  # idempotent
            await a.rollback_migration("vm-1", source=True)
            await b.rollback_migration("vm-1", source=False)
        assert states(a) == {"vm-1": RUNNING} and states(b) == {}
        assert (await b.host_info()).memory_used_mib == 0

    run(scenario())


def test_a_rollback_after_completion_resumes_the_source() -> None:
    # E.g. the destination failed to finish: both sides roll back instead.
    a, b = pair()

    async def scenario() -> None:
        await a.create(spec())
        await start(a, b, spec())
        assert (await until_done(a)).status == "completed"
        assert states(a) == {"vm-1": PAUSED}
        await a.rollback_migration("vm-1", source=True)
        await b.rollback_migration("vm-1", source=False)
        assert states(a) == {"vm-1": RUNNING} and states(b) == {}
        with pytest.raises(InvalidState, match="not completed"):
            await a.finish_migration("vm-1", source=True)  # it would lose the VM

    run(scenario())


def test_a_crashed_source_or_destination_fails_the_migration() -> None:
    async def crash(side: str) -> tuple[MigrationProgress, SimDriver, SimDriver]:
        a, b = pair(time_scale=0.01)
        await a.create(spec(memory_mib=8192))
        await start(a, b, spec(memory_mib=8192))
        await until_status(a, "memory")
        (a if side == "source" else b).crash()
        await asyncio.sleep(0.05)
        if side == "source":
            with pytest.raises(AgentUnreachable):
                await a.migration_status("vm-1")
            a.recover()
        return await a.migration_status("vm-1"), a, b

    async def scenario() -> None:
        progress, a, b = await crash("source")
        assert (progress.status, progress.error) == ("failed", "source host a crashed")
        assert states(a) == {"vm-1": STOPPED}  # as any VM after its host's power cut
        await b.rollback_migration("vm-1", source=False)
        assert states(b) == {}

        progress, a, b = await crash("destination")
        assert (progress.status, progress.error) == ("failed", "destination host b crashed")
        await a.rollback_migration("vm-1", source=True)
        assert states(a) == {"vm-1": RUNNING}
        b.recover()
        await b.rollback_migration("vm-1", source=False)
        assert states(b) == {}

    run(scenario())


def test_destroying_the_vm_mid_way_fails_the_migration() -> None:
    a, b = pair(time_scale=0.01)

    async def scenario() -> None:
        await a.create(spec(memory_mib=8192))
        await start(a, b, spec(memory_mib=8192))
        await until_status(a, "memory")
        await a.destroy("vm-1")
        progress = await until_done(a)
        assert (progress.status, progress.error) == ("failed", "VM vm-1 is gone on the source")

    run(scenario())


# -- dirty guests: post-copy ----------------------------------------------------------------


def test_a_hot_guest_completes_only_through_post_copy() -> None:
    async def migrate(**options: Any) -> tuple[MigrationProgress, SimDriver]:
        a, b = pair()
        await a.create(spec(memory_mib=4096))
        a.set_workload("vm-1", dirty_rate_bps=HOT, working_set_fraction=1.0)
        await start(a, b, spec(memory_mib=4096), time_bound_s=30, **options)
        return await until_done(a), a

    async def scenario() -> None:
        progress, a = await migrate(allow_postcopy=False)
        assert progress.status == "failed"
        assert progress.error == "did not converge within max time 30 s"
        assert progress.decisions[-1].choice == "abort"
        assert states(a) == {"vm-1": RUNNING}

        progress, a = await migrate(allow_postcopy=True)
        assert progress.status == "completed" and progress.mode == "postcopy"
        assert progress.downtime_ms == pytest.approx(5.0)
        postcopy = [d for d in progress.decisions if d.choice == "postcopy"]
        assert len(postcopy) == 1 and "predicted not to converge" in postcopy[0].reason

    run(scenario())


def test_the_servers_plan_decides_post_copy() -> None:
    # What the server sends: the policy's plan (QEMU capabilities and parameters) and
    # objective; the plan wins over the objective.
    objective = {"downtime_ms": 50.0, "time_bound_s": None, "allow_postcopy": True}
    adaptive = {
        "capabilities": {"postcopy-ram": True, "pause-before-switchover": True},
        "parameters": {"downtime-limit": 30, "max-bandwidth": 64 << 30},
    }
    qemu_default = {"capabilities": {}, "parameters": {"downtime-limit": 300}}

    async def migrate(plan: dict[str, Any]) -> MigrationProgress:
        a, b = pair()
        await a.create(spec())
        a.set_workload("vm-1", dirty_rate_bps=HOT, working_set_fraction=1.0)
        options = {"plan": plan, "policy": "adaptive", "objective": objective}
        await start(a, b, spec(), **options, time_bound_s=20)
        return await until_done(a)

    async def scenario() -> None:
        assert (await migrate(adaptive)).mode == "postcopy"
        assert (await migrate(qemu_default)).status == "failed"

    run(scenario())


def test_post_copy_cannot_be_cancelled_and_losing_a_side_loses_the_vm() -> None:
    a, b = pair(time_scale=0.02)

    async def scenario() -> None:
        await a.create(spec(memory_mib=16384))
        a.set_workload("vm-1", dirty_rate_bps=HOT, working_set_fraction=1.0)
        await start(a, b, spec(memory_mib=16384), allow_postcopy=True, postcopy_after_rounds=0)
        await until_status(a, "postcopy")
        with pytest.raises(InvalidState, match="it is in post-copy"):
            await a.cancel_migration("vm-1")
        b.crash()
        progress = await until_done(a)
        assert (progress.status, progress.error) == ("failed", "destination host b crashed")
        vm = await a.get_vm("vm-1")
        assert vm.power_state == CRASHED
        assert vm.fault == (
            "live migration failed during post-copy (destination host b crashed); VM lost"
        )
        await a.rollback_migration("vm-1", source=True)  # nothing to resume
        assert states(a) == {"vm-1": CRASHED}

    run(scenario())


# -- scale ------------------------------------------------------------------------------


def test_two_hundred_vms_drain_across_fifty_hosts() -> None:
    fleet = SimFleet.build("h", 50, delays=NO_DELAYS, seed=1)
    sources, dests = list(fleet.values())[:25], list(fleet.values())[25:]
    vms = [(spec(f"vm-{i:03d}", memory_mib=4096), i % 25) for i in range(200)]

    async def scenario() -> None:
        await asyncio.gather(*(sources[h].create(vm) for vm, h in vms))
        targets = await asyncio.gather(*(dests[h].prepare_incoming(vm, {}) for vm, h in vms))
        await asyncio.gather(
            *(sources[h].migrate(vm.id, t, {}) for (vm, h), t in zip(vms, targets, strict=True))
        )
        results = await asyncio.gather(*(until_done(sources[h], vm.id) for vm, h in vms))
        assert {p.status for p in results} == {"completed"}
        await asyncio.gather(*(dests[h].finish_migration(vm.id, source=False) for vm, h in vms))
        await asyncio.gather(*(sources[h].finish_migration(vm.id, source=True) for vm, h in vms))

    run(scenario())
    assert all(d.list_vms_now() == [] for d in sources)
    assert sum(len(d.list_vms_now()) for d in dests) == 200
    assert {vm.power_state for d in dests for vm in d.list_vms_now()} == {RUNNING}
    assert {d.host_info_now().memory_used_mib for d in dests} == {8 * 4096}
