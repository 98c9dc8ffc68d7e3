"""Placement scheduler benchmark: throughput, and packing quality on a real trace.

    .venv/bin/python benchmarks/scheduler.py [--quick] [--dataset-dir DIR] [--trace NAME]
        [--database-url URL] [--skip-api]

Sections (each a function returning a dict; they are merged into one JSON
object, printed as the last line of stdout; progress goes to stderr):

1. ``throughput``: in-process placements/s of ``HostTable`` at 1,000 and
   10,000 hosts (select + claim), median of several rounds, against a naive
   pure-Python loop over the same hosts and requests in the same run.
2. ``db_claim``: the production path in process, without HTTP:
   ``Placement.schedule_and_claim`` (cached-table ranking plus the atomic SQL
   claim on the host row), one transaction per placement, against a fresh
   SQLite database (or PostgreSQL with ``--database-url``) holding 1,000 and
   10,000 hosts; afterwards every host's allocation is checked against the VMs
   claimed on it.
3. ``trace``: replay of the Alibaba GPU 2023 (OpenB) pod trace as VM requests
   on homogeneous hosts with ``HostTable`` ("pack"), reporting the peak number
   of hosts in use against the lower bound ``max over time of max over
   resources of ceil(demand / host capacity)``, and first-fit as the baseline.
4. ``api``: VM creates through the REST API to a server and a sim agent
   process (left out with ``--skip-api``).

See benchmarks/README.md for what each number means and the recorded results.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from novacron.compute.scheduler import (
    HostTable,
    HostView,
    NoCapacity,
    PlacementRequest,
    Weights,
    effective_capacity,
)

DEFAULT_DATASET_DIR = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "alibaba-gpu-2023"
)
DEFAULT_TRACE = "openb_pod_list_default.csv"
NODE_LIST = "openb_node_list_all_node.csv"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================== 1. throughput

# (vcpus, memory MiB, disk GiB): OpenStack-like flavors, small ones most common.
FLAVORS = [
    (1, 2048, 20),
    (2, 4096, 40),
    (2, 8192, 40),
    (4, 8192, 80),
    (4, 16384, 80),
    (8, 32768, 160),
    (16, 65536, 320),
    (32, 131072, 640),
]
FLAVOR_WEIGHTS = [20, 25, 15, 15, 10, 8, 5, 2]
ZONES = ("az1", "az2", "az3")


def synthetic_hosts(count: int, seed: int) -> list[HostView]:
    """Varied hosts: 32-128 vCPU, 128-512 GiB, a few down or in maintenance, 3 zones."""
    rng = random.Random(seed)
    hosts = []
    for i in range(count):
        vcpus = rng.choice([32, 48, 64, 96, 128])
        r = rng.random()
        state = "down" if r < 0.01 else "maintenance" if r < 0.03 else "up"
        hosts.append(
            HostView(
                id=f"host-{i:05d}",
                name=f"node{i:05d}",
                state=state,
                vcpus=vcpus,
                memory_mib=rng.choice([128, 192, 256, 384, 512]) * 1024,
                disk_gib=rng.choice([1000, 2000, 4000]),
                cpu_allocation_ratio=rng.choice([1.0, 2.0, 4.0]),
                ram_allocation_ratio=rng.choice([1.0, 1.0, 1.5]),
                disk_allocation_ratio=1.0,
                alloc_vcpus=0,
                alloc_memory_mib=0,
                alloc_disk_gib=0,
                labels={"zone": ZONES[i % len(ZONES)]},
                traits=frozenset({"kvm"}) if rng.random() < 0.95 else frozenset(),
            )
        )
    return hosts


def synthetic_requests(count: int, seed: int) -> list[PlacementRequest]:
    """Random flavors; a quarter pinned to a zone, most needing KVM."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        vcpus, memory, disk = rng.choices(FLAVORS, FLAVOR_WEIGHTS)[0]
        labels = {"zone": rng.choice(ZONES)} if rng.random() < 0.25 else {}
        traits = frozenset({"kvm"}) if rng.random() < 0.8 else frozenset()
        requests.append(PlacementRequest(vcpus, memory, disk, labels=labels, traits=traits))
    return requests


class NaiveScheduler:
    """The baseline: the same filters and spread weigher as one Python loop over hosts."""

    def __init__(self, hosts: list[HostView]) -> None:
        self.hosts = hosts
        self.cap = [
            [
                effective_capacity(h.vcpus, h.cpu_allocation_ratio),
                effective_capacity(h.memory_mib, h.ram_allocation_ratio),
                effective_capacity(h.disk_gib, h.disk_allocation_ratio),
            ]
            for h in hosts
        ]
        self.alloc = [[h.alloc_vcpus, h.alloc_memory_mib, h.alloc_disk_gib] for h in hosts]

    def select(self, req: PlacementRequest, weights: Weights) -> int:
        need = (req.vcpus, req.memory_mib, req.disk_gib)
        w = (weights.cpu, weights.ram, weights.disk)
        best, best_score = -1, -math.inf
        for i, h in enumerate(self.hosts):
            if h.state != "up" or not req.traits <= h.traits:
                continue
            if any(h.labels.get(k) != v for k, v in req.labels.items()):
                continue
            cap, alloc = self.cap[i], self.alloc[i]
            if any(alloc[r] + need[r] > cap[r] for r in range(3)):
                continue
            score = 0.0
            for r in range(3):
                if w[r] and cap[r]:
                    score += w[r] * ((alloc[r] + need[r]) / cap[r])
            if weights.strategy == "spread":
                score = -score
            if score > best_score:
                best, best_score = i, score
        if best < 0:
            raise NoCapacity("no host fits")
        return best

    def claim(self, i: int, req: PlacementRequest) -> None:
        alloc = self.alloc[i]
        alloc[0] += req.vcpus
        alloc[1] += req.memory_mib
        alloc[2] += req.disk_gib


def time_table(
    hosts: list[HostView], requests: list[PlacementRequest], weights: Weights
) -> tuple[float, list[str]]:
    """Placements/s of HostTable.select + claim over ``requests`` on a fresh table."""
    table = HostTable(hosts)
    chosen = []
    start = time.perf_counter()
    for req in requests:
        host_id = table.select(req, weights)
        table.claim(host_id, req.vcpus, req.memory_mib, req.disk_gib)
        chosen.append(host_id)
    return len(requests) / (time.perf_counter() - start), chosen


def time_naive(
    hosts: list[HostView], requests: list[PlacementRequest], weights: Weights
) -> tuple[float, list[str]]:
    naive = NaiveScheduler(hosts)
    chosen = []
    start = time.perf_counter()
    for req in requests:
        i = naive.select(req, weights)
        naive.claim(i, req)
        chosen.append(hosts[i].id)
    return len(requests) / (time.perf_counter() - start), chosen


def bench_throughput(args: argparse.Namespace) -> dict[str, Any]:
    rounds = 3 if args.quick else 7
    per_round = 500 if args.quick else 2000
    naive_count = 50 if args.quick else 200
    weights = Weights()  # the default: spread on vCPU and RAM
    out: dict[str, Any] = {
        "throughput_rounds": rounds,
        "throughput_placements_per_round": per_round,
        "throughput_strategy": weights.strategy,
    }
    for count, key in ((1_000, "1k"), (10_000, "10k")):
        hosts = synthetic_hosts(count, seed=count)
        rates: dict[str, list[float]] = {"spread": [], "pack": []}
        for rnd in range(rounds):
            requests = synthetic_requests(per_round, seed=1000 * count + rnd)
            rates["spread"].append(time_table(hosts, requests, weights)[0])
            rates["pack"].append(time_table(hosts, requests, Weights("pack"))[0])
        out[f"placements_per_s_{key}_hosts"] = round(statistics.median(rates["spread"]), 1)
        out[f"placements_per_s_{key}_hosts_pack"] = round(statistics.median(rates["pack"]), 1)
        log(f"throughput {count} hosts: {rates}")
    # Baseline at 10k hosts: same hosts, same request sequence, fewer placements.
    hosts = synthetic_hosts(10_000, seed=10_000)
    requests = synthetic_requests(naive_count, seed=99)
    naive_rate, naive_chosen = time_naive(hosts, requests, weights)
    _, table_chosen = time_table(hosts, requests, weights)
    out["naive_placements_per_s_10k_hosts"] = round(naive_rate, 1)
    out["naive_placements_measured"] = naive_count
    out["naive_same_choices"] = naive_chosen == table_chosen
    out["speedup_vs_naive_10k"] = round(out["placements_per_s_10k_hosts"] / naive_rate, 1)
    log(f"naive 10k hosts: {naive_rate:,.0f}/s, same choices: {out['naive_same_choices']}")
    return out


# ============================================================== 2. database claim


def _host_rows(count: int, agent_id: str) -> list[dict[str, Any]]:
    """``synthetic_hosts`` as ``hosts`` rows, all up; sizes, ratios, zones and traits kept."""
    return [
        {
            "id": h.id,
            "name": h.name,
            "agent_id": agent_id,
            "driver": "sim",
            "status": "up",
            "maintenance": False,
            "maintenance_reason": "",
            "vcpus": h.vcpus,
            "memory_mib": h.memory_mib,
            "disk_gib": h.disk_gib,
            "cpu_allocation_ratio": h.cpu_allocation_ratio,
            "ram_allocation_ratio": h.ram_allocation_ratio,
            "disk_allocation_ratio": h.disk_allocation_ratio,
            "alloc_vcpus": 0,
            "alloc_memory_mib": 0,
            "alloc_disk_gib": 0,
            "labels": dict(h.labels),
            "capabilities": sorted(h.traits),
        }
        for h in synthetic_hosts(count, seed=count)
    ]


@dataclass
class ClaimRound:
    placed: int
    no_capacity: int
    place_s: float
    """Seconds inside the scheduling transactions only."""
    total_s: float
    """Seconds including the transactions that insert the VM rows."""


def _claim_round(db: Any, placement: Any, requests: list[PlacementRequest], tag: str) -> ClaimRound:
    """One VM per request, inserted in its own transaction (as ``POST /vms`` does), then
    scheduled in a second one (as the executor's ``_schedule`` does): load the VM,
    ``request_for``, ``schedule_and_claim``, commit."""
    from novacron.compute.models import DEFAULT_PROJECT_ID, VM

    placed = no_capacity = 0
    place_s = 0.0
    start = time.perf_counter()
    for n, req in enumerate(requests):
        vm_id = f"vm-{tag}-{n:05d}"
        with db.session() as s:
            s.add(
                VM(
                    id=vm_id,
                    project_id=DEFAULT_PROJECT_ID,
                    name=vm_id,
                    name_key=vm_id,
                    state="building",
                    vcpus=req.vcpus,
                    memory_mib=req.memory_mib,
                    disk_gib=req.disk_gib,
                    labels={},
                    host_labels=dict(req.labels),
                    required_traits=sorted(req.traits),
                    fault="",
                )
            )
        t0 = time.perf_counter()
        try:
            with db.session() as s:
                vm = s.get(VM, vm_id)
                assert vm is not None
                placement.schedule_and_claim(s, vm, placement.request_for(s, vm))
            placed += 1
        except NoCapacity:
            no_capacity += 1
        place_s += time.perf_counter() - t0
    return ClaimRound(placed, no_capacity, place_s, time.perf_counter() - start)


def _claims_consistent(db: Any) -> tuple[bool, str]:
    """Every host's allocation equals the sum over the VMs claimed on it, within capacity."""
    from sqlalchemy import func, select

    from novacron.compute.models import VM, Host

    with db.read() as s:
        sums = {
            host_id: (v, m, d)
            for host_id, v, m, d in s.execute(
                select(
                    VM.host_id, func.sum(VM.vcpus), func.sum(VM.memory_mib), func.sum(VM.disk_gib)
                )
                .where(VM.claimed.is_(True))
                .group_by(VM.host_id)
            )
        }
        dangling = s.scalar(
            select(func.count()).select_from(VM).where(VM.claimed.is_(True), VM.host_id.is_(None))
        )
        problems = [f"{dangling} claimed VMs without a host"] if dangling else []
        for h in s.scalars(select(Host)):
            alloc = (h.alloc_vcpus, h.alloc_memory_mib, h.alloc_disk_gib)
            if alloc != tuple(sums.get(h.id, (0, 0, 0))):
                problems.append(f"{h.id}: alloc {alloc} != claimed {sums.get(h.id)}")
            if (
                h.alloc_vcpus > effective_capacity(h.vcpus, h.cpu_allocation_ratio)
                or h.alloc_memory_mib > effective_capacity(h.memory_mib, h.ram_allocation_ratio)
                or h.alloc_disk_gib > effective_capacity(h.disk_gib, h.disk_allocation_ratio)
            ):
                problems.append(f"{h.id}: over capacity {alloc}")
    return not problems, "; ".join(problems[:5])


def bench_db_claim(args: argparse.Namespace) -> dict[str, Any]:
    """``Placement.schedule_and_claim`` against a real database, in process, one at a time.

    The production path without HTTP, agent or operation bookkeeping: the cached
    host table's ranking plus the conditional UPDATE on the host row, each
    placement its own transaction. SQLite in a temp dir by default;
    ``--database-url`` runs it in a fresh PostgreSQL database created and dropped here.
    """
    import tempfile

    from sqlalchemy import insert

    from novacron.compute.models import Agent, Host
    from novacron.compute.placement import Placement
    from novacron.core.config import Settings
    from novacron.core.database import Database
    from novacron.testing.databases import fresh_database

    rounds = 3
    per_round = 100 if args.quick else 300
    settings = Settings(placement_strategy="spread")
    out: dict[str, Any] = {
        "db_claim_dialect": "postgresql" if args.database_url else "sqlite",
        "db_claim_rounds": rounds,
        "db_claim_placements_per_round": per_round,
    }
    consistent = True
    for count, key in ((1_000, "1k"), (10_000, "10k")):
        with (
            tempfile.TemporaryDirectory() as tmp,
            fresh_database(
                "postgresql" if args.database_url else "sqlite", Path(tmp), args.database_url
            ) as url,
        ):
            db = Database(url or f"sqlite:///{tmp}/b.db")
            try:
                t0 = time.perf_counter()
                db.upgrade()
                with db.session() as s:
                    s.add(
                        Agent(
                            id="agent-bench", name="bench", url="http://127.0.0.1:1", api_secret="x"
                        )
                    )
                    s.flush()
                    s.execute(insert(Host), _host_rows(count, "agent-bench"))
                log(f"db_claim {count} hosts: schema and rows in {time.perf_counter() - t0:.1f}s")
                placement = Placement(settings)
                # The first placement loads the host table (every REFRESH_S after that, too).
                warm = _claim_round(db, placement, synthetic_requests(1, seed=7), "warm")
                out[f"db_claim_first_placement_ms_{key}_hosts"] = round(warm.place_s * 1000, 1)
                rates, total_rates = [], []
                failed = 0
                for rnd in range(rounds):
                    requests = synthetic_requests(per_round, seed=2000 * count + rnd)
                    r = _claim_round(db, placement, requests, f"r{rnd}")
                    rates.append(r.placed / r.place_s)
                    total_rates.append(r.placed / r.total_s)
                    failed += r.no_capacity
                ok, detail = _claims_consistent(db)
            finally:
                db.dispose()
        consistent = consistent and ok and failed == 0
        out[f"placements_per_s_{key}_hosts_db_claim"] = round(statistics.median(rates), 1)
        out[f"create_and_place_per_s_{key}_hosts_db_claim"] = round(
            statistics.median(total_rates), 1
        )
        out[f"db_claim_no_capacity_{key}_hosts"] = failed
        log(
            f"db_claim {count} hosts: placements/s {[round(x) for x in rates]}, "
            f"with VM insert {[round(x) for x in total_rates]}, first placement "
            f"{out[f'db_claim_first_placement_ms_{key}_hosts']} ms, consistent: {ok} {detail}"
        )
    out["db_claim_consistent"] = consistent
    return out


# ============================================================== 3. trace replay


@dataclass(frozen=True)
class Pod:
    """One trace pod as a VM request: milli-vCPU, MiB, GPU milli-units."""

    name: str
    demand: tuple[int, int, int]
    start: int
    end: int


def load_trace(
    dataset_dir: Path, trace: str
) -> tuple[tuple[int, int, int], list[Pod], Counter[str]]:
    """The most common node shape (milli-vCPU, MiB, GPU milli-units) and the usable pods.

    Skipped pods are counted by reason: no creation/deletion time, a lifetime
    of zero or less, or larger than the host shape.
    """
    with open(dataset_dir / NODE_LIST, newline="") as f:
        shapes = Counter(
            (int(row["cpu_milli"]), int(row["memory_mib"]), int(row["gpu"]))
            for row in csv.DictReader(f)
        )
    (cpu, memory, gpus), _ = shapes.most_common(1)[0]
    shape = (cpu, memory, gpus * 1000)
    pods: list[Pod] = []
    skipped: Counter[str] = Counter()
    with open(dataset_dir / trace, newline="") as f:
        for row in csv.DictReader(f):
            created, deleted = row.get("creation_time") or "", row.get("deletion_time") or ""
            if not created.strip() or not deleted.strip():
                skipped["no_times"] += 1
                continue
            start, end = int(float(created)), int(float(deleted))
            if end <= start:
                skipped["zero_duration"] += 1
                continue
            demand = (
                int(row["cpu_milli"]),
                int(row["memory_mib"]),
                int(row["num_gpu"]) * int(row["gpu_milli"]),
            )
            if any(demand[r] > shape[r] for r in range(3)):
                skipped["larger_than_host"] += 1
                continue
            pods.append(Pod(row["name"], demand, start, end))
    return shape, pods, skipped


def trace_events(pods: list[Pod]) -> list[tuple[int, int, int]]:
    """(time, kind, pod index) in replay order: departures (0) before arrivals (1) at a tie."""
    events = [(p.start, 1, i) for i, p in enumerate(pods)]
    events += [(p.end, 0, i) for i, p in enumerate(pods)]
    events.sort()
    return events


def lower_bound(pods: list[Pod], shape: tuple[int, int, int]) -> int:
    """max over event times of max over resources of ceil(total live demand / host capacity)."""
    total = [0, 0, 0]
    best = 0
    events = trace_events(pods)
    for k, (t, kind, i) in enumerate(events):
        sign = 1 if kind else -1
        for r in range(3):
            total[r] += sign * pods[i].demand[r]
        if k + 1 == len(events) or events[k + 1][0] != t:  # all events at t applied
            need = max(-(-total[r] // shape[r]) for r in range(3) if shape[r] > 0)
            best = max(best, need)
    return best


def peak_concurrency(pods: list[Pod]) -> int:
    live = peak = 0
    for _, kind, _ in trace_events(pods):
        live += 1 if kind else -1
        peak = max(peak, live)
    return peak


# A placer gets the pod's demand and returns a host index, or raises NoCapacity;
# the replay tells it about claims and releases.
@dataclass
class ReplayResult:
    peak_hosts: int
    rejected: int
    seconds: float


def replay(
    pods: list[Pod],
    n_hosts: int,
    place: Callable[[int], int],
    claim: Callable[[int, int], None],
    release: Callable[[int, int], None],
) -> ReplayResult:
    """Replay the trace; a host is in use while it holds at least one pod."""
    where: dict[int, int] = {}
    count = [0] * n_hosts
    in_use = peak = rejected = 0
    start = time.perf_counter()
    for _, kind, i in trace_events(pods):
        if kind == 0:
            h = where.pop(i, -1)
            if h < 0:
                continue  # was rejected
            release(h, i)
            count[h] -= 1
            if count[h] == 0:
                in_use -= 1
            continue
        try:
            h = place(i)
        except NoCapacity:
            rejected += 1
            continue
        claim(h, i)
        where[i] = h
        if count[h] == 0:
            in_use += 1
            peak = max(peak, in_use)
        count[h] += 1
    return ReplayResult(peak, rejected, time.perf_counter() - start)


TRACE_WEIGHTS = Weights(strategy="pack", cpu=1.0, ram=1.0, disk=1.0)


def replay_host_table(
    pods: list[Pod], shape: tuple[int, int, int], n_hosts: int, weights: Weights
) -> ReplayResult:
    table = HostTable(
        HostView(
            id=f"node-{h:05d}",
            name=f"node-{h:05d}",
            state="up",
            vcpus=shape[0],
            memory_mib=shape[1],
            disk_gib=shape[2],
            cpu_allocation_ratio=1.0,
            ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0,
            alloc_vcpus=0,
            alloc_memory_mib=0,
            alloc_disk_gib=0,
        )
        for h in range(n_hosts)
    )
    index = {f"node-{h:05d}": h for h in range(n_hosts)}
    ids = list(index)
    requests = [PlacementRequest(*p.demand) for p in pods]

    def place(i: int) -> int:
        return index[table.select(requests[i], weights)]

    def claim(h: int, i: int) -> None:
        table.claim(ids[h], *pods[i].demand)

    def release(h: int, i: int) -> None:
        table.release(ids[h], *pods[i].demand)

    return replay(pods, n_hosts, place, claim, release)


def replay_first_fit(pods: list[Pod], shape: tuple[int, int, int], n_hosts: int) -> ReplayResult:
    """Baseline: the lowest-index host with room, plain Python."""
    free = [list(shape) for _ in range(n_hosts)]

    def place(i: int) -> int:
        d0, d1, d2 = pods[i].demand
        for h, f in enumerate(free):
            if f[0] >= d0 and f[1] >= d1 and f[2] >= d2:
                return h
        raise NoCapacity("no host fits")

    def claim(h: int, i: int) -> None:
        for r in range(3):
            free[h][r] -= pods[i].demand[r]

    def release(h: int, i: int) -> None:
        for r in range(3):
            free[h][r] += pods[i].demand[r]

    return replay(pods, n_hosts, place, claim, release)


TRACE_KEYS = (
    "trace_name",
    "trace_requests",
    "trace_peak_hosts",
    "trace_lower_bound",
    "trace_hosts_over_lower_bound",
    "first_fit_peak_hosts",
    "first_fit_over_lower_bound",
)
STRETCH = 200


def evaluate(pods: list[Pod], shape: tuple[int, int, int]) -> dict[str, Any]:
    """Peak hosts of HostTable (pack) and of first-fit on one replay, against the lower bound."""
    # Every pod fits an empty host alone, so this many hosts never rejects.
    n_hosts = peak_concurrency(pods)
    bound = lower_bound(pods, shape)
    result = replay_host_table(pods, shape, n_hosts, TRACE_WEIGHTS)
    baseline = replay_first_fit(pods, shape, n_hosts)
    return {
        "hosts_available": n_hosts,
        "lower_bound": bound,
        "peak_hosts": result.peak_hosts,
        "over_lower_bound": round(result.peak_hosts / bound, 4),
        "rejected": result.rejected,
        "placements_per_s": round(len(pods) / result.seconds, 1),
        "first_fit_peak_hosts": baseline.peak_hosts,
        "first_fit_over_lower_bound": round(baseline.peak_hosts / bound, 4),
        "first_fit_rejected": baseline.rejected,
    }


def bench_trace(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(TRACE_KEYS)
    dataset_dir: Path = args.dataset_dir
    if not (dataset_dir / NODE_LIST).is_file() or not (dataset_dir / args.trace).is_file():
        reason = f"dataset not found: {dataset_dir / NODE_LIST} or {dataset_dir / args.trace}"
        log(f"trace replay skipped: {reason}")
        out["trace_skipped"] = reason
        return out
    shape, pods, skipped = load_trace(dataset_dir, args.trace)
    out["trace_name"] = args.trace.removesuffix(".csv")
    out["trace_requests"] = len(pods)
    out["trace_skipped_pods"] = dict(skipped)
    out["trace_host_shape"] = {
        "milli_vcpus": shape[0],
        "memory_mib": shape[1],
        "gpu_milli": shape[2],
    }
    if not pods:
        out["trace_skipped"] = "no pod in the trace has both a creation and a deletion time"
        log(f"trace replay skipped: {out['trace_skipped']}")
        return out

    # The trace as recorded: arrivals at creation_time, departures at deletion_time.
    main = evaluate(pods, shape)
    out.update(
        trace_peak_hosts=main["peak_hosts"],
        trace_lower_bound=main["lower_bound"],
        trace_hosts_over_lower_bound=main["over_lower_bound"],
        first_fit_peak_hosts=main["first_fit_peak_hosts"],
        first_fit_over_lower_bound=main["first_fit_over_lower_bound"],
        trace_rejected=main["rejected"],
        trace_hosts_available=main["hosts_available"],
        trace_placements_per_s=main["placements_per_s"],
    )
    log(f"trace {out['trace_name']}: {len(pods)} pods, {main}")
    # Harder variants of the same requests (most pods live minutes, so the
    # recorded trace never has more than a few dozen alive at once):
    # fill: nothing departs, every pod stays (the paper's setting);
    # stretched: every lifetime multiplied by STRETCH, departures kept.
    variants = {
        "fill": [Pod(p.name, p.demand, p.start, 2**62) for p in pods],
        "stretched": [
            Pod(p.name, p.demand, p.start, p.start + STRETCH * (p.end - p.start)) for p in pods
        ],
    }
    for name, variant in variants.items():
        result = evaluate(variant, shape)
        for key in (
            "lower_bound",
            "peak_hosts",
            "over_lower_bound",
            "first_fit_peak_hosts",
            "first_fit_over_lower_bound",
            "rejected",
        ):
            out[f"{name}_{key}"] = result[key]
        log(f"trace {out['trace_name']} {name}: {result}")
    return out


# ============================================================== 4. end to end through the API


def bench_api(args: argparse.Namespace) -> dict[str, Any]:
    """VM creates through the REST API to a real server process and one sim agent process.

    Measures from the first POST until every operation has ended: request
    validation, the persisted operation, a worker claiming it, placement with the
    atomic database claim, the agent's HTTP create (sim delay 0) and the state
    change. SQLite by default; ``--database-url`` for PostgreSQL.
    """
    out: dict[str, Any] = {}
    count = 200 if args.quick else 500
    for hosts in (1_000, 10_000):
        succeeded, accepted_s, elapsed_s = _api_round(hosts, count, args.database_url)
        label = f"{hosts // 1000}k"
        out[f"api_placements_per_s_{label}_hosts"] = round(succeeded / elapsed_s, 1)
        out[f"api_requests_accepted_per_s_{label}_hosts"] = round(count / accepted_s, 1)
        out[f"api_placements_succeeded_{label}_hosts"] = succeeded
        log(
            f"api {hosts} hosts: {succeeded}/{count} placed in {elapsed_s:.2f}s "
            f"({succeeded / elapsed_s:.1f}/s)"
        )
    return out


API_FLAVORS = [(1, 512), (2, 2048), (4, 4096), (8, 16384)]


def _api_round(hosts: int, count: int, database_url: str | None) -> tuple[int, float, float]:
    """(VMs placed, seconds to accept every request, seconds until every operation ended)."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from novacron.testing.cluster import Cluster, wait_until

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cluster = Cluster.start(
            Path(tmp),
            database_url,
            sim_hosts=hosts,
            heartbeat_interval_s=5.0,
            heartbeat_timeout_s=120.0,
            executor_threads=8,
            operation_lease_s=15.0,
            separate_process=True,
            agent_args=["--sim-vcpus", "64", "--sim-delay", "create=0"],
        )
        log(f"api: cluster with {hosts} sim hosts up in {time.perf_counter() - started:.1f}s")
        client = httpx.Client(
            base_url=f"{cluster.url}/api/v1",
            headers={"Authorization": f"Bearer {cluster.token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=8),
        )

        def create(i: int) -> None:
            vcpus, mem = API_FLAVORS[i % len(API_FLAVORS)]
            body = {"name": f"b-{i}", "vcpus": vcpus, "memory_mib": mem, "disk_gib": 1}
            client.post("/vms", json=body).raise_for_status()

        def unfinished() -> int:
            return sum(
                client.get("/operations", params={"state": st, "limit": 1}).json()["total"]
                for st in ("pending", "running")
            )

        try:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(count)))
            accepted_s = time.perf_counter() - t0
            wait_until(lambda: unfinished() == 0, 600, 0.2, "benchmark operations")
            elapsed_s = time.perf_counter() - t0
            ok = client.get("/operations", params={"state": "succeeded", "limit": 1})
            succeeded = int(ok.json()["total"])
        finally:
            client.close()
            cluster.stop()
    return succeeded, accepted_s, elapsed_s


# ============================================================== main

# Each section takes the parsed arguments and returns keys for the final JSON.
SECTIONS: list[tuple[str, Callable[[argparse.Namespace], dict[str, Any]]]] = [
    ("throughput", bench_throughput),
    ("db_claim", bench_db_claim),
    ("trace", bench_trace),
    ("api", bench_api),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a minute or so)")
    parser.add_argument("--dataset-dir", type=Path, default=DEFAULT_DATASET_DIR)
    parser.add_argument("--trace", default=DEFAULT_TRACE, help="pod list file in the dataset")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server URL for the db_claim and api sections, which create and drop "
        "their own databases there (default: SQLite in a temp dir)",
    )
    parser.add_argument("--skip-api", action="store_true", help="in-process sections only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {"benchmark": "scheduler", "quick": args.quick}
    for name, section in SECTIONS:
        if name == "api" and args.skip_api:
            continue
        start = time.perf_counter()
        results.update(section(args))
        results[f"{name}_seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
