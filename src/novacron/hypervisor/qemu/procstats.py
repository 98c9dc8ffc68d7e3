"""Per-VM counters for a QEMU process, read straight from /proc and /sys.

Everything here is a cheap synchronous file read, so the driver can call it
from a thread (``asyncio.to_thread``) on every metrics tick. A process that
vanishes between two reads is an ordinary event, not an error: the readers
return ``None`` for it.

Liveness comes from ``/proc/<pid>/stat`` rather than ``os.kill(pid, 0)``: the
PID 1 of a container may never reap orphans, so a QEMU that exited stays a
zombie that ``kill`` still reports as present.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Module-level roots so tests can point the readers at a fake tree.
PROC = Path("/proc")
SYS_CLASS_NET = Path("/sys/class/net")

# Dead task states (``x`` on kernels before 4.14); ``Z`` needs a closer look, see _exited.
_DEAD_STATES = frozenset("Xx")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_TAP_COUNTERS = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")
# Linux limits interface names to IFNAMSIZ - 1 = 15 bytes.
_IFNAMSIZ = 16


@dataclass
class ProcStats:
    """One sample of a process's counters."""

    pid: int
    state: str
    cpu_time_s: float  # user + system time, all threads
    rss_bytes: int
    read_bytes: int | None  # None when /proc/<pid>/io is unreadable (another user, no accounting)
    write_bytes: int | None
    threads: int
    start_time: float  # seconds after boot; with pid, identifies a process across pid reuse


@dataclass
class _Stat:
    state: str
    utime: int
    stime: int
    threads: int
    starttime: int


def _parse_stat(text: str) -> _Stat:
    """Parse ``/proc/<pid>/stat``.

    Field 2 (``comm``) is the thread name in parentheses and may itself contain
    spaces and parentheses (any process can write ``/proc/self/comm``), so the
    fields after it start after the *last* ``)``.
    """
    rest = text[text.rindex(")") + 1 :].split()
    # rest[0] is field 3 (state); field n of proc(5) is rest[n - 3].
    return _Stat(
        state=rest[0],
        utime=int(rest[11]),  # field 14
        stime=int(rest[12]),  # field 15
        threads=int(rest[17]),  # field 20
        starttime=int(rest[19]),  # field 22, clock ticks after boot
    )


def _exited(stat: _Stat) -> bool:
    if stat.state in _DEAD_STATES:
        return True
    # A zombie that still counts other threads is a leader whose main thread
    # called pthread_exit() while the rest of the process runs on.
    return stat.state == "Z" and stat.threads <= 1


def _read_stat(pid: int) -> _Stat | None:
    if pid <= 0:
        return None  # /proc/0 does not exist, and negative pids mean process groups to kill()
    try:
        return _parse_stat((PROC / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError):
        # ESRCH when the process goes away between open() and read().
        return None


def _status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` line of ``/proc/<pid>/status`` in KiB; None when the process is gone."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    prefix = f"{key}:"
    for line in text.splitlines():
        if line.startswith(prefix):
            return int(line[len(prefix) :].split()[0])
    # Kernel threads and exited leaders have no memory lines: nothing resident of their own.
    return 0


def _read_io(pid: int) -> tuple[int | None, int | None]:
    try:
        text = (PROC / str(pid) / "io").read_text()
    except OSError:
        # EACCES for another user's process without CAP_SYS_PTRACE; ENOENT on
        # kernels built without task I/O accounting, or when the process just exited.
        return None, None
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if value.strip().isdigit():
            fields[name.strip()] = int(value)
    return fields.get("read_bytes"), fields.get("write_bytes")


def read_proc_stats(pid: int) -> ProcStats | None:
    """Sample a process; None when it no longer runs (gone or a zombie)."""
    stat = _read_stat(pid)
    if stat is None or _exited(stat):
        return None
    rss_kib = _status_kib(pid, "VmRSS")
    if rss_kib is None:
        return None
    read_bytes, write_bytes = _read_io(pid)
    return ProcStats(
        pid=pid,
        state=stat.state,
        cpu_time_s=(stat.utime + stat.stime) / _CLK_TCK,
        rss_bytes=rss_kib * 1024,
        read_bytes=read_bytes,
        write_bytes=write_bytes,
        threads=stat.threads,
        start_time=stat.starttime / _CLK_TCK,
    )


def is_alive(pid: int) -> bool:
    """True while the process exists and has not exited; a zombie counts as dead."""
    stat = _read_stat(pid)
    return stat is not None and not _exited(stat)


def cmdline(pid: int) -> list[str] | None:
    """The argument vector of a process; None when it is gone.

    Empty for zombies and kernel threads, which have no user memory to read it from.
    """
    if pid <= 0:
        return None
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Each argument ends with a NUL, so the split leaves one empty string at the end.
    args = raw.split(b"\0")
    if args and args[-1] == b"":
        args.pop()
    return [os.fsdecode(a) for a in args]


def cpu_percent(prev: ProcStats, cur: ProcStats, elapsed_s: float) -> float:
    """CPU use between two samples, ``top`` style: 100.0 is one host core fully busy.

    A VM with 4 busy vCPUs reads about 400.0. Returns 0.0 when the samples
    cannot be compared: no time passed, or they belong to different processes
    (the pid was reused, seen by a different start time).
    """
    if elapsed_s <= 0 or prev.pid != cur.pid or prev.start_time != cur.start_time:
        return 0.0
    return max(0.0, cur.cpu_time_s - prev.cpu_time_s) / elapsed_s * 100.0


def process_age_s(stats: ProcStats) -> float:
    """Seconds since the sampled process started (for ``VMInfo.uptime_s``)."""
    # /proc/uptime and starttime share the boot clock (both adjusted by time namespaces).
    boot_uptime = float((PROC / "uptime").read_text().split()[0])
    return max(0.0, boot_uptime - stats.start_time)


def _valid_ifname(ifname: str) -> bool:
    # Anything else cannot name an interface and could escape /sys/class/net.
    return (
        0 < len(ifname.encode()) < _IFNAMSIZ
        and ifname not in (".", "..")
        and not any(c == "/" or c == ":" or c.isspace() for c in ifname)
    )


def tap_counters(ifname: str) -> dict[str, int] | None:
    """Traffic counters of a host network interface; None when it does not exist.

    For a VM's tap device these are seen from the host: ``rx_*`` is what the
    guest sent, ``tx_*`` what it received.
    """
    if not _valid_ifname(ifname):
        return None
    stats_dir = SYS_CLASS_NET / ifname / "statistics"
    counters: dict[str, int] = {}
    try:
        for name in _TAP_COUNTERS:
            counters[name] = int((stats_dir / name).read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None  # missing, or removed with its VM between two reads
    return counters
