"""Live migration of real tiny guests: NovaCron's adaptive policy against QEMU's defaults.

    .venv/bin/python benchmarks/migration.py [--quick] [--no-save] [--latency-ms 10]

Two ``QemuDriver`` "hosts" on this machine (own data dirs, as two agents have) migrate
a tiny guest (``novacron.hypervisor.qemu.tiny``) back and forth through the same code
the agents run: ``prepare_outgoing`` → ``prepare_incoming`` → ``migrate`` (NBD disk
mirror + memory stream) → ``finish`` on both sides. The server is left out: it adds no
time to the stream and none to the downtime.

Matrix: guests of 256 MiB and 1 GiB; idle, or rewriting a working set with random data
at about 20, 50 and 100 MB/s (``novacron.dirty_mbps``); over an unthrottled loopback
link and over "WAN" links of 16 MiB/s and 100 Mbit/s with ``--latency-ms`` one way.
The WAN is ``novacron.testing.wan.WanLink``: a proxy that every connection of the
migration crosses (memory stream, post-copy return path, NBD mirror) with ONE rate
budget, so post-copy is throttled like pre-copy — the comparison is fair.

Each case runs both policies on the same booted guest, alternating which goes first:

- ``qemu-default``: QEMU's settings (128 MiB/s cap, 300 ms downtime limit, plain
  pre-copy);
- ``adaptive``: ``novacron.compute.migration.policy`` with a 30 ms downtime objective
  for idle guests and 50 ms for dirtying ones, NOT told the link's rate (it measures
  it during the first pass).

A run that has not completed after ``max(60 s, 2.5 × bound)`` is cancelled (the guest
keeps running on its source) and counts as not completed. ``bound_s`` is RAM / link
rate (for loopback, RAM / the fastest rate seen on the link in this case). After each
run the guest must go on printing heartbeats wherever it now runs (``guest_ok``).

Progress goes to stderr. The last line is JSON: ``{"cases": [{"name", "policy",
"throttled", "dirty_rate_mbps", "completed", "total_s", "downtime_ms", "bytes",
"bound_s", …}], "summary": {…}}``; the full result is also written to
``benchmarks/results/migration-<date>.json`` unless ``--no-save``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from novacron.compute.migration.policy import Objective, plan_migration, qemu_default_plan
from novacron.hypervisor.base import MigrationProgress, VMSpec
from novacron.hypervisor.qemu import kill_guests
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.hypervisor.qemu.tiny import build_tiny, default_cache_dir, guest_cmdline
from novacron.testing.qemu import heartbeats, tiny_image_ref
from novacron.testing.wan import WanLink, route_migration

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024
LINKS: dict[str, float | None] = {
    "loopback": None,
    "16MiB/s": 16 * MIB,
    "100Mbit/s": 100e6 / 8,
}
SIZES = (256, 1024)
DIRTY = (0, 20, 50, 100)
QUICK = (
    (256, 0, "loopback"),
    (256, 50, "16MiB/s"),
    (256, 100, "100Mbit/s"),
    (1024, 20, "16MiB/s"),
)
TARGET_IDLE_DOWNTIME_MS = 30.0
TARGET_DOWNTIME_MS = 50.0
#: ``--traces FILE``: every run's ``query-migrate`` readings, for the policy's tests.
TRACES: list[dict[str, Any]] | None = None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Run:
    name: str
    policy: str
    throttled: bool
    link: str
    memory_mib: int
    dirty_rate_mbps: int
    completed: bool
    total_s: float
    downtime_ms: float | None
    switchover_hold_ms: float | None
    bytes: int
    bound_s: float
    mode: str
    guest_ok: bool
    error: str
    decisions: list[str]


class Pair:
    """Two driver "hosts" and where the guest is now."""

    def __init__(self, root: Path, images: Any) -> None:
        self.hosts = [
            QemuDriver(name, root / name, accel="tcg", images=images) for name in ("a", "b")
        ]
        self.here = 0

    @property
    def source(self) -> QemuDriver:
        return self.hosts[self.here]

    @property
    def dest(self) -> QemuDriver:
        return self.hosts[1 - self.here]


async def migrate_once(
    pair: Pair, policy: str, rate: float | None, latency_ms: float, dirty: int, deadline: float
) -> tuple[MigrationProgress, float]:
    a, b = pair.source, pair.dest
    facts = await a.prepare_outgoing("vm")
    objective = Objective(downtime_ms=TARGET_DOWNTIME_MS if dirty else TARGET_IDLE_DOWNTIME_MS)
    plan = (
        qemu_default_plan()
        if policy == "qemu-default"
        else plan_migration(objective, facts["ram_bytes"], facts["dirty_rate_bps"])
    ).as_dict()
    target = await b.prepare_incoming(a._get("vm").spec, {**facts, "plan": plan})
    # The link stays up until both sides finished: the destination may still be reading
    # what the source has already handed to the link.
    with WanLink(rate_bytes_per_s=rate, latency_ms=latency_ms if rate else 0.0).start() as link:
        if rate is not None:
            target = route_migration(link, target)
        options = {
            "plan": plan,
            "policy": policy,
            "objective": objective.__dict__,
            "dirty_rate_bps": facts["dirty_rate_bps"],
        }
        await a.migrate("vm", target, options)
        peak = 0.0
        started = time.monotonic()
        while True:
            progress = await a.migration_status("vm")
            peak = max(peak, progress.bandwidth_bps)
            if progress.done:
                break
            if time.monotonic() - started > deadline:
                await a.cancel_migration("vm")
            await asyncio.sleep(0.1)
        outgoing = a._get("vm").outgoing
        if TRACES is not None and outgoing is not None:
            TRACES.append({"policy": policy, "rate": rate, "dirty": dirty, "trace": outgoing.trace})
        if progress.status == "completed":
            await b.finish_migration("vm", source=False)
            await a.finish_migration("vm", source=True)
            pair.here = 1 - pair.here
        else:
            await a.rollback_migration("vm", source=True)
            await b.rollback_migration("vm", source=False)
    return progress, peak


async def guest_alive(driver: QemuDriver, timeout_s: float = 20.0) -> bool:
    log_path = driver.vms_dir / "vm" / "serial.log"
    before = max(heartbeats(log_path.read_text(errors="replace")) or [0])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if max(heartbeats(log_path.read_text(errors="replace")) or [0]) >= before + 2:
            return True
        await asyncio.sleep(0.2)
    return False


async def run_group(
    root: Path, image: Any, memory_mib: int, dirty: int, links: list[str], latency_ms: float
) -> list[Run]:
    ref, image_dir = tiny_image_ref(image, root / "images")

    async def images(_ref: dict[str, Any]) -> Path:
        return image_dir

    pair = Pair(root, images)
    for host in pair.hosts:
        await host.open()
    kernel_args = guest_cmdline("", dirty_mbps=dirty) if dirty else ""
    spec = VMSpec(
        id="vm",
        name="bench",
        vcpus=1,
        memory_mib=memory_mib,
        disk_gib=1,
        image_ref=ref,
        kernel_args=kernel_args.strip(),
    )
    await pair.source.create(spec)
    if not await guest_alive(pair.source, 90):
        raise RuntimeError("the guest did not boot")
    await asyncio.sleep(2.0)  # the dirtying workload settles
    runs: list[Run] = []
    for index, link_name in enumerate(links):
        rate = LINKS[link_name]
        order = ["adaptive", "qemu-default"] if index % 2 == 0 else ["qemu-default", "adaptive"]
        peak_seen = 0.0
        for policy in order:
            ram = memory_mib * MIB
            bound = ram / rate if rate else 0.0
            deadline = max(60.0, 2.5 * bound)
            name = f"{memory_mib}MiB-dirty{dirty}-{link_name}"
            log(f"{name} {policy} …")
            progress, peak = await migrate_once(pair, policy, rate, latency_ms, dirty, deadline)
            peak_seen = max(peak_seen, peak)
            ok = await guest_alive(pair.source)
            runs.append(
                Run(
                    name=name,
                    policy=policy,
                    throttled=rate is not None,
                    link=link_name,
                    memory_mib=memory_mib,
                    dirty_rate_mbps=dirty,
                    completed=progress.status == "completed",
                    total_s=round(progress.elapsed_s, 2),
                    downtime_ms=progress.downtime_ms,
                    switchover_hold_ms=progress.switchover_hold_ms,
                    bytes=progress.transferred_bytes,
                    bound_s=round(bound, 2),
                    mode=progress.mode,
                    guest_ok=ok,
                    error=progress.error,
                    decisions=[f"{d.choice}: {d.reason}" for d in progress.decisions],
                )
            )
            r = runs[-1]
            log(
                f"  {'completed' if r.completed else 'NOT completed'} in {r.total_s} s, "
                f"downtime {r.downtime_ms} ms (hold {r.switchover_hold_ms}), "
                f"{r.bytes / MIB:.0f} MiB, {r.mode}, "
                f"guest {'ok' if ok else 'BROKEN'} {r.error}"
            )
        if rate is None:  # loopback: the bound is what the link carried at best
            for r in runs:
                if r.link == link_name and peak_seen:
                    r.bound_s = round(memory_mib * MIB / peak_seen, 2)
    for host in pair.hosts:
        await host.destroy("vm")
    return runs


def summarize(runs: list[Run]) -> dict[str, Any]:
    adaptive = [r for r in runs if r.policy == "adaptive"]
    default = {(r.name): r for r in runs if r.policy == "qemu-default"}
    idle_256 = [r for r in adaptive if r.memory_mib == 256 and r.dirty_rate_mbps == 0]
    dirty_wan = [r for r in adaptive if r.throttled and r.dirty_rate_mbps]
    return {
        "runs": len(runs),
        "guests_ok": sum(r.guest_ok for r in runs),
        "adaptive_completed": sum(r.completed for r in adaptive),
        "qemu_default_completed": sum(r.completed for r in default.values()),
        "adaptive": len(adaptive),
        "target_idle_256_downtime_ms": all(
            r.completed and (r.downtime_ms or 0) <= TARGET_IDLE_DOWNTIME_MS for r in idle_256
        ),
        "target_dirty_wan_all_complete": all(r.completed for r in dirty_wan),
        "dirty_wan_where_default_failed": sum(
            1 for r in dirty_wan if r.completed and not default[r.name].completed
        ),
        "target_downtime_50ms": all(
            (r.downtime_ms or 0) <= TARGET_DOWNTIME_MS for r in adaptive if r.completed
        ),
        "target_total_within_2x_bound": all(
            r.total_s <= 2 * r.bound_s for r in adaptive if r.completed and r.bound_s
        ),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    groups: dict[tuple[int, int], list[str]] = {}
    if args.quick:
        for size, dirty, link in QUICK:
            groups.setdefault((size, dirty), []).append(link)
    else:
        for size in SIZES:
            for dirty in DIRTY:
                groups[(size, dirty)] = list(LINKS)
    if args.only:
        groups = {
            key: [link for link in links if args.only in f"{key[0]}MiB-dirty{key[1]}-{link}"]
            for key, links in groups.items()
        }
        groups = {key: links for key, links in groups.items() if links}
    with tempfile.TemporaryDirectory(prefix="nc-migbench-") as tmp:
        root = args.workdir or Path(tmp)
        image = build_tiny(root / "tiny", cache_dir=default_cache_dir())
        runs: list[Run] = []
        try:
            for (size, dirty), links in groups.items():
                group_root = root / f"g{size}-{dirty}"
                runs += await run_group(group_root, image, size, dirty, links, args.latency_ms)
        finally:
            kill_guests(root)
    return {
        "benchmark": "migration",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "latency_ms": args.latency_ms,
        "cases": [asdict(r) for r in runs],
        "summary": summarize(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a representative subset")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="WAN one-way latency")
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--traces", type=Path, help="write every run's progress trace here")
    parser.add_argument("--workdir", type=Path, help="keep the hosts' files here (debugging)")
    args = parser.parse_args()
    global TRACES
    TRACES = [] if args.traces else None
    result = asyncio.run(main_async(args))
    if args.traces:
        args.traces.write_text(json.dumps(TRACES))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        path = RESULTS_DIR / f"migration-{stamp}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(result, indent=1))
        log(f"saved {path}")
    log(json.dumps(result["summary"], indent=1))
    print(json.dumps({"cases": result["cases"], "summary": result["summary"]}))


if __name__ == "__main__":
    main()
