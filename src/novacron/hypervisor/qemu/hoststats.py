"""Capacity and current usage of the real machine the QEMU driver runs on."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TypedDict

import psutil

MIB = 1024**2
GIB = 1024**3


class HostUsage(TypedDict):
    cpu_used_pct: float  # whole host, 0-100, since the previous call
    memory_used_mib: int  # total minus available: page cache the kernel can drop is not "used"
    disk_used_gib: float  # filesystem holding the data directory
    disk_free_gib: float  # what an unprivileged writer can still use
    load_1: float
    load_5: float
    load_15: float


def _existing(path: Path) -> Path:
    """The nearest existing ancestor: where ``path`` will live once it is created."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def host_capacity(data_dir: Path) -> tuple[int, int, int]:
    """``(vcpus, memory_mib, disk_gib)``: logical CPUs, total RAM, size of data_dir's filesystem."""
    vcpus = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    memory_mib = psutil.virtual_memory().total // MIB
    disk_gib = psutil.disk_usage(str(_existing(data_dir))).total // GIB
    return vcpus, memory_mib, disk_gib


class _CpuSampler:
    """Whole-host CPU use between two calls, like ``psutil.cpu_percent(interval=None)``.

    psutil keeps one module-wide previous sample, so any other caller in the
    process would shorten our window; this keeps its own. The first call only
    primes the sample and returns 0.0.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, float] | None = None  # (total, busy) seconds

    @staticmethod
    def _sample() -> tuple[float, float]:
        t = psutil.cpu_times()
        # guest time is already counted in user/nice on Linux; adding it would double it.
        total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        idle = t.idle + getattr(t, "iowait", 0.0)
        return total, total - idle

    def percent(self) -> float:
        # Sample under the lock so concurrent callers store samples in time order.
        with self._lock:
            total, busy = self._sample()
            last, self._last = self._last, (total, busy)
        if last is None:
            return 0.0
        d_total, d_busy = total - last[0], busy - last[1]
        if d_total <= 0:
            return 0.0  # called twice within one clock tick
        return round(min(100.0, max(0.0, d_busy / d_total * 100.0)), 1)


_cpu = _CpuSampler()


def host_usage(data_dir: Path) -> HostUsage:
    """Current usage; never blocks to measure CPU (see ``_CpuSampler``)."""
    mem = psutil.virtual_memory()
    disk = psutil.disk_usage(str(_existing(data_dir)))
    load_1, load_5, load_15 = os.getloadavg()
    return HostUsage(
        cpu_used_pct=_cpu.percent(),
        memory_used_mib=(mem.total - mem.available) // MIB,
        disk_used_gib=round(disk.used / GIB, 2),
        disk_free_gib=round(disk.free / GIB, 2),
        load_1=load_1,
        load_5=load_5,
        load_15=load_15,
    )
