"""The sim driver: an in-memory model of hosts and VMs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from novacron.core.errors import AgentUnreachable, DriverError, Invalid, InvalidState, NotFound
from novacron.hypervisor.base import CRASHED, PAUSED, RUNNING, STOPPED, VMSpec
from novacron.hypervisor.sim import OPERATIONS, VM_OPERATIONS, SimConfig, SimDriver, SimFleet

pytestmark = pytest.mark.timeout(60)

NO_DELAYS = dict.fromkeys(OPERATIONS, 0.0)


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


def spec(vm_id: str = "vm-1", **kw: Any) -> VMSpec:
    fields: dict[str, Any] = {"name": vm_id, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20}
    fields.update(kw)
    return VMSpec(id=vm_id, **fields)


async def driver_with_vm(prepare: tuple[str, ...] = ()) -> tuple[SimConfig, SimDriver]:
    """A host without delays running ``vm-1``, after the actions in ``prepare``."""
    config = SimConfig(delays=NO_DELAYS)
    d = SimDriver("h1", config=config)
    await d.create(spec())
    for step in prepare:
        await getattr(d, step)("vm-1")
    return config, d


def host(name: str = "h1", **kw: Any) -> SimDriver:
    return SimDriver(name, config=SimConfig(delays=NO_DELAYS), **kw)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- lifecycle -------------------------------------------------------------------------


def test_lifecycle_walks_every_power_state() -> None:
    async def scenario() -> list[str]:
        d = host()
        seen = [(await d.create(spec())).power_state]
        for action in ("pause", "resume", "reboot", "shutdown", "start", "stop", "start"):
            seen.append((await getattr(d, action)("vm-1")).power_state)
        seen.append((await d.get_vm("vm-1")).power_state)
        await d.destroy("vm-1")
        assert await d.list_vms() == []
        with pytest.raises(NotFound, match="no VM vm-1 on host h1"):
            await d.get_vm("vm-1")
        return seen

    assert run(scenario()) == [
        RUNNING,
        PAUSED,
        RUNNING,
        RUNNING,
        STOPPED,
        RUNNING,
        STOPPED,
        RUNNING,
        RUNNING,
    ]


def test_create_returns_the_spec_it_was_given() -> None:
    info = run(host().create(spec("vm-7", name="web", vcpus=4, memory_mib=4096, disk_gib=40)))
    assert info.as_dict() == {
        "id": "vm-7",
        "name": "web",
        "power_state": RUNNING,
        "vcpus": 4,
        "memory_mib": 4096,
        "disk_gib": 40,
        "cpu_time_s": 0.0,
        "uptime_s": 0.0,
        "fault": "",
        "migrating": "",
    }


def test_uptime_and_cpu_time_follow_the_clock() -> None:
    clock = FakeClock()
    d = SimDriver("h1", config=SimConfig(delays=NO_DELAYS), clock=clock)

    async def scenario() -> None:
        await d.create(spec(vcpus=2))
        clock.now += 10
        vm = await d.get_vm("vm-1")
        assert vm.uptime_s == 10.0
        load = vm.cpu_time_s / (10 * 2)
        assert 0.10 <= load <= 0.60  # synthetic per-VM load
        await d.pause("vm-1")
        clock.now += 5  # paused: the clock runs, the CPU does not
        vm = await d.get_vm("vm-1")
        assert vm.uptime_s == 15.0
        assert vm.cpu_time_s == pytest.approx(10 * 2 * load, abs=1e-3)
        await d.resume("vm-1")
        clock.now += 5
        assert (await d.get_vm("vm-1")).cpu_time_s == pytest.approx(15 * 2 * load, abs=1e-3)
        await d.reboot("vm-1")
        assert (await d.get_vm("vm-1")).uptime_s == 0.0
        await d.stop("vm-1")
        clock.now += 5
        vm = await d.get_vm("vm-1")
        assert vm.uptime_s == 0.0
        assert vm.cpu_time_s == pytest.approx(15 * 2 * load, abs=1e-3)

    run(scenario())


def test_host_info_reports_capacity_and_usage() -> None:
    d = host("h9", vcpus=8, memory_mib=16384, disk_gib=500, labels={"rack": "r1"})

    async def scenario() -> None:
        empty = await d.host_info()
        assert empty.as_dict() == {
            "name": "h9",
            "driver": "sim",
            "vcpus": 8,
            "memory_mib": 16384,
            "disk_gib": 500,
            "capabilities": ["sim", "live-migration"],
            "labels": {"rack": "r1"},
            "cpu_used_pct": 0.0,
            "memory_used_mib": 0,
        }
        await d.create(spec("a", memory_mib=1000))
        await d.create(spec("b", memory_mib=2000))
        await d.create(spec("c", memory_mib=4000))
        await d.pause("b")  # a paused VM keeps its memory
        await d.stop("c")  # a stopped one does not
        info = await d.host_info()
        assert info.memory_used_mib == 3000
        assert 0.0 < info.cpu_used_pct <= 100.0
        # only the running VM burns CPU, and the figure is stable between calls
        a = await d.get_vm("a")
        assert info.cpu_used_pct == (await d.host_info()).cpu_used_pct
        assert a.power_state == RUNNING

    run(scenario())


def test_capabilities_default_and_custom() -> None:
    assert host().capabilities() == ["sim", "live-migration"]
    assert host(capabilities=["sim", "kvm"]).capabilities() == ["sim", "kvm"]


def test_cpu_used_pct_is_capped_at_100() -> None:
    d = host(vcpus=1)

    async def scenario() -> float:
        for i in range(20):
            await d.create(spec(f"vm-{i}", vcpus=8))
        return (await d.host_info()).cpu_used_pct

    assert run(scenario()) == 100.0


# -- idempotency -----------------------------------------------------------------------


def test_create_of_an_existing_id_returns_the_existing_vm() -> None:
    async def scenario() -> None:
        d = host()
        await d.create(spec("vm-1", name="first"))
        await d.stop("vm-1")
        again = await d.create(spec("vm-1", name="second", vcpus=16))
        assert (again.name, again.vcpus, again.power_state) == ("first", 2, STOPPED)
        assert len(await d.list_vms()) == 1

    run(scenario())


def test_concurrent_creates_of_one_id_make_one_vm() -> None:
    async def scenario() -> None:
        d = SimDriver("h1", config=SimConfig(delays={"create": 0.02}))
        results = await asyncio.gather(*(d.create(spec("vm-1")) for _ in range(5)))
        assert {r.id for r in results} == {"vm-1"}
        assert len(await d.list_vms()) == 1

    run(scenario())


@pytest.mark.parametrize(
    ("prepare", "action", "state"),
    [
        ((), "start", RUNNING),
        (("stop",), "stop", STOPPED),
        (("stop",), "shutdown", STOPPED),
        (("pause",), "pause", PAUSED),
        ((), "resume", RUNNING),
    ],
)
def test_actions_are_idempotent_in_their_target_state(
    prepare: tuple[str, ...], action: str, state: str
) -> None:
    async def scenario() -> None:
        config, d = await driver_with_vm(prepare)
        # Failure injection and delays do not apply to a call that has nothing to do.
        config.update(failure_rates={action: 1.0})
        assert (await getattr(d, action)("vm-1")).power_state == state

    run(scenario())


def test_destroy_is_idempotent() -> None:
    async def scenario() -> None:
        d = host()
        await d.destroy("never-existed")
        await d.create(spec())
        await d.destroy("vm-1")
        await d.destroy("vm-1")
        assert await d.list_vms() == []

    run(scenario())


# -- illegal transitions and unknown VMs -----------------------------------------------


@pytest.mark.parametrize(
    ("prepare", "action"),
    [
        (("stop",), "pause"),
        (("stop",), "resume"),
        (("stop",), "reboot"),
        (("pause",), "reboot"),
        (("pause",), "start"),
        (("crash_vm",), "pause"),
        (("crash_vm",), "resume"),
        (("crash_vm",), "reboot"),
    ],
)
def test_illegal_transitions_raise_invalid_state(prepare: tuple[str, ...], action: str) -> None:
    async def scenario() -> None:
        d = host()
        await d.create(spec())
        for step in prepare:
            result = getattr(d, step)("vm-1")
            if asyncio.iscoroutine(result):
                await result
        before = (await d.get_vm("vm-1")).power_state
        with pytest.raises(InvalidState, match=f"cannot {action} VM vm-1 on host h1: it is"):
            await getattr(d, action)("vm-1")
        assert (await d.get_vm("vm-1")).power_state == before

    run(scenario())


@pytest.mark.parametrize(
    "action", ["get_vm", "start", "shutdown", "stop", "reboot", "pause", "resume"]
)
def test_unknown_vm_raises_not_found(action: str) -> None:
    with pytest.raises(NotFound, match="no VM ghost on host h1"):
        run(getattr(host(), action)("ghost"))


def test_crashed_vm_can_be_started_or_stopped() -> None:
    async def scenario() -> None:
        d = host()
        await d.create(spec("a"))
        await d.create(spec("b"))
        assert d.crash_vm("a").power_state == CRASHED
        assert d.crash_vm("b").power_state == CRASHED
        assert (await d.start("a")).power_state == RUNNING
        assert (await d.stop("b")).power_state == STOPPED

    run(scenario())


def test_create_rejects_a_nonsensical_spec() -> None:
    with pytest.raises(Invalid) as err:
        run(host().create(spec(vcpus=0, memory_mib=0)))
    assert [e["loc"] for e in err.value.errors] == [["vcpus"], ["memory_mib"]]


def test_a_vm_destroyed_during_an_action_is_not_found() -> None:
    async def scenario() -> None:
        d = SimDriver("h1", config=SimConfig(delays={**NO_DELAYS, "stop": 0.05}))
        await d.create(spec())
        stopping = asyncio.create_task(d.stop("vm-1"))
        await asyncio.sleep(0.01)
        await d.destroy("vm-1")
        with pytest.raises(NotFound):
            await stopping

    run(scenario())


# -- failure injection -----------------------------------------------------------------


def test_failure_rate_one_always_fails_and_leaves_no_vm() -> None:
    async def scenario() -> None:
        d = SimDriver("h1", config=SimConfig(delays=NO_DELAYS, failure_rates={"create": 1.0}))
        for _ in range(20):
            with pytest.raises(DriverError, match=r"^sim: injected failure in create$"):
                await d.create(spec())
        assert await d.list_vms() == []

    run(scenario())


@pytest.mark.parametrize(
    ("prepare", "op", "state"),
    [
        ((), "stop", RUNNING),
        ((), "shutdown", RUNNING),
        ((), "pause", RUNNING),
        ((), "reboot", RUNNING),
        (("stop",), "start", STOPPED),
        (("pause",), "resume", PAUSED),
        ((), "destroy", RUNNING),
    ],
)
def test_injected_failure_leaves_state_unchanged(
    prepare: tuple[str, ...], op: str, state: str
) -> None:
    async def scenario() -> None:
        config, d = await driver_with_vm(prepare)
        before = await d.get_vm("vm-1")
        config.update(failure_rates={op: 1.0})
        with pytest.raises(DriverError, match=f"sim: injected failure in {op}"):
            await getattr(d, op)("vm-1")
        after = await d.get_vm("vm-1")
        assert after.power_state == state
        assert after.uptime_s >= before.uptime_s

    run(scenario())


def test_failure_rate_zero_never_fails() -> None:
    async def scenario() -> None:
        d = SimDriver(
            "h1",
            config=SimConfig(delays=NO_DELAYS, failure_rates=dict.fromkeys(OPERATIONS, 0.0)),
        )
        for i in range(200):
            await d.create(spec(f"vm-{i}"))
            await d.pause(f"vm-{i}")
            await d.stop(f"vm-{i}")
            await d.destroy(f"vm-{i}")
        assert await d.list_vms() == []

    run(scenario())


def test_seeded_failures_repeat_exactly() -> None:
    async def outcomes(seed: int) -> list[bool]:
        fleet = SimFleet.build("h", 2, delays=NO_DELAYS, failure_rates={"create": 0.5}, seed=seed)
        results = []
        for i in range(100):
            try:
                await fleet[f"h00{1 + i % 2}"].create(spec(f"vm-{i}"))
                results.append(True)
            except DriverError:
                results.append(False)
        return results

    first, second, other = run(outcomes(7)), run(outcomes(7)), run(outcomes(8))
    assert first == second
    assert first != other
    assert 30 <= first.count(True) <= 70


def test_read_operations_can_fail_too() -> None:
    d = SimDriver("h1", config=SimConfig(delays=NO_DELAYS, failure_rates={"list_vms": 1.0}))
    with pytest.raises(DriverError, match="injected failure in list_vms"):
        run(d.list_vms())
    assert d.list_vms_now() == []  # the reporting path is not subject to injection


# -- delays ----------------------------------------------------------------------------


def test_delays_apply_and_speed_divides_them() -> None:
    async def elapsed(config: SimConfig, op: Callable[[SimDriver], Awaitable[Any]]) -> float:
        d = SimDriver("h1", config=config)
        started = time.monotonic()
        await op(d)
        return time.monotonic() - started

    slow = run(elapsed(SimConfig(delays={"create": 0.2}), lambda d: d.create(spec())))
    assert slow >= 0.2
    fast = SimConfig(delays={"create": 0.2}, speed=4)
    assert fast.delay("create") == 0.05
    assert run(elapsed(fast, lambda d: d.create(spec()))) >= 0.05


def test_default_delays() -> None:
    config = SimConfig()
    assert config.delay("create") == 0.2
    assert {config.delay(op) for op in VM_OPERATIONS if op != "create"} == {0.05}
    assert config.delay("host_info") == 0.0


def test_operations_on_many_hosts_wait_concurrently() -> None:
    async def scenario() -> float:
        fleet = SimFleet.build("h", 200, delays={"create": 0.1})
        started = time.monotonic()
        await asyncio.gather(*(d.create(spec()) for d in fleet.values()))
        return time.monotonic() - started

    # 200 creates of 0.1 s each would take 20 s one after another.
    assert run(scenario()) < 5.0


def test_config_validation_rejects_everything_or_nothing() -> None:
    config = SimConfig()
    with pytest.raises(Invalid) as err:
        config.update(
            delays={"create": 1.0, "teleport": 1.0, "stop": -1},
            failure_rates={"start": 1.5},
            speed=0,
        )
    assert [e["loc"] for e in err.value.errors] == [
        ["delays", "teleport"],
        ["delays", "stop"],
        ["failure_rates", "start"],
        ["speed"],
    ]
    assert config.delay("create") == 0.2  # nothing merged
    config.update(delays={"create": 1.0}, failure_rates={"start": 0.25})
    assert (config.delays["create"], config.delays["stop"]) == (1.0, 0.05)
    assert config.as_dict()["failure_rates"]["start"] == 0.25
    assert config.as_dict()["failure_rates"]["stop"] == 0.0


# -- host crash ------------------------------------------------------------------------


def test_crashed_host_refuses_every_call_and_recovers_with_vms_stopped() -> None:
    async def scenario() -> None:
        fleet = SimFleet.build("h", 2, delays=NO_DELAYS)
        d = fleet["h001"]
        await d.create(spec("a"))
        await d.create(spec("b"))
        await d.pause("b")
        fleet.crash("h001")
        assert d.crashed
        assert fleet.crashed_hosts() == ["h001"]
        calls: list[Callable[[], Awaitable[Any]]] = [
            d.host_info, d.list_vms, lambda: d.get_vm("a"), lambda: d.create(spec("c")),
            lambda: d.start("a"), lambda: d.shutdown("a"), lambda: d.stop("a"),
            lambda: d.reboot("a"), lambda: d.pause("a"), lambda: d.resume("b"),
            lambda: d.destroy("a"),
        ]  # fmt: skip
        for call in calls:
            with pytest.raises(AgentUnreachable, match=r"^sim: host h001 crashed$"):
                await call()
        with pytest.raises(DriverError):  # AgentUnreachable is a DriverError
            d.host_info_now()
        await fleet["h002"].create(spec("z"))  # other hosts are unaffected

        fleet.recover("h001")
        assert not d.crashed and fleet.crashed_hosts() == []
        assert {vm.id: vm.power_state for vm in await d.list_vms()} == {
            "a": STOPPED,
            "b": STOPPED,
        }
        assert (await d.start("a")).power_state == RUNNING
        fleet.recover("h001")  # recovering a host that is up changes nothing
        assert (await d.get_vm("a")).power_state == RUNNING

    run(scenario())


def test_crash_marks_vms_crashed() -> None:
    async def scenario() -> None:
        d = host()
        await d.create(spec("a"))
        d.crash()
        # A crashed host answers nothing, so peek inside the model.
        states = [vm.power_state for vm in d._vms.values()]
        assert states == [CRASHED]

    run(scenario())


def test_an_operation_in_flight_fails_when_its_host_crashes() -> None:
    async def scenario() -> None:
        d = SimDriver("h1", config=SimConfig(delays={**NO_DELAYS, "create": 0.05}))
        creating = asyncio.create_task(d.create(spec()))
        await asyncio.sleep(0.01)
        d.crash()
        with pytest.raises(AgentUnreachable):
            await creating
        d.recover()
        assert await d.list_vms() == []  # the failed create left nothing behind

    run(scenario())


def test_fleet_lookups() -> None:
    fleet = SimFleet.build("x-", 3)
    with pytest.raises(NotFound, match="sim: no host x-999"):
        fleet.crash("x-999")
    fleet.add_host("extra", vcpus=4)
    assert list(fleet) == ["x-001", "x-002", "x-003", "extra"]
    fleet.remove_host("x-002")
    assert "x-002" not in fleet and len(fleet) == 3


# -- scale -----------------------------------------------------------------------------


def test_a_fleet_of_ten_thousand_hosts() -> None:
    fleet = SimFleet.build("h", 10_000, vcpus=64, memory_mib=262144, disk_gib=2000, seed=1)
    assert len(fleet) == 10_000
    names = list(fleet)
    assert names[:2] == ["h001", "h002"]
    assert names[998:1000] == ["h999", "h1000"]
    assert names[-1] == "h10000"
    assert all(d.config is fleet.config for d in fleet.values())
    infos = [d.host_info_now() for d in fleet.values()]
    assert {(i.vcpus, i.memory_mib, i.disk_gib, i.driver) for i in infos} == {
        (64, 262144, 2000, "sim")
    }

    async def scenario() -> int:
        fleet.configure(delays={"create": 0.01})
        await asyncio.gather(
            *(fleet[f"h{i:03d}"].create(spec(f"vm-{i}")) for i in range(1, 10_001, 10))
        )
        return sum(len(d.list_vms_now()) for d in fleet.values())

    assert run(scenario()) == 1000
