from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from novacron.hypervisor.qemu import hoststats
from novacron.hypervisor.qemu.hoststats import GIB, host_capacity, host_usage


def meminfo_total_mib() -> int:
    # Read independently of psutil, from the kernel's own report.
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_capacity_matches_the_kernel(tmp_path: Path) -> None:
    vcpus, memory_mib, disk_gib = host_capacity(tmp_path)

    assert vcpus == os.cpu_count()
    assert memory_mib == meminfo_total_mib()
    fs = os.statvfs(tmp_path)
    assert disk_gib == fs.f_blocks * fs.f_frsize // GIB
    assert all(isinstance(v, int) for v in (vcpus, memory_mib, disk_gib))


def test_capacity_of_a_data_dir_not_created_yet(tmp_path: Path) -> None:
    # The agent reports capacity before it has made its data directory.
    assert host_capacity(tmp_path / "not" / "yet") == host_capacity(tmp_path)


def test_usage_is_plausible(tmp_path: Path) -> None:
    usage = host_usage(tmp_path)
    _, memory_mib, disk_gib = host_capacity(tmp_path)

    assert set(usage) == {
        "cpu_used_pct",
        "memory_used_mib",
        "disk_used_gib",
        "disk_free_gib",
        "load_1",
        "load_5",
        "load_15",
    }
    assert 0.0 <= usage["cpu_used_pct"] <= 100.0
    assert 0 < usage["memory_used_mib"] <= memory_mib
    assert usage["disk_used_gib"] >= 0
    assert 0 <= usage["disk_free_gib"] <= disk_gib + 1
    assert usage["disk_used_gib"] + usage["disk_free_gib"] <= disk_gib + 1
    assert min(usage["load_1"], usage["load_5"], usage["load_15"]) >= 0.0


def test_usage_never_sleeps_to_measure_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError("host_usage must not block")

    monkeypatch.setattr(time, "sleep", no_sleep)
    host_usage(tmp_path)
    host_usage(tmp_path)


def test_first_cpu_sample_primes_then_measures() -> None:
    sampler = hoststats._CpuSampler()
    assert sampler.percent() == 0.0
    burn_cpu(0.2)
    assert 0.0 < sampler.percent() <= 100.0


def test_cpu_sample_within_one_tick_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = hoststats._CpuSampler()
    monkeypatch.setattr(sampler, "_sample", lambda: (1000.0, 400.0))
    sampler.percent()
    assert sampler.percent() == 0.0


def test_cpu_percent_from_deltas(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = iter([(1000.0, 400.0), (1010.0, 407.5)])
    sampler = hoststats._CpuSampler()
    monkeypatch.setattr(sampler, "_sample", lambda: next(samples))
    sampler.percent()
    assert sampler.percent() == 75.0
