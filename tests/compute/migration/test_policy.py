"""The adaptive migration policy, pure: forecasts, plans, and the controller replayed on
progress traces recorded from real QEMU migrations (``traces/``, written by
``benchmarks/migration.py --traces``; each holds every ``query-migrate`` reading of
one run with its time).

The recorded runs used QEMU's defaults, so the traces show pre-copy left alone — on
the slow links it never converged in 60 s. Replaying them tells what the controller
would have done, and when.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from novacron.compute.migration.policy import (
    MIB,
    PACING_SHARE,
    QEMU_DEFAULT_DOWNTIME_MS,
    UNLIMITED_BPS,
    Action,
    Controller,
    Objective,
    Plan,
    Sample,
    plan_migration,
    predict_precopy,
    qemu_default_plan,
    time_bound_s,
)

TRACES = Path(__file__).parent / "traces"
RAM_256 = 256 * MIB


def trace(name: str) -> dict[str, Any]:
    return dict(json.loads((TRACES / f"{name}.json").read_text()))


def replay(controller: Controller, samples: list[dict[str, Any]]) -> list[tuple[float, Action]]:
    """Feed the readings in order until the controller switches to post-copy (after
    which the real run would have taken another course)."""
    seen: list[tuple[float, Action]] = []
    for raw in samples:
        for action in controller.observe(Sample.from_query_migrate(raw["t"], raw)):
            seen.append((raw["t"], action))
            if action.kind == "start-postcopy":
                return seen
    return seen


# -- forecasts ---------------------------------------------------------------------------


def test_predict_precopy_matches_a_hand_computed_series() -> None:
    # 100 MiB left, link 10 MiB/s, guest dirties 5 MiB/s, 50 ms limit: target 0.5 MiB.
    # r_n = 100·0.5^n ≤ 0.5 → n = ceil(log2(200)) = 8 rounds;
    # sent = 100·(1 − 0.5^8)/(1 − 0.5) = 199.21875 MiB → 19.921875 s.
    seen = predict_precopy(100 * MIB, 5 * MIB, 10 * MIB, 0.05)
    assert seen.converges and seen.rounds == 8
    assert seen.seconds == pytest.approx(19.921875)


def test_predict_precopy_edges() -> None:
    assert not predict_precopy(100 * MIB, 9 * MIB, 10 * MIB, 0.05).converges  # q ≥ margin
    assert not predict_precopy(100 * MIB, 20 * MIB, 10 * MIB, 0.05).converges
    assert predict_precopy(100 * MIB, 0, 10 * MIB, 0.05).seconds == pytest.approx(10.0)
    done = predict_precopy(MIB // 4, 5 * MIB, 10 * MIB, 0.05)
    assert done.converges and done.rounds == 0 and done.seconds == 0
    assert math.isinf(predict_precopy(MIB, 0, 0, 0.05).seconds)


def test_time_bound_is_twice_the_ram_over_the_link() -> None:
    assert time_bound_s(Objective(), RAM_256, 16 * MIB) == pytest.approx(32.0)
    assert time_bound_s(Objective(), RAM_256, 1024 * MIB) == 10.0  # floor
    assert time_bound_s(Objective(time_bound_s=7), RAM_256, 16 * MIB) == 7


def test_sample_reads_query_migrate() -> None:
    raw = {
        "status": "active",
        "expected-downtime": 12,
        "ram": {
            "transferred": 10,
            "remaining": 20,
            "total": 30,
            "dirty-pages-rate": 100,
            "page-size": 4096,
            "mbps": 80.0,
            "dirty-sync-count": 3,
        },
    }
    sample = Sample.from_query_migrate(1.5, raw)
    assert sample.dirty_rate_bps == 409600 and sample.bandwidth_bps == 10_000_000
    assert (sample.remaining, sample.dirty_sync_count, sample.expected_downtime_ms) == (20, 3, 12)


# -- plans -------------------------------------------------------------------------------


def test_a_busy_guest_gets_post_copy_armed_and_no_cap_on_an_unknown_link() -> None:
    plan = plan_migration(Objective(downtime_ms=50), RAM_256, 50 * MIB)
    assert plan.capabilities == {"postcopy-ram": True}
    assert plan.parameters["max-bandwidth"] == UNLIMITED_BPS
    assert plan.parameters["downtime-limit"] == 20  # 40 % of 50 ms
    assert [d.choice for d in plan.decisions][-1] == "post-copy armed"


def test_a_quiet_guest_migrates_pre_copy_with_auto_converge_as_the_net() -> None:
    plan = plan_migration(Objective(downtime_ms=30), RAM_256, 0.5 * MIB)
    assert plan.capabilities == {"auto-converge": True}
    assert "post-copy not armed" in [d.choice for d in plan.decisions]


def test_a_known_wan_link_caps_both_phases_and_forecasts() -> None:
    link = 12.5e6
    plan = plan_migration(Objective(link_bandwidth_bps=link), RAM_256, 50 * MIB)
    p = plan.parameters
    assert p["max-bandwidth"] == p["max-postcopy-bandwidth"] == p["avail-switchover-bandwidth"]
    assert p["max-bandwidth"] == int(link)
    forecast = next(d for d in plan.decisions if d.choice == "forecast")
    assert "will not converge" in forecast.reason


def test_without_post_copy_links_get_multifd_compressed_when_slow_or_xbzrle() -> None:
    fast = plan_migration(Objective(allow_postcopy=False), RAM_256, 50 * MIB)
    assert fast.capabilities == {"multifd": True, "auto-converge": True}
    assert "multifd-compression" not in fast.parameters
    wan = Objective(allow_postcopy=False, link_bandwidth_bps=16 * MIB)
    slow = plan_migration(wan, RAM_256, 50 * MIB)
    assert slow.capabilities == {"multifd": True, "auto-converge": True}
    assert slow.parameters["multifd-compression"] == "zstd"
    one = Objective(allow_postcopy=False, link_bandwidth_bps=16 * MIB, multifd_channels=1)
    single = plan_migration(one, RAM_256, 50 * MIB)
    assert single.capabilities == {"auto-converge": True, "xbzrle": True}
    assert single.parameters["xbzrle-cache-size"] == 64 * MIB  # a power of two, ≥ RAM/4


def test_the_qemu_default_plan_is_qemus_defaults() -> None:
    plan = qemu_default_plan()
    assert plan.capabilities == {}
    assert plan.parameters == {"max-bandwidth": 128 * MIB, "downtime-limit": 300}
    assert QEMU_DEFAULT_DOWNTIME_MS == 300
    assert Plan.from_dict(plan.as_dict()) == plan


# -- the controller on recorded traces ---------------------------------------------------


def controller(objective: Objective, dirty_bps: float) -> Controller:
    plan = plan_migration(objective, RAM_256, dirty_bps)
    return Controller(objective, plan, RAM_256, initial_dirty_rate_bps=dirty_bps)


def test_dirty50_over_16mibs_switches_to_post_copy_within_two_seconds() -> None:
    recorded = trace("precopy-dirty50-256mib-16mibs")
    assert recorded["samples"][-1]["status"] in ("cancelling", "cancelled")  # QEMU: never
    ctl = controller(Objective(downtime_ms=50), 50e6)
    actions = replay(ctl, recorded["samples"])
    kinds = [a.kind for _, a in actions]
    assert kinds == ["set-parameters", "start-postcopy"]
    paced_at, pacing = actions[0]
    # It measured the link: 16 MiB/s through the proxy, read by QEMU as ~131-137 Mbit/s.
    assert ctl.link_rate_bps == pytest.approx(16 * MIB * PACING_SHARE, rel=0.1)
    assert pacing.arguments["max-bandwidth"] == pacing.arguments["avail-switchover-bandwidth"]
    switched_at, switch = actions[1]
    assert switched_at < 2.0 and switched_at >= paced_at
    assert "will not converge" in switch.decision.reason
    assert switch.arguments["drain_s"] > 0


def test_dirty100_over_100mbit_switches_too_and_measures_the_link() -> None:
    ctl = controller(Objective(downtime_ms=50), 100e6)
    actions = replay(ctl, trace("precopy-dirty100-256mib-100mbit")["samples"])
    assert [a.kind for _, a in actions][-1] == "start-postcopy"
    assert ctl.link_rate_bps == pytest.approx(12.5e6 * PACING_SHARE, rel=0.1)


def test_without_post_copy_the_controller_tightens_auto_converge() -> None:
    ctl = controller(Objective(downtime_ms=50, allow_postcopy=False), 50e6)
    actions = replay(ctl, trace("precopy-dirty50-256mib-16mibs")["samples"])
    throttles = [a.arguments["cpu-throttle-increment"] for _, a in actions[1:]]
    assert throttles == [30, 40, 50]  # from the plan's 20 %, one step a judgement, capped
    assert all(a.kind == "set-parameters" for _, a in actions)


def test_an_idle_guest_on_loopback_is_left_alone() -> None:
    ctl = controller(Objective(downtime_ms=30), 0.0)
    assert replay(ctl, trace("precopy-idle-256mib-loopback")["samples"]) == []


def test_an_idle_guest_on_a_wan_is_paced_but_not_switched() -> None:
    ctl = controller(Objective(downtime_ms=30), 0.0)
    actions = replay(ctl, trace("adaptive-idle-256mib-16mibs")["samples"])
    assert [a.kind for _, a in actions] == ["set-parameters"]
    assert actions[0][1].arguments["max-bandwidth"] < 16 * MIB


def test_a_stalled_pre_copy_is_switched() -> None:
    """Synthetic readings: the remainder stops shrinking round after round (e.g. a
    guest whose dirty rate creeps up with the link just fast enough on paper)."""
    objective = Objective(downtime_ms=50, link_bandwidth_bps=100 * MIB)
    ctl = Controller(objective, plan_migration(objective, RAM_256, 10 * MIB), RAM_256)
    actions: list[Action] = []
    for sync in range(1, 9):
        raw = {
            "status": "active",
            "ram": {
                "remaining": 40 * MIB,
                "dirty-pages-rate": 2560,  # 10 MiB/s in 4 KiB pages: converges on paper
                "page-size": 4096,
                "mbps": 800.0,
                "dirty-sync-count": sync,
            },
        }
        actions += ctl.observe(Sample.from_query_migrate(0.5 * sync, raw))
    assert [a.kind for a in actions] == ["start-postcopy"]
    assert "stopped shrinking" in actions[0].decision.reason
