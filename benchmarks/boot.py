"""Boot latency of real VMs through NovaCron against the same QEMU started by hand.

    .venv/bin/python benchmarks/boot.py [--quick] [--boots N] [--max-concurrent N]
        [--concurrent-rounds N] [--skip-concurrent] [--settle S] [--no-save]

A real server (in this process, with the ``Settings`` defaults for its workers) and one
``qemu`` agent process on 127.0.0.1 boot the tiny guest
(``novacron.hypervisor.qemu.tiny``), uploaded through the image API. A boot is timed
from just before ``POST /api/v1/vms`` to the moment the guest's serial log
(``<agent_dir>/vms/<vm_id>/serial.log``, polled every 20 ms) holds
``NOVACRON-GUEST-READY``.

Baseline, measured in the same run and interleaved with the NovaCron boots (raw,
NovaCron, raw, NovaCron …): the exact argv NovaCron gave QEMU (read from
``/proc/<pid>/cmdline``), with the VM's own paths moved to a temp dir and a fresh
qcow2 overlay on the same cached image file, started by ``subprocess.Popen``; timed
from just before ``Popen`` to the same marker.

Sections:

1. ``boots``: one warm-up boot, reported apart (it fetches the image into the agent's
   cache), then ``--boots`` raw/NovaCron pairs: medians, ``novacron_over_raw_ratio``
   and where NovaCron's time goes (operation timestamps; the QEMU process's creation
   time and CPU time from ``/proc``; CPU used by the agent and server processes).
2. ``concurrent``: N VMs created at once through the API, time until every guest is
   ready, failures; then (or first, alternating by round) the same N QEMUs started at
   once by hand.

Progress goes to stderr; the full result is one JSON line on stdout and the last line
is a JSON summary; the full result is also written to
``benchmarks/results/boot-<date>.json`` unless ``--no-save``. Every QEMU started, by
hand or by the agent, is killed at the end (also on Ctrl-C or SIGTERM). See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from novacron.hypervisor.qemu.tiny import READY_MARKER, TinyImage, build_tiny, default_cache_dir
from novacron.testing.cluster import Cluster

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 1.15
POLL_S = 0.02
VM_MEMORY_MIB = 256
VM_DISK_GIB = 1
GIB = 1024**3
BOOT_TIMEOUT_S = 120.0
OP_TIMEOUT_S = 120.0
# After this long without the marker, ask the API whether the create failed (never
# earlier: requests during a normal boot would add load to what is measured).
CHECK_OP_AFTER_S = 30.0
IMAGE_NAME = "tiny"
MARKER = READY_MARKER.encode()
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def rounded(values: list[float]) -> list[float]:
    return [round(v, 4) for v in values]


# ============================================================== helpers


class MarkerWatch:
    """Reads a serial log incrementally; ``seen()`` once it holds the ready marker."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.tail = b""

    def seen(self) -> bool:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return False
        self.offset += len(data)
        window = self.tail + data
        if MARKER in window:
            return True
        self.tail = window[-(len(MARKER) - 1) :]
        return False


def wait_ready(
    watches: dict[str, MarkerWatch],
    timeout_s: float,
    failed: Callable[[set[str]], dict[str, str]],
    check_after_s: float = CHECK_OP_AFTER_S,
) -> tuple[dict[str, float], dict[str, str]]:
    """Poll every log each ``POLL_S`` until all hold the marker, fail, or time out.

    Returns (perf_counter time each one became ready, reason each one failed).
    ``failed(pending)`` is asked after ``check_after_s``, then every 2 s."""
    start = time.perf_counter()
    ready: dict[str, float] = {}
    failures: dict[str, str] = {}
    next_check = start + check_after_s
    while True:
        for key, watch in watches.items():
            if key not in ready and key not in failures and watch.seen():
                ready[key] = time.perf_counter()
        pending = set(watches) - set(ready) - set(failures)
        if not pending:
            return ready, failures
        now = time.perf_counter()
        if now - start > timeout_s:
            failures.update(dict.fromkeys(pending, f"no {READY_MARKER} after {timeout_s:.0f}s"))
            return ready, failures
        if now >= next_check:
            failures.update(failed(pending))
            next_check = now + 2.0
        time.sleep(POLL_S)


def boottime() -> float:
    """CLOCK_BOOTTIME, the clock /proc/<pid>/stat's start time counts on."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from field 3 on (after "pid (comm)")."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def process_start(pid: int) -> float | None:
    """When ``pid`` was created (its fork), in CLOCK_BOOTTIME seconds; the kernel
    reports it in 1/CLK_TCK units (10 ms), truncated."""
    fields = _stat(pid)
    return int(fields[19]) / CLK_TCK if fields else None  # field 22: starttime


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used (1/CLK_TCK resolution)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK if fields else None  # fields 14, 15


def proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode() for a in raw.split(b"\0")[:-1]]


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def parse_ts(value: str | None) -> float | None:
    """An API timestamp (UTC, naive or with Z) as a Unix time."""
    if not value:
        return None
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def qemu_version() -> str:
    out = subprocess.run(
        ["qemu-system-x86_64", "--version"], capture_output=True, text=True, check=False
    )
    first = out.stdout.splitlines()[0] if out.stdout else ""
    match = re.search(r"version (\S+)", first)
    return match.group(1) if match else first


def create_overlay(base: Path, path: Path, size_bytes: int) -> float:
    """``qemu-img create`` an overlay of ``base``; returns the seconds it took."""
    start = time.perf_counter()
    cmd = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2"]
    subprocess.run(
        [*cmd, str(path), str(size_bytes)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def kill_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the cleanup in ``finally`` blocks runs."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ============================================================== raw QEMU


@dataclass
class ArgvTemplate:
    """The argv NovaCron generated for one VM, and the paths in it that belong to that VM."""

    argv: list[str]
    vm_dir: str
    vm_id: str
    qmp_socket: str
    serial_socket: str

    @classmethod
    def from_novacron(cls, argv: list[str], vm_dir: Path, vm_id: str) -> ArgvTemplate:
        qmp = serial = ""
        for opt, value in itertools.pairwise(argv):
            if opt == "-qmp" and value.startswith("unix:"):
                qmp = value.removeprefix("unix:").split(",server=")[0]
            elif opt == "-chardev" and (m := re.search(r"(?:^|,)path=(.*?),server=", value)):
                serial = m.group(1)
        if not qmp or not serial:
            raise RuntimeError(f"cannot find the QMP and serial sockets in {argv}")
        return cls(argv, str(vm_dir), vm_id, qmp, serial)

    def for_dir(self, directory: Path) -> list[str]:
        """The same argv with the VM's own files (overlay, logs, sockets, pidfile) in
        ``directory``; the kernel and initrd stay the agent's cached image files."""
        moves = [
            (self.qmp_socket, str(directory / "qmp.sock")),
            (self.serial_socket, str(directory / "serial.sock")),
            (self.vm_dir, str(directory)),
        ]
        out = []
        for arg in self.argv:
            for old, new in moves:
                arg = arg.replace(old, new)
            out.append(arg)
        joined = "\0".join(out)
        if self.vm_id in joined or self.vm_dir in joined:
            raise RuntimeError(f"argv still refers to VM {self.vm_id}: {out}")
        return out


@dataclass
class RawVM:
    directory: Path
    proc: subprocess.Popen[bytes] | None = None
    watch: MarkerWatch = field(init=False)

    def __post_init__(self) -> None:
        self.watch = MarkerWatch(self.directory / "serial.log")


class RawRunner:
    """QEMU by hand: own directory, overlay and sockets per VM; tracks every process."""

    def __init__(self, root: Path, base_disk: Path) -> None:
        self.root = root
        self.base_disk = base_disk
        self.procs: set[subprocess.Popen[bytes]] = set()
        self.count = 0

    def prepare(self) -> tuple[RawVM, float]:
        """A fresh directory with its overlay (untimed in the boot); the seconds
        ``qemu-img create`` took."""
        self.count += 1
        vm = RawVM(self.root / f"raw-{self.count}")
        vm.directory.mkdir(parents=True)
        took = create_overlay(self.base_disk, vm.directory / "disk.qcow2", VM_DISK_GIB * GIB)
        return vm, took

    def start(self, vm: RawVM, argv: list[str]) -> None:
        # As the agent does it: stdin/stdout closed, stderr to a log, own session.
        with (vm.directory / "qemu.log").open("ab") as err:
            vm.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=vm.directory,
                start_new_session=True,
            )
        self.procs.add(vm.proc)

    def failure(self, vm: RawVM) -> str | None:
        if vm.proc is not None and vm.proc.poll() is not None:
            tail = (vm.directory / "qemu.log").read_text(errors="replace")[-400:]
            return f"QEMU exited with {vm.proc.returncode}: {tail.strip()}"
        return None

    def stop(self, vm: RawVM) -> None:
        if vm.proc is not None:
            vm.proc.kill()
            vm.proc.wait(10)
            self.procs.discard(vm.proc)
        shutil.rmtree(vm.directory, ignore_errors=True)

    def kill_all(self) -> None:
        for proc in list(self.procs):
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            self.procs.discard(proc)


# ============================================================== NovaCron


class NovaCron:
    """A server in this process, one qemu agent process, and the uploaded tiny image."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server_dir = root / "server"
        self.agent_dir = root / "agent"
        self.cluster: Cluster | None = None
        self.image: dict[str, Any] = {}

    @property
    def api(self) -> httpx.Client:
        assert self.cluster is not None
        return self.cluster.api

    def start(self) -> float:
        """Start the server (production worker settings) and the agent; seconds taken."""
        from novacron.core.config import Settings

        started = time.perf_counter()
        self.server_dir.mkdir(parents=True)
        # Cluster.start defaults to test timings (0.5 s heartbeats, 50 ms polling); a
        # user's server runs with the Settings defaults, so measure those.
        defaults = {
            key: Settings.model_fields[key].default
            for key in (
                "heartbeat_interval_s",
                "heartbeat_timeout_s",
                "operation_lease_s",
                "poll_interval_s",
                "executor_threads",
            )
        }
        self.settings = defaults
        self.cluster = Cluster.start(self.server_dir, None, with_agent=False, **defaults)
        args = ["--driver", "qemu", "--accel", "tcg", "--data-dir", str(self.agent_dir)]
        self.cluster.add_agent("bench", 1, args)
        return time.perf_counter() - started

    def upload(self, tiny: TinyImage) -> float:
        """Create, upload and activate the tiny image; seconds taken."""
        started = time.perf_counter()
        body = {"name": IMAGE_NAME, "kind": "kernel", "format": "qcow2", "cmdline": tiny.cmdline}
        resp = self.api.post("/images", json=body)
        if resp.status_code != 201:
            raise RuntimeError(f"POST /images: {resp.status_code} {resp.text}")
        for name, path in (("kernel", tiny.kernel), ("initrd", tiny.initrd), ("disk", tiny.disk)):
            data = path.read_bytes()
            resp = self.api.put(
                f"/images/{IMAGE_NAME}/files/{name}",
                content=data,
                headers={
                    "Content-Type": "application/octet-stream",
                    "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
                },
                timeout=120,
            )
            if resp.status_code != 200:
                raise RuntimeError(f"upload of {name}: {resp.status_code} {resp.text}")
        resp = self.api.post(f"/images/{IMAGE_NAME}/activate")
        if resp.status_code != 200:
            raise RuntimeError(f"activate: {resp.status_code} {resp.text}")
        self.image = resp.json()
        return time.perf_counter() - started

    def host(self) -> dict[str, Any]:
        items = self.api.get("/hosts").json()["items"]
        if len(items) != 1:
            raise RuntimeError(f"expected one host, got {len(items)}")
        return dict(items[0])

    def cached_disk(self) -> Path:
        """The image's disk in the agent's cache: the backing file of every VM's overlay."""
        return self.agent_dir / "images" / str(self.image["id"]) / "disk"

    def cpu(self) -> tuple[float, float]:
        """CPU seconds (user + system) used so far by the agent process and by this
        process (the server's threads, plus the benchmark's own light polling)."""
        assert self.cluster is not None
        agent = psutil.Process(self.cluster.agents[0].pid).cpu_times()
        own = psutil.Process().cpu_times()
        return agent.user + agent.system, own.user + own.system

    def vm_dir(self, vm_id: str) -> Path:
        return self.agent_dir / "vms" / vm_id

    def post_vm(self, name: str) -> dict[str, Any]:
        body = {
            "name": name,
            "vcpus": 1,
            "memory_mib": VM_MEMORY_MIB,
            "disk_gib": VM_DISK_GIB,
            "image": IMAGE_NAME,
        }
        resp = self.api.post("/vms", json=body)
        if resp.status_code != 202:
            raise RuntimeError(f"POST /vms: {resp.status_code} {resp.text}")
        return dict(resp.json())

    def failed_ops(self, ops: dict[str, str]) -> Callable[[set[str]], dict[str, str]]:
        """For ``wait_ready``: VMs (by id) whose create operation (id in ``ops``) ended
        without success."""

        def check(pending: set[str]) -> dict[str, str]:
            out = {}
            for vm_id in pending:
                op = self.api.get(f"/operations/{ops[vm_id]}").json()
                if op["state"] in ("failed", "cancelled"):
                    out[vm_id] = f"create {op['state']}: {op['error']}"
            return out

        return check

    def wait_op(self, op_id: str) -> dict[str, Any]:
        assert self.cluster is not None
        return self.cluster.wait_op(op_id, OP_TIMEOUT_S)

    def delete_vm(self, vm_id: str) -> dict[str, Any]:
        resp = self.api.delete(f"/vms/{vm_id}")
        if resp.status_code != 202:
            raise RuntimeError(f"DELETE /vms/{vm_id}: {resp.status_code} {resp.text}")
        return self.wait_op(resp.json()["id"])

    def stop(self) -> list[int]:
        """Stop the agent and server, then kill the QEMUs the agent left running (it
        leaves VMs running on purpose). Returns the pids killed."""
        if self.cluster is not None:
            self.cluster.stop()
        killed = []
        agent_dir = str(self.agent_dir)
        for pidfile in self.agent_dir.glob("vms/*/qemu.pid"):
            pid = read_pid(pidfile)
            # Only a QEMU of this agent: a pid may have been recycled since.
            if pid is not None and any(agent_dir in a for a in proc_cmdline(pid)):
                kill_pid(pid)
                killed.append(pid)
        for pid in killed:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).wait(10)
        return killed


# ============================================================== 1. sequential boots


@dataclass
class NovaCronBoot:
    seconds: float
    argv: list[str]
    vm_dir: Path
    vm_id: str
    breakdown: dict[str, float | None]
    delete_s: float


def novacron_boot(nc: NovaCron, name: str) -> NovaCronBoot:
    """One VM through the API, timed to its ready marker; deleted afterwards."""
    cpu_before = nc.cpu()
    t0_wall, t0_boot = time.time(), boottime()
    t0 = time.perf_counter()
    op = nc.post_vm(name)
    t_post = time.perf_counter()
    vm_id = op["target_id"]
    vm_dir = nc.vm_dir(vm_id)
    watch = MarkerWatch(vm_dir / "serial.log")
    ready, failures = wait_ready({vm_id: watch}, BOOT_TIMEOUT_S, nc.failed_ops({vm_id: op["id"]}))
    if failures:
        raise RuntimeError(f"VM {name} did not boot: {failures[vm_id]}")
    seconds = ready[vm_id] - t0
    # Everything below is after t1: it does not count.
    cpu_after = nc.cpu()
    pid = read_pid(vm_dir / "qemu.pid")
    if pid is None:
        raise RuntimeError(f"VM {name} has no QEMU pidfile")
    cpu = process_cpu(pid)
    argv = proc_cmdline(pid)
    spawned_at = process_start(pid)
    done = nc.wait_op(op["id"])
    if done["state"] != "succeeded":
        raise RuntimeError(f"create of {name} {done['state']}: {done['error']}")
    breakdown = op_breakdown(done, t0_wall)
    breakdown["post_s"] = t_post - t0
    spawn_s = spawned_at - t0_boot if spawned_at is not None else None
    breakdown["qemu_spawn_s"] = spawn_s
    breakdown["guest_boot_s"] = seconds - spawn_s if spawn_s is not None else None
    breakdown["qemu_cpu_s"] = cpu
    agent_done = breakdown.get("agent_create_done_s")
    breakdown["qemu_spawn_to_create_done_s"] = (
        agent_done - spawn_s if agent_done is not None and spawn_s is not None else None
    )
    breakdown["agent_cpu_s"] = cpu_after[0] - cpu_before[0]
    breakdown["server_cpu_s"] = cpu_after[1] - cpu_before[1]
    breakdown["load_1"] = os.getloadavg()[0]
    started = time.perf_counter()
    deleted = nc.delete_vm(vm_id)
    if deleted["state"] != "succeeded":
        raise RuntimeError(f"delete of {name} {deleted['state']}: {deleted['error']}")
    return NovaCronBoot(seconds, argv, vm_dir, vm_id, breakdown, time.perf_counter() - started)


def op_breakdown(op: dict[str, Any], t0_wall: float) -> dict[str, float | None]:
    """Operation timestamps as seconds after t0 (server clock = this machine's)."""

    def at(value: str | None) -> float | None:
        ts = parse_ts(value)
        return ts - t0_wall if ts is not None else None

    out: dict[str, float | None] = {
        "op_created_s": at(op["created_at"]),
        "op_claimed_s": at(op["started_at"]),
        "op_finished_s": at(op["finished_at"]),
    }
    for step in op["steps"]:
        if step["name"] == "schedule":
            out["scheduled_s"] = at(step["finished_at"])
        elif step["name"].startswith("create on "):
            out["agent_create_start_s"] = at(step["started_at"])
            out["agent_create_done_s"] = at(step["finished_at"])
    created, claimed = out["op_created_s"], out["op_claimed_s"]
    out["pickup_s"] = claimed - created if claimed is not None and created is not None else None
    start, done = out.get("agent_create_start_s"), out.get("agent_create_done_s")
    out["agent_create_s"] = done - start if done is not None and start is not None else None
    return out


def raw_boot(
    runner: RawRunner, template: ArgvTemplate, nc: NovaCron
) -> tuple[float, dict[str, float | None]]:
    vm, overlay_s = runner.prepare()
    argv = template.for_dir(vm.directory)
    try:
        # The idle cluster's CPU over the same window, to compare with a NovaCron boot.
        cpu_before = nc.cpu()
        t0_boot = boottime()
        t0 = time.perf_counter()
        runner.start(vm, argv)
        ready, failures = wait_ready(
            {"raw": vm.watch},
            BOOT_TIMEOUT_S,
            lambda _: {"raw": reason} if (reason := runner.failure(vm)) else {},
            check_after_s=2.0,  # a waitpid, no request: cheap enough
        )
        if failures:
            raise RuntimeError(f"raw QEMU did not boot: {failures['raw']}")
        seconds = ready["raw"] - t0
        cpu_after = nc.cpu()
        assert vm.proc is not None
        cpu = process_cpu(vm.proc.pid)
        spawned_at = process_start(vm.proc.pid)
    finally:
        runner.stop(vm)
    spawn_s = spawned_at - t0_boot if spawned_at is not None else None
    return seconds, {
        "overlay_create_s": overlay_s,
        "qemu_spawn_s": spawn_s,
        "guest_boot_s": seconds - spawn_s if spawn_s is not None else None,
        "qemu_cpu_s": cpu,
        "idle_agent_cpu_s": cpu_after[0] - cpu_before[0],
        "idle_server_cpu_s": cpu_after[1] - cpu_before[1],
        "load_1": os.getloadavg()[0],
    }


def medians_of(rows: list[dict[str, float | None]], prefix: str) -> dict[str, float | None]:
    keys = sorted({k for row in rows for k in row})
    return {
        f"{prefix}{k}": median([v for row in rows if (v := row.get(k)) is not None]) for k in keys
    }


def bench_boots(
    args: argparse.Namespace, nc: NovaCron, runner: RawRunner
) -> tuple[dict[str, Any], ArgvTemplate]:
    """The results, and the argv of the last NovaCron VM (for the concurrency baseline)."""
    out: dict[str, Any] = {"boots": args.boots}
    # Warm-up: the agent fetches the image into its cache (kernel, initrd, disk) on the
    # first VM that uses it. Reported apart, not in the medians.
    warm = novacron_boot(nc, "warmup")
    out["novacron_first_boot_s"] = round(warm.seconds, 4)
    out["novacron_first_boot_breakdown"] = {k: _r(v) for k, v in warm.breakdown.items()}
    log(f"warm-up boot (image fetched into the agent cache): {warm.seconds:.3f}s")
    template = ArgvTemplate.from_novacron(warm.argv, warm.vm_dir, warm.vm_id)
    out["qemu_argv_warmup"] = template.argv
    nc_s: list[float] = []
    raw_s: list[float] = []
    nc_rows: list[dict[str, float | None]] = []
    raw_rows: list[dict[str, float | None]] = []
    deletes: list[float] = []
    for i in range(args.boots):
        time.sleep(args.settle)
        seconds, row = raw_boot(runner, template, nc)
        raw_s.append(seconds)
        raw_rows.append(row)
        time.sleep(args.settle)
        boot = novacron_boot(nc, f"boot-{i}")
        nc_s.append(boot.seconds)
        nc_rows.append(boot.breakdown)
        deletes.append(boot.delete_s)
        template = ArgvTemplate.from_novacron(boot.argv, boot.vm_dir, boot.vm_id)
        log(
            f"boot {i + 1}/{args.boots}: raw {seconds:.3f}s, novacron {boot.seconds:.3f}s "
            f"(QEMU spawned at +{_fmt(boot.breakdown['qemu_spawn_s'])}s / "
            f"+{_fmt(row['qemu_spawn_s'])}s, QEMU CPU {_fmt(boot.breakdown['qemu_cpu_s'])}s / "
            f"{_fmt(row['qemu_cpu_s'])}s, load {os.getloadavg()[0]:.1f})"
        )
    nc_median, raw_median = statistics.median(nc_s), statistics.median(raw_s)
    paired = statistics.median(n / r for n, r in zip(nc_s, raw_s, strict=True))
    paired_diff = statistics.median(n - r for n, r in zip(nc_s, raw_s, strict=True))
    out.update(
        novacron_boot_s=rounded(nc_s),
        raw_boot_s=rounded(raw_s),
        novacron_median_s=round(nc_median, 4),
        raw_median_s=round(raw_median, 4),
        novacron_over_raw_ratio=round(nc_median / raw_median, 4),
        novacron_minus_raw_median_s=round(nc_median - raw_median, 4),
        paired_ratio_median=round(paired, 4),
        paired_overhead_median_s=round(paired_diff, 4),
        target_ratio=TARGET_RATIO,
        within_target=nc_median / raw_median <= TARGET_RATIO,
        novacron_delete_median_s=median(deletes),
    )
    out.update(medians_of(nc_rows, "novacron_"))
    out.update(medians_of(raw_rows, "raw_"))
    out["novacron_breakdown_per_boot"] = [{k: _r(v) for k, v in row.items()} for row in nc_rows]
    out["raw_breakdown_per_boot"] = [{k: _r(v) for k, v in row.items()} for row in raw_rows]
    return out, template


def _r(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _fmt(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "?"


# ============================================================== 2. concurrency


def concurrent_count(args: argparse.Namespace, nc: NovaCron) -> tuple[int, dict[str, int]]:
    """As many 256 MiB VMs as fit in half of the free memory, capped by
    ``--max-concurrent`` and by what the host can still take (vCPU and RAM)."""
    host = nc.host()
    by_memory = psutil.virtual_memory().available // 2 // (VM_MEMORY_MIB * 1024 * 1024)
    free_vcpus = int(host["vcpus"] * host["cpu_allocation_ratio"]) - host["alloc_vcpus"]
    free_mib = int(host["memory_mib"] * host["ram_allocation_ratio"]) - host["alloc_memory_mib"]
    limits = {
        "half_free_memory": int(by_memory),
        "max_concurrent": args.max_concurrent,
        "host_free_vcpus": free_vcpus,
        "host_free_memory": free_mib // VM_MEMORY_MIB,
    }
    return max(0, min(limits.values())), limits


@dataclass
class ConcurrentRound:
    ready_s: list[float]
    spawn_s: list[float]
    qemu_cpu_s: float
    failures: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def all_ready_s(self) -> float | None:
        return max(self.ready_s) if self.ready_s and not self.failures else None


def _spawn_and_cpu(pids: list[int], t0_boot: float) -> tuple[list[float], float]:
    """When each QEMU was created (s after t0) and their CPU seconds so far."""
    spawn, cpu = [], 0.0
    for pid in pids:
        started = process_start(pid)
        if started is not None:
            spawn.append(started - t0_boot)
        cpu += process_cpu(pid) or 0.0
    return sorted(spawn), cpu


def nc_concurrent_round(nc: NovaCron, n: int, timeout: float, tag: str) -> ConcurrentRound:
    """n VMs created at once through the API, until every guest is ready; then deleted."""
    cpu_before = nc.cpu()
    t0_boot = boottime()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        ops = list(pool.map(lambda i: nc.post_vm(f"{tag}-{i}"), range(n)))
    accepted = time.perf_counter() - t0
    op_of = {op["target_id"]: op["id"] for op in ops}
    watches = {vm_id: MarkerWatch(nc.vm_dir(vm_id) / "serial.log") for vm_id in op_of}
    ready, failures = wait_ready(watches, timeout, nc.failed_ops(op_of))
    cpu_after = nc.cpu()
    pids = [p for vm_id in op_of if (p := read_pid(nc.vm_dir(vm_id) / "qemu.pid")) is not None]
    spawn, qemu_cpu = _spawn_and_cpu(pids, t0_boot)
    for vm_id, op_id in op_of.items():
        done = nc.wait_op(op_id)
        if done["state"] != "succeeded" and vm_id not in failures:
            failures[vm_id] = f"create {done['state']}: {done['error']}"
    with ThreadPoolExecutor(n) as pool:
        deleted = list(pool.map(nc.delete_vm, op_of))
    return ConcurrentRound(
        sorted(t - t0 for t in ready.values()),
        spawn,
        qemu_cpu,
        failures,
        {
            "accept_s": accepted,
            "agent_cpu_s": cpu_after[0] - cpu_before[0],
            "server_cpu_s": cpu_after[1] - cpu_before[1],
            "delete_failures": sum(d["state"] != "succeeded" for d in deleted),
        },
    )


def raw_concurrent_round(
    runner: RawRunner, template: ArgvTemplate, n: int, timeout: float
) -> ConcurrentRound:
    """The same n QEMUs started at once by hand (overlays made beforehand)."""
    vms = [runner.prepare()[0] for _ in range(n)]
    try:
        argvs = [template.for_dir(vm.directory) for vm in vms]
        t0_boot = boottime()
        t0 = time.perf_counter()
        for vm, argv in zip(vms, argvs, strict=True):
            runner.start(vm, argv)
        ready, failures = wait_ready(
            {str(i): vm.watch for i, vm in enumerate(vms)},
            timeout,
            lambda pending: {
                k: reason for k in pending if (reason := runner.failure(vms[int(k)])) is not None
            },
            check_after_s=2.0,
        )
        spawn, qemu_cpu = _spawn_and_cpu([vm.proc.pid for vm in vms if vm.proc], t0_boot)
    finally:
        for vm in vms:
            runner.stop(vm)
    return ConcurrentRound(sorted(t - t0 for t in ready.values()), spawn, qemu_cpu, failures)


def bench_concurrent(
    args: argparse.Namespace, nc: NovaCron, runner: RawRunner, template: ArgvTemplate
) -> dict[str, Any]:
    n, limits = concurrent_count(args, nc)
    out: dict[str, Any] = {"concurrent": n, "concurrent_limits": limits}
    if n == 0:
        out["concurrent_failures"] = 0
        out["concurrent_skipped"] = f"no room for a {VM_MEMORY_MIB} MiB VM: {limits}"
        return out
    timeout = BOOT_TIMEOUT_S + 15.0 * n
    rounds: list[tuple[ConcurrentRound, ConcurrentRound]] = []
    for r in range(args.concurrent_rounds):
        # Alternate which goes first, so neither always runs on a warmer (or busier) host.
        order = ("nc", "raw") if r % 2 == 0 else ("raw", "nc")
        done: dict[str, ConcurrentRound] = {}
        for which in order:
            time.sleep(args.settle)
            if which == "nc":
                done[which] = nc_concurrent_round(nc, n, timeout, f"conc{r}")
            else:
                done[which] = raw_concurrent_round(runner, template, n, timeout)
            log(
                f"concurrent round {r + 1}/{args.concurrent_rounds}: {n} VMs "
                f"{'through NovaCron' if which == 'nc' else 'by hand'}, all ready in "
                f"{_fmt(done[which].all_ready_s)}s, last QEMU spawned at "
                f"+{_fmt(max(done[which].spawn_s, default=None))}s, "
                f"{len(done[which].failures)} failures"
            )
        rounds.append((done["nc"], done["raw"]))
    ncs, raws = [a for a, _ in rounds], [b for _, b in rounds]
    failures = [reason for rnd in ncs for reason in rnd.failures.values()]
    nc_all = [x for rnd in ncs if (x := rnd.all_ready_s) is not None]
    raw_all = [x for rnd in raws if (x := rnd.all_ready_s) is not None]
    out.update(
        concurrent_rounds=args.concurrent_rounds,
        concurrent_all_ready_s=median(nc_all) if not failures else None,
        concurrent_raw_all_ready_s=median(raw_all),
        concurrent_failures=len(failures),
        concurrent_failure_reasons=sorted(set(failures)),
        concurrent_raw_failures=sum(len(rnd.failures) for rnd in raws),
        concurrent_delete_failures=sum(rnd.extra["delete_failures"] for rnd in ncs),
        concurrent_all_ready_per_round_s=rounded(nc_all),
        concurrent_raw_all_ready_per_round_s=rounded(raw_all),
        concurrent_accept_s=median([rnd.extra["accept_s"] for rnd in ncs]),
        concurrent_last_spawn_s=median([max(rnd.spawn_s) for rnd in ncs if rnd.spawn_s]),
        concurrent_raw_last_spawn_s=median([max(rnd.spawn_s) for rnd in raws if rnd.spawn_s]),
        concurrent_qemu_cpu_s=median([rnd.qemu_cpu_s for rnd in ncs]),
        concurrent_raw_qemu_cpu_s=median([rnd.qemu_cpu_s for rnd in raws]),
        concurrent_agent_cpu_s=median([rnd.extra["agent_cpu_s"] for rnd in ncs]),
        concurrent_server_cpu_s=median([rnd.extra["server_cpu_s"] for rnd in ncs]),
        concurrent_ready_s=[rounded(rnd.ready_s) for rnd in ncs],
        concurrent_raw_ready_s=[rounded(rnd.ready_s) for rnd in raws],
        concurrent_spawn_s=[rounded(rnd.spawn_s) for rnd in ncs],
        concurrent_raw_spawn_s=[rounded(rnd.spawn_s) for rnd in raws],
    )
    if out["concurrent_all_ready_s"] and out["concurrent_raw_all_ready_s"]:
        out["concurrent_novacron_over_raw_ratio"] = round(
            out["concurrent_all_ready_s"] / out["concurrent_raw_all_ready_s"], 4
        )
    return out


# ============================================================== main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 boots each, 4 concurrent VMs")
    parser.add_argument("--boots", type=int, default=None, help="timed boots each (default 7)")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="cap on the concurrency section's VMs (default 8, 4 with --quick)",
    )
    parser.add_argument(
        "--concurrent-rounds",
        type=int,
        default=None,
        help="rounds of the concurrency section, each NovaCron + by hand (default 2, 1 with "
        "--quick)",
    )
    parser.add_argument("--skip-concurrent", action="store_true")
    parser.add_argument(
        "--settle", type=float, default=0.5, help="pause before each timed boot (s)"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    args = parser.parse_args(argv)
    if args.boots is None:
        args.boots = 3 if args.quick else 7
    if args.concurrent_rounds is None:
        args.concurrent_rounds = 1 if args.quick else 2
    if args.max_concurrent is None:
        args.max_concurrent = 4 if args.quick else 8
    if args.boots < 1 or args.concurrent_rounds < 1:
        parser.error("--boots and --concurrent-rounds must be >= 1")
    return args


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": "boot",
        "quick": args.quick,
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine_before": machine(),
        "qemu_version": qemu_version(),
    }
    with (
        terminate_on_sigterm(),
        tempfile.TemporaryDirectory(prefix="novacron-boot-") as tmp,
    ):
        root = Path(tmp)
        t = time.perf_counter()
        tiny = build_tiny(root / "tiny", cache_dir=default_cache_dir())
        results["tiny_build_s"] = round(time.perf_counter() - t, 3)
        results["guest_kernel"] = tiny.kernel_release
        nc = NovaCron(root)
        runner: RawRunner | None = None
        try:
            results["cluster_start_s"] = round(nc.start(), 3)
            results["server_settings"] = nc.settings
            host = nc.host()
            accel = host["labels"].get("accel") or next(
                (c for c in ("kvm", "tcg") if c in host["capabilities"]), None
            )
            results.update(
                accel=accel,
                host_capabilities=host["capabilities"],
                host_labels=host["labels"],
            )
            results["image_upload_s"] = round(nc.upload(tiny), 3)
            log(
                f"cluster up in {results['cluster_start_s']}s, accel {accel}, "
                f"QEMU {results['qemu_version']}, image uploaded in {results['image_upload_s']}s"
            )
            runner = RawRunner(root / "raw", nc.cached_disk())
            t = time.perf_counter()
            boots, template = bench_boots(args, nc, runner)
            results.update(boots)
            results["boots_seconds"] = round(time.perf_counter() - t, 2)
            if not args.skip_concurrent:
                t = time.perf_counter()
                results.update(bench_concurrent(args, nc, runner, template))
                results["concurrent_seconds"] = round(time.perf_counter() - t, 2)
        finally:
            if runner is not None:
                runner.kill_all()
            killed = nc.stop()
            if killed:
                log(f"killed {len(killed)} QEMU processes the agent left running")
    results["machine_after"] = machine()
    results["total_seconds"] = round(time.perf_counter() - started, 2)
    summary = {
        k: results.get(k)
        for k in (
            "benchmark",
            "novacron_over_raw_ratio",
            "novacron_median_s",
            "raw_median_s",
            "boots",
            "accel",
            "qemu_version",
            "paired_overhead_median_s",
            "novacron_qemu_spawn_s",
            "novacron_first_boot_s",
            "concurrent",
            "concurrent_all_ready_s",
            "concurrent_raw_all_ready_s",
            "concurrent_novacron_over_raw_ratio",
            "concurrent_failures",
            "within_target",
        )
    }
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"boot-{datetime.now(UTC).date().isoformat()}.json"
        path.write_text(json.dumps(results, indent=1) + "\n")
        log(f"wrote {path}")
    print(json.dumps(results))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
