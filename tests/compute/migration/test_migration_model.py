"""The live-migration physics model: hand calculations, limits, and properties."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

from novacron.compute.migration.model import (
    AutoConverge,
    GiB,
    MiB,
    MigrationParams,
    MigrationResult,
    predict_precopy,
    simulate,
)

MB = 1_000_000


def params(**kw: object) -> MigrationParams:
    base: dict[str, object] = {"ram_bytes": GiB, "bandwidth_bps": 100 * MB}
    base.update(kw)
    return MigrationParams(**base)


def assert_consistent(result: MigrationResult) -> None:
    """The timeline is contiguous and adds up to the result."""
    t = 0.0
    for entry in result.timeline:
        assert entry.start_s == pytest.approx(t)
        assert entry.elapsed_s >= entry.start_s
        t = entry.elapsed_s
    assert t == pytest.approx(result.total_time_s)
    slack = len(result.timeline)  # each entry rounds to whole bytes
    assert sum(e.sent_bytes for e in result.timeline) == pytest.approx(result.bytes_sent, abs=slack)
    assert result.rounds == sum(e.phase == "precopy" for e in result.timeline)


# -- hand calculations --------------------------------------------------------------------


def test_one_gib_at_100_mb_s_with_20_mb_s_of_dirtying() -> None:
    # RAM 1 GiB = 1,073,741,824 B; link 100 MB/s; guest dirties 20 MB/s over a 200 MiB
    # working set; downtime limit 300 ms → switch once ≤ 100e6 × 0.3 = 30,000,000 B remain.
    #   round 1: send 1,073,741,824 B in 10.73741824 s; dirtied 20e6 × 10.737 = 214.7 MB,
    #            capped by the working set → 209,715,200 B (200 MiB)
    #   round 2: send 209,715,200 B in 2.097152 s; dirtied 41,943,040 B (40 MiB) > 30 MB
    #   round 3: send 41,943,040 B in 0.4194304 s; dirtied 8,388,608 B (8 MiB) ≤ 30 MB
    #   switchover at 13.25400064 s: 8,388,608 B in 83.88608 ms + 5 ms fixed = 88.88608 ms
    #   total 13.34288672 s; sent 1 GiB + 200 MiB + 40 MiB + 8 MiB = 1,333,788,672 B
    p = params(dirty_rate_bps=20 * MB, working_set_bytes=200 * MiB)
    result = simulate(p)

    assert result.completed and result.mode == "precopy"
    assert result.rounds == 3
    rounds = [e for e in result.timeline if e.phase == "precopy"]
    assert [e.sent_bytes for e in rounds] == [GiB, 200 * MiB, 40 * MiB]
    assert [e.remaining_bytes for e in rounds] == [200 * MiB, 40 * MiB, 8 * MiB]
    assert [e.elapsed_s for e in rounds] == pytest.approx([10.73741824, 12.83457024, 13.25400064])
    assert result.switchover_at_s == pytest.approx(13.25400064)
    assert result.downtime_ms == pytest.approx(88.88608)
    assert result.total_time_s == pytest.approx(13.34288672)
    assert result.bytes_sent == 1_333_788_672
    assert [d.choice for d in result.decisions] == ["precopy", "switchover"]
    assert_consistent(result)

    prediction = predict_precopy(p)
    assert prediction.converges and prediction.completes
    assert prediction.rounds == 3
    assert prediction.total_time_s == pytest.approx(13.34288672)
    assert prediction.downtime_ms == pytest.approx(88.88608)
    assert prediction.bytes_sent == 1_333_788_672


def test_an_idle_guest_converges_in_one_round_with_tiny_downtime() -> None:
    # 4 GiB, half zero pages, no dirtying, 10 Gbit/s: round 1 sends the 2 GiB of non-zero
    # pages in 2 GiB / 1.25e9 = 1.718 s; nothing is dirty after it: downtime = 5 ms fixed.
    result = simulate(params(ram_bytes=4 * GiB, zero_fraction=0.5, bandwidth_bps=1.25e9))
    assert result.completed and result.rounds == 1
    assert result.downtime_ms == pytest.approx(5.0)
    assert result.ram_bytes_sent == 2 * GiB
    assert result.total_time_s == pytest.approx(2 * GiB / 1.25e9 + 0.005)


def test_a_small_guest_switches_over_at_once() -> None:
    # 16 MiB at 100 MB/s is 167.8 ms ≤ 300 ms: no round at all, the copy is the downtime.
    result = simulate(params(ram_bytes=16 * MiB, dirty_rate_bps=50 * MB))
    assert result.completed and result.rounds == 0
    assert result.downtime_ms == pytest.approx(16 * MiB / (100 * MB) * 1000 + 5)


def test_zero_pages_cost_nothing() -> None:
    result = simulate(params(zero_fraction=1.0, dirty_rate_bps=0))
    assert result.completed and result.rounds == 0 and result.bytes_sent == 0


def test_max_bandwidth_caps_the_link() -> None:
    capped = simulate(params(bandwidth_bps=1e9, max_bandwidth_bps=100 * MB))
    assert capped.total_time_s == pytest.approx(simulate(params()).total_time_s)


def test_device_state_and_disk_are_sent_too() -> None:
    # The 50 MB disk goes first (0.5 s); then 1 GiB of idle RAM (10.737 s); the 1 MB of
    # device state adds 10 ms to the 5 ms switchover.
    p = params(disk_bytes=50 * MB, device_state_bytes=MB)
    result = simulate(p)
    assert [e.phase for e in result.timeline] == ["storage", "precopy", "switchover"]
    assert result.timeline[0].elapsed_s == pytest.approx(0.5)
    assert result.downtime_ms == pytest.approx(15.0)
    assert result.bytes_sent == 50 * MB + GiB + MB
    assert result.total_time_s == pytest.approx(0.5 + GiB / (100 * MB) + 0.015)
    assert predict_precopy(p).total_time_s == pytest.approx(result.total_time_s)
    assert_consistent(result)


def test_a_disk_too_big_for_the_time_bound_fails() -> None:
    result = simulate(params(disk_bytes=10 * GiB, max_time_s=60))
    assert not result.completed and "disk copy" in result.reason
    assert result.total_time_s == 60 and result.bytes_sent == 60 * 100 * MB


# -- not converging -------------------------------------------------------------------


def test_dirtying_faster_than_the_link_never_converges_in_precopy() -> None:
    # 150 MB/s of dirtying over all of RAM on a 100 MB/s link: every round resends the
    # whole 1 GiB (10.737 s). Five rounds end at 53.69 s; the sixth would end past
    # 60 s, so it is cut at the deadline: 60 s × 100 MB/s = 6e9 B sent in all.
    p = params(dirty_rate_bps=150 * MB, max_time_s=60)
    result = simulate(p)
    assert not result.completed
    assert result.reason == "did not converge within max time 60 s"
    assert result.rounds == 5
    assert result.total_time_s == 60
    assert result.bytes_sent == 6_000_000_000
    assert result.downtime_ms is None
    assert result.timeline[-1].phase == "aborted"
    assert [d.choice for d in result.decisions] == ["precopy", "abort"]
    assert not predict_precopy(p).converges
    assert_consistent(result)


def test_post_copy_completes_what_pre_copy_cannot() -> None:
    # After the first pass (10.737 s) pre-copy is predicted never to converge: switch.
    # The guest stops for the 5 ms switchover only; the destination then pulls the
    # 1 GiB that is dirty again, another 10.737 s.
    result = simulate(params(dirty_rate_bps=150 * MB, max_time_s=60, allow_postcopy=True))
    assert result.completed and result.mode == "postcopy"
    assert result.rounds == 1
    assert result.downtime_ms == pytest.approx(5.0)
    assert result.switchover_at_s == pytest.approx(GiB / (100 * MB))
    assert result.total_time_s == pytest.approx(2 * GiB / (100 * MB) + 0.005)
    assert result.bytes_sent == 2 * GiB
    assert [e.phase for e in result.timeline] == ["precopy", "switchover", "postcopy"]
    assert [d.choice for d in result.decisions] == ["precopy", "postcopy"]
    assert_consistent(result)


def test_post_copy_from_the_start_and_when_time_runs_out() -> None:
    now = simulate(params(dirty_rate_bps=150 * MB, allow_postcopy=True, postcopy_after_rounds=0))
    assert now.mode == "postcopy" and now.rounds == 0
    assert now.total_time_s == pytest.approx(GiB / (100 * MB) + 0.005)
    # Converges eventually, but not within the bound: the switch happens when the next
    # round would not fit (the prediction said so after round 1 already).
    slow = params(dirty_rate_bps=90 * MB, working_set_bytes=GiB, max_time_s=30)
    assert predict_precopy(dataclasses.replace(slow, max_time_s=1e9)).completes
    assert not simulate(slow).completed
    result = simulate(dataclasses.replace(slow, allow_postcopy=True))
    assert result.completed and result.mode == "postcopy" and result.rounds == 1


def test_post_copy_is_not_used_when_pre_copy_converges() -> None:
    p = params(dirty_rate_bps=20 * MB, working_set_bytes=200 * MiB)
    assert simulate(dataclasses.replace(p, allow_postcopy=True)) == simulate(p)


def test_a_fixed_point_above_the_limit_never_converges() -> None:
    # 90 MB/s on 100 MB/s with a 1 s overhead per round: rounds settle where
    # x = 0.9 x + 90 MB, at 900 MB per round, far above the 30 MB the limit allows.
    p = params(dirty_rate_bps=90 * MB, round_overhead_s=1.0, max_rounds=20)
    prediction = predict_precopy(p)
    assert not prediction.converges
    assert prediction.limit_bytes == pytest.approx(900 * MB)
    result = simulate(p)
    assert not result.completed and result.reason == "did not converge within 20 rounds"
    assert result.rounds == 20


def test_auto_converge_throttles_until_it_converges() -> None:
    # 4 GiB over 125 MB/s while the guest dirties 200 MB/s of a 1 GiB working set.
    # Round 1 dirties the whole working set (1 GiB ≤ half of the 4 GiB sent: no trigger);
    # rounds 2 and 3 each resend 1 GiB and dirty 1 GiB again (> 50 %): after round 3
    # (4 + 1 + 1 GiB at 125 MB/s = 51.54 s) the throttle steps to 20 %, then +10 % every
    # two rounds. Below 1 - 125/200 = 37.5 % dirtying cannot outrun the link; from 40 %
    # on rounds shrink and it converges.
    p = params(
        ram_bytes=4 * GiB,
        bandwidth_bps=125 * MB,
        dirty_rate_bps=200 * MB,
        working_set_bytes=GiB,
    )
    assert not simulate(p).completed
    result = simulate(dataclasses.replace(p, auto_converge=AutoConverge()))
    assert result.completed and result.mode == "precopy"
    throttles = [d for d in result.decisions if d.choice == "throttle"]
    assert throttles[0].at_s == pytest.approx(6 * GiB / (125 * MB))
    assert "20%" in throttles[0].reason and "30%" in throttles[1].reason
    assert 0.4 <= result.throttle <= 0.99
    assert result.downtime_ms is not None and result.downtime_ms <= 300 + 5
    assert_consistent(result)


def test_throttle_steps_stop_at_the_maximum() -> None:
    ac = AutoConverge()
    steps = list(itertools.accumulate(range(12), lambda t, _: ac.step(t), initial=0.0))
    assert steps[1:4] == pytest.approx([0.2, 0.3, 0.4])
    assert steps[-1] == 0.99


@pytest.mark.parametrize(
    "bad",
    [
        {"ram_bytes": 0},
        {"bandwidth_bps": 0},
        {"bandwidth_bps": float("inf")},
        {"dirty_rate_bps": -1},
        {"zero_fraction": 1.5},
        {"downtime_limit_ms": 0},
        {"max_time_s": 0},
        {"max_rounds": 0},
        {"disk_bytes": -1},
    ],
)
def test_invalid_parameters_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        params(**bad)


# -- simulation and prediction agree --------------------------------------------------------

GRID = list(
    itertools.product(
        [512 * MiB, 4 * GiB],  # RAM
        [0.0, 0.3],  # zero pages
        [0.0, 5 * MB, 40 * MB, 90 * MB, 99 * MB, 150 * MB],  # dirty rate
        [64 * MiB, 2 * GiB],  # working set
        [100 * MB, 1.25e9],  # bandwidth
        [0.0, 0.05],  # round overhead
        [30.0, 300.0],  # downtime limit (ms)
    )
)


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{v:g}" for v in c))
def test_simulation_agrees_with_the_closed_form(case: tuple[float, ...]) -> None:
    ram, zero, dirty, wss, bw, overhead, limit = case
    p = params(
        ram_bytes=int(ram),
        zero_fraction=zero,
        dirty_rate_bps=dirty,
        working_set_bytes=int(wss),
        bandwidth_bps=bw,
        round_overhead_s=overhead,
        downtime_limit_ms=limit,
        max_time_s=600,
    )
    result, prediction = simulate(p), predict_precopy(p)
    assert result.completed == prediction.completes
    assert_consistent(result)
    if result.completed:
        assert result.rounds == prediction.rounds
        assert result.total_time_s == pytest.approx(prediction.total_time_s)
        assert result.downtime_ms == pytest.approx(prediction.downtime_ms)
        assert result.bytes_sent == pytest.approx(prediction.bytes_sent, rel=1e-9)


# -- properties ---------------------------------------------------------------------------


def random_params(rng: random.Random) -> MigrationParams:
    ram = rng.choice([256 * MiB, GiB, 8 * GiB, 64 * GiB])
    return params(
        ram_bytes=ram,
        zero_fraction=rng.choice([0.0, 0.2, 0.7]),
        dirty_rate_bps=rng.uniform(0, 400 * MB),
        working_set_bytes=int(ram * rng.uniform(0.01, 1.0)),
        bandwidth_bps=rng.uniform(20 * MB, 2.5e9),
        round_overhead_s=rng.choice([0.0, 0.01, 0.2]),
        downtime_limit_ms=rng.choice([20.0, 50.0, 300.0]),
        max_time_s=rng.choice([30.0, 300.0, 3600.0]),
    )


def never_worse(faster: MigrationResult, slower: MigrationResult) -> None:
    """``faster`` had the easier conditions: it completes if ``slower`` does, no later."""
    if slower.completed:
        assert faster.completed
        assert faster.total_time_s <= slower.total_time_s * (1 + 1e-9)
        assert faster.rounds <= slower.rounds


@pytest.mark.parametrize("seed", range(40))
def test_more_bandwidth_is_never_slower(seed: int) -> None:
    rng = random.Random(seed)
    p = random_params(rng)
    rates = sorted(rng.uniform(10 * MB, 3e9) for _ in range(6))
    results = [simulate(dataclasses.replace(p, bandwidth_bps=b)) for b in rates]
    for slow, fast in itertools.pairwise(results):
        never_worse(fast, slow)


@pytest.mark.parametrize("seed", range(40))
def test_more_dirtying_is_never_faster(seed: int) -> None:
    rng = random.Random(1000 + seed)
    p = random_params(rng)
    rates = sorted(rng.uniform(0, 500 * MB) for _ in range(6))
    results = [simulate(dataclasses.replace(p, dirty_rate_bps=d)) for d in rates]
    for calm, busy in itertools.pairwise(results):
        never_worse(calm, busy)


@pytest.mark.parametrize("seed", range(40))
def test_every_page_is_sent_at_least_once(seed: int) -> None:
    rng = random.Random(2000 + seed)
    p = dataclasses.replace(
        random_params(rng),
        allow_postcopy=rng.random() < 0.5,
        auto_converge=AutoConverge() if rng.random() < 0.5 else None,
    )
    result = simulate(p)
    assert_consistent(result)
    if result.completed:
        assert result.ram_bytes_sent >= p.nonzero_bytes - 1
        assert result.downtime_ms is not None
        if result.mode == "precopy":
            assert result.downtime_ms <= p.downtime_limit_ms + p.switchover_ms + 1e-6
    else:
        assert result.total_time_s <= p.max_time_s


def test_post_copy_always_completes() -> None:
    rng = random.Random(7)
    for _ in range(100):
        p = dataclasses.replace(random_params(rng), allow_postcopy=True)
        result = simulate(p)
        assert result.completed, p
        assert result.downtime_ms is not None
        assert result.downtime_ms <= max(p.downtime_limit_ms, 0) + p.switchover_ms + 1e-6
