from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from novacron.hypervisor.qemu import procstats
from novacron.hypervisor.qemu.procstats import (
    ProcStats,
    cmdline,
    cpu_percent,
    is_alive,
    process_age_s,
    read_proc_stats,
    tap_counters,
)

Spawn = Callable[..., subprocess.Popen[str]]

# Children print this line once they are set up, so tests need not sleep and hope.
READY = "import sys; print('ready', flush=True)\n"


def raw_state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start processes; kill and reap every one of them after the test."""
    children: list[subprocess.Popen[str]] = []

    def start(*argv: str, ready: bool = False) -> subprocess.Popen[str]:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        children.append(child)
        if ready:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_sleeping_process(spawn: Spawn) -> None:
    child = spawn("sleep", "60")
    wait_for(lambda: raw_state(child.pid) == "S", "sleep to sleep")

    stats = read_proc_stats(child.pid)

    assert stats is not None
    assert stats.pid == child.pid
    assert stats.state == "S"
    assert stats.threads == 1
    assert stats.rss_bytes == psutil.Process(child.pid).memory_info().rss
    assert 0.0 <= stats.cpu_time_s < 1.0
    assert (stats.read_bytes, stats.write_bytes) != (None, None)  # our own child: readable
    assert is_alive(child.pid)
    assert cmdline(child.pid) == ["sleep", "60"]
    assert 0.0 <= process_age_s(stats) < 60.0
    own = read_proc_stats(os.getpid())
    assert own is not None and own.start_time <= stats.start_time


def test_counters_agree_with_psutil(spawn: Spawn, tmp_path: Path) -> None:
    code = (
        "import os, sys, threading, time\n"
        f"with open({str(tmp_path / 'out')!r}, 'wb') as f:\n"
        "    f.write(b'x' * (1 << 20)); f.flush(); os.fsync(f.fileno())\n"
        "ballast = b'y' * (64 << 20)\n"  # touched pages, so they are resident
        "for _ in range(3):\n"
        "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        f"{READY}"
        "time.sleep(60)\n"
    )
    child = spawn(*python(code), ready=True)

    stats = read_proc_stats(child.pid)
    proc = psutil.Process(child.pid)

    assert stats is not None
    assert stats.threads == 4 == proc.num_threads()
    assert stats.rss_bytes >= 64 << 20
    io = proc.io_counters()
    assert (stats.read_bytes, stats.write_bytes) == (io.read_bytes, io.write_bytes)
    times = proc.cpu_times()
    assert stats.cpu_time_s == pytest.approx(times.user + times.system, abs=0.02)
    # psutil's create_time is boot time (whole seconds) + our start_time.
    assert stats.start_time + psutil.boot_time() == pytest.approx(proc.create_time(), abs=1.0)


def test_busy_process_uses_cpu(spawn: Spawn) -> None:
    child = spawn(*python(f"{READY}while True: pass\n"), ready=True)
    first = read_proc_stats(child.pid)
    t0 = time.monotonic()
    assert first is not None

    def burned() -> bool:
        cur = read_proc_stats(child.pid)
        return cur is not None and cur.cpu_time_s - first.cpu_time_s >= 0.1

    wait_for(burned, "the busy loop to use 0.1 s of CPU")
    second = read_proc_stats(child.pid)
    elapsed = time.monotonic() - t0

    assert second is not None
    pct = cpu_percent(first, second, elapsed)
    assert 0.0 < pct <= 100.0 * (os.cpu_count() or 1) * 1.1


def test_stopped_process_is_alive(spawn: Spawn) -> None:
    child = spawn("sleep", "60")
    os.kill(child.pid, signal.SIGSTOP)
    wait_for(lambda: raw_state(child.pid) == "T", "the process to stop")

    assert is_alive(child.pid)
    stats = read_proc_stats(child.pid)
    assert stats is not None and stats.state == "T"


def test_zombie_is_dead(spawn: Spawn) -> None:
    # Not reaped until the fixture's teardown: it stays a zombie, like an
    # orphaned QEMU under a PID 1 that never calls wait().
    child = spawn("true")
    wait_for(lambda: raw_state(child.pid) == "Z", "the child to become a zombie")

    assert Path(f"/proc/{child.pid}").exists()
    os.kill(child.pid, 0)  # what a naive liveness check would trust
    assert not is_alive(child.pid)
    assert read_proc_stats(child.pid) is None
    assert cmdline(child.pid) == []  # a zombie has no memory left to read it from


def test_leader_thread_exited_but_process_runs(spawn: Spawn) -> None:
    # The main thread calls pthread_exit(): /proc shows the leader as a zombie
    # while the process lives on in its other thread.
    code = (
        "import ctypes, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,)).start()\n"
        f"{READY}"
        "ctypes.CDLL(None).pthread_exit(None)\n"
    )
    child = spawn(*python(code), ready=True)
    wait_for(lambda: raw_state(child.pid) == "Z", "the main thread to exit")

    assert is_alive(child.pid)
    stats = read_proc_stats(child.pid)
    assert stats is not None and stats.threads == 2


def test_reaped_process_is_gone(spawn: Spawn) -> None:
    child = spawn("true")
    child.wait()

    assert not is_alive(child.pid)
    assert read_proc_stats(child.pid) is None
    assert cmdline(child.pid) is None


@pytest.mark.parametrize("pid", [0, -1])
def test_impossible_pids(pid: int) -> None:
    assert not is_alive(pid)
    assert read_proc_stats(pid) is None
    assert cmdline(pid) is None


def test_pid_that_never_existed() -> None:
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    assert not is_alive(pid)
    assert read_proc_stats(pid) is None
    assert cmdline(pid) is None


def test_comm_with_spaces_and_parentheses(spawn: Spawn) -> None:
    comm = "q) (e m) ) u"  # a process may name itself anything up to 15 bytes
    code = f"open('/proc/self/comm', 'w').write({comm!r})\n{READY}import time; time.sleep(60)\n"
    child = spawn(*python(code), ready=True)
    assert Path(f"/proc/{child.pid}/comm").read_text() == comm + "\n"
    wait_for(lambda: raw_state(child.pid) == "S", "the child to sleep")

    stats = read_proc_stats(child.pid)
    assert stats is not None and stats.state == "S" and stats.threads == 1
    assert is_alive(child.pid)


def test_cmdline_keeps_arguments_apart(spawn: Spawn) -> None:
    args = ["a b", "", "ünï", "-name", "vm,process=x"]
    child = spawn(*python(f"{READY}import time; time.sleep(60)"), *args, ready=True)
    assert cmdline(child.pid) == [*python(f"{READY}import time; time.sleep(60)"), *args]


# --- parsing against a fake /proc -----------------------------------------------------


def fake_proc(root: Path, pid: int, stat: str, status: str, io: str | None) -> None:
    d = root / str(pid)
    d.mkdir(parents=True)
    (d / "stat").write_text(stat)
    (d / "status").write_text(status)
    if io is not None:
        (d / "io").write_text(io)


def stat_line(pid: int, comm: str, state: str = "S") -> str:
    # Fields 3..22 of proc(5): utime=250, stime=50, num_threads=7, starttime=12345.
    fields = [state, "1", "1", "1", "0", "-1", "0", "0", "0", "0", "0"]
    fields += ["250", "50", "0", "0", "20", "0", "7", "0", "12345", "1000", "10"]
    return f"{pid} ({comm}) {' '.join(fields)}\n"


STATUS = "Name:\tqemu\nState:\tS (sleeping)\nVmRSS:\t  2048 kB\nThreads:\t7\n"
IO = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n"


def test_parses_fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procstats, "PROC", tmp_path)
    fake_proc(tmp_path, 42, stat_line(42, "qemu (x) ) y"), STATUS, IO)

    stats = read_proc_stats(42)

    tck = os.sysconf("SC_CLK_TCK")
    assert stats == ProcStats(
        pid=42,
        state="S",
        cpu_time_s=300 / tck,
        rss_bytes=2048 * 1024,
        read_bytes=4096,
        write_bytes=8192,
        threads=7,
        start_time=12345 / tck,
    )


def test_unreadable_io_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # /proc/<pid>/io of another user's process fails with EACCES unless we may ptrace it.
    monkeypatch.setattr(procstats, "PROC", tmp_path)
    fake_proc(tmp_path, 43, stat_line(43, "qemu"), STATUS, io=None)

    stats = read_proc_stats(43)

    assert stats is not None
    assert (stats.read_bytes, stats.write_bytes) == (None, None)
    assert stats.rss_bytes == 2048 * 1024


def test_kernel_thread_has_no_rss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procstats, "PROC", tmp_path)
    fake_proc(tmp_path, 2, stat_line(2, "kthreadd"), "Name:\tkthreadd\nThreads:\t1\n", IO)
    stats = read_proc_stats(2)
    assert stats is not None and stats.rss_bytes == 0


@pytest.mark.parametrize("state", ["X", "x"])
def test_dead_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    monkeypatch.setattr(procstats, "PROC", tmp_path)
    fake_proc(tmp_path, 44, stat_line(44, "qemu", state), STATUS, IO)
    assert not is_alive(44)
    assert read_proc_stats(44) is None


# --- cpu_percent ----------------------------------------------------------------------


def sample(cpu_time_s: float, *, pid: int = 7, start_time: float = 100.0) -> ProcStats:
    return ProcStats(
        pid=pid,
        state="S",
        cpu_time_s=cpu_time_s,
        rss_bytes=0,
        read_bytes=None,
        write_bytes=None,
        threads=1,
        start_time=start_time,
    )


def test_cpu_percent_is_top_style() -> None:
    assert cpu_percent(sample(10.0), sample(12.0), 1.0) == 200.0  # two cores busy
    assert cpu_percent(sample(10.0), sample(10.5), 2.0) == 25.0
    assert cpu_percent(sample(10.0), sample(10.0), 5.0) == 0.0


def test_cpu_percent_of_incomparable_samples_is_zero() -> None:
    assert cpu_percent(sample(10.0), sample(12.0), 0.0) == 0.0
    assert cpu_percent(sample(10.0), sample(12.0), -1.0) == 0.0
    assert cpu_percent(sample(10.0), sample(12.0, start_time=200.0), 1.0) == 0.0  # pid reused
    assert cpu_percent(sample(10.0), sample(12.0, pid=8), 1.0) == 0.0
    assert cpu_percent(sample(12.0), sample(10.0), 1.0) == 0.0


# --- tap_counters ---------------------------------------------------------------------


def test_loopback_counters() -> None:
    counters = tap_counters("lo")
    assert counters is not None
    assert set(counters) == {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}
    assert all(isinstance(v, int) and v >= 0 for v in counters.values())


@pytest.mark.parametrize(
    "ifname", ["nctap-missing", "", "../lo", "lo/..", ".", "..", "a b", "x" * 16]
)
def test_missing_or_impossible_interfaces(ifname: str) -> None:
    assert tap_counters(ifname) is None


def test_fake_tap_counters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procstats, "SYS_CLASS_NET", tmp_path)
    stats = tmp_path / "tap0" / "statistics"
    stats.mkdir(parents=True)
    for name, value in {"rx_bytes": 1, "tx_bytes": 2, "rx_packets": 3, "tx_packets": 4}.items():
        (stats / name).write_text(f"{value}\n")

    assert tap_counters("tap0") == {"rx_bytes": 1, "tx_bytes": 2, "rx_packets": 3, "tx_packets": 4}

    (stats / "tx_packets").unlink()  # interface going away between two reads
    assert tap_counters("tap0") is None
