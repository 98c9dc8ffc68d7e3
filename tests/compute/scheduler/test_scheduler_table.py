"""HostTable bookkeeping, caches, and randomised checks against a plain-Python reference."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from novacron.compute.scheduler import (
    REASONS,
    HostTable,
    HostView,
    NoCapacity,
    PlacementRequest,
    Weights,
    effective_capacity,
)

MakeHost = Callable[..., HostView]
REQ = PlacementRequest(vcpus=2, memory_mib=4096, disk_gib=20)


def test_len_contains_get(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b")])
    assert len(table) == 2
    assert "a" in table
    assert "zz" not in table
    assert table.get("b") == host("b")
    with pytest.raises(KeyError):
        table.get("zz")


def test_claim_and_release(host: MakeHost) -> None:
    table = HostTable([host("a", alloc_vcpus=1)])
    table.claim("a", 2, 4096, 20)
    table.claim("a", 3, 1024, 0)
    view = table.get("a")
    assert (view.alloc_vcpus, view.alloc_memory_mib, view.alloc_disk_gib) == (6, 5120, 20)
    table.release("a", 2, 4096, 5)
    view = table.get("a")
    assert (view.alloc_vcpus, view.alloc_memory_mib, view.alloc_disk_gib) == (4, 1024, 15)
    table.release("a", 100, 100_000, 100)
    view = table.get("a")
    assert (view.alloc_vcpus, view.alloc_memory_mib, view.alloc_disk_gib) == (0, 0, 0)
    with pytest.raises(KeyError):
        table.claim("zz", 1, 1, 1)
    with pytest.raises(ValueError):
        table.claim("a", -1, 0, 0)
    with pytest.raises(ValueError):
        table.release("a", 0, -1, 0)


def test_claims_change_the_filters(host: MakeHost) -> None:
    table = HostTable([host("a", vcpus=4)])
    table.claim("a", 3, 0, 0)
    with pytest.raises(NoCapacity, match="1 short of vcpus"):
        table.select(REQ)
    table.release("a", 1, 0, 0)
    assert table.select(REQ) == "a"


def test_upsert_replaces_by_id(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", alloc_vcpus=4)])
    table.claim("b", 4, 0, 0)
    table.upsert(host("b", name="renamed", vcpus=64, alloc_vcpus=1, labels={"zone": "z"}))
    assert len(table) == 2
    view = table.get("b")
    assert (view.name, view.vcpus, view.alloc_vcpus) == ("renamed", 64, 1)
    assert view.labels == {"zone": "z"}
    # Position kept: ties still go to "a" first.
    assert table.rank(PlacementRequest(1, 0, 0), Weights(cpu=0, ram=0)) == ["a", "b"]
    # The old name is gone, the new one works.
    with pytest.raises(NoCapacity, match="no host named node-b"):
        table.select(PlacementRequest(1, 0, 0, force_host="node-b"))
    assert table.select(PlacementRequest(1, 0, 0, force_host="renamed")) == "b"
    # Capacity from the new view: 64 vCPUs.
    assert table.select(PlacementRequest(60, 0, 0)) == "b"


def test_upsert_updates_cached_label_and_trait_masks(host: MakeHost) -> None:
    table = HostTable([host("a", labels={"zone": "1"}), host("b", traits=frozenset({"kvm"}))])
    in_zone = PlacementRequest(1, 0, 0, labels={"zone": "1"})
    kvm = PlacementRequest(1, 0, 0, traits=frozenset({"kvm"}))
    assert table.rank(in_zone) == ["a"]
    assert table.rank(kvm) == ["b"]
    table.upsert(host("a", labels={"zone": "2"}, traits=frozenset({"kvm"})))
    table.upsert(host("c", labels={"zone": "1"}))
    assert table.rank(in_zone) == ["c"]
    assert table.rank(kvm) == ["a", "b"]


def test_remove(host: MakeHost) -> None:
    table = HostTable([host(f"h{i}", labels={"zone": str(i % 2)}) for i in range(5)])
    zone0 = PlacementRequest(1, 0, 0, labels={"zone": "0"})
    assert table.rank(zone0) == ["h0", "h2", "h4"]
    table.remove("h2")
    assert len(table) == 4
    assert "h2" not in table
    assert table.rank(zone0) == ["h0", "h4"]
    assert [v.id for v in table] == ["h0", "h1", "h3", "h4"]
    table.claim("h4", 1, 0, 0)
    assert table.get("h4").alloc_vcpus == 1
    assert table.get("h3").alloc_vcpus == 0
    with pytest.raises(KeyError):
        table.remove("h2")
    table.upsert(host("h2"))
    assert [v.id for v in table] == ["h0", "h1", "h3", "h4", "h2"]


def test_grows_past_initial_size(host: MakeHost) -> None:
    table = HostTable()
    zone = PlacementRequest(1, 0, 0, labels={"zone": "x"})
    table.upsert(host("first", labels={"zone": "x"}))
    assert table.rank(zone) == ["first"]  # builds the cached mask at the initial size
    for i in range(100):
        table.upsert(host(f"h{i}", alloc_vcpus=i % 16, labels={"zone": "x" if i == 99 else "y"}))
    assert len(table) == 101
    assert table.get("h57").alloc_vcpus == 57 % 16
    assert table.rank(zone, limit=10) == ["first", "h99"]


def test_effective_capacity() -> None:
    assert effective_capacity(4, 4.0) == 16
    assert effective_capacity(3, 1.1) == 3
    assert effective_capacity(10, 0.3) == 3
    assert effective_capacity(100, 0.57) == 57  # 56.99999999999999 in floats
    assert effective_capacity(1000, 1.5) == 1500


# ---------------------------------------------------------------- randomised checks


def random_host(rng: random.Random, i: int) -> HostView:
    vcpus = rng.choice([4, 8, 16, 32])
    memory = rng.choice([8192, 16384, 65536])
    disk = rng.choice([0, 100, 500])
    return HostView(
        id=f"h{i}",
        name=f"n{i}",
        state=rng.choice(["up", "up", "up", "down", "maintenance"]),
        vcpus=vcpus,
        memory_mib=memory,
        disk_gib=disk,
        cpu_allocation_ratio=rng.choice([1.0, 2.0, 4.0]),
        ram_allocation_ratio=rng.choice([1.0, 1.5]),
        disk_allocation_ratio=1.0,
        alloc_vcpus=rng.randrange(0, vcpus + 1),
        alloc_memory_mib=rng.randrange(0, memory + 1, 1024),
        alloc_disk_gib=rng.randrange(0, disk + 1, 50),
        labels={"zone": rng.choice("ab"), "rack": rng.choice("123")},
        traits=frozenset(t for t in ("kvm", "gpu") if rng.random() < 0.6),
    )


def random_request(rng: random.Random, n_hosts: int) -> PlacementRequest:
    policy = rng.choice([None, None, "affinity", "anti-affinity"])
    return PlacementRequest(
        vcpus=rng.choice([1, 2, 4, 8]),
        memory_mib=rng.choice([512, 2048, 8192]),
        disk_gib=rng.choice([0, 10, 100]),
        labels=rng.choice([{}, {}, {"zone": "a"}, {"zone": "b", "rack": "2"}]),
        traits=rng.choice([frozenset(), frozenset({"kvm"}), frozenset({"kvm", "gpu"})]),
        group_policy=policy,
        group_strict=rng.random() < 0.5,
        group_hosts={f"h{rng.randrange(n_hosts)}": rng.randrange(0, 3) for _ in range(3)}
        if policy
        else {},
        exclude=frozenset(f"h{rng.randrange(n_hosts)}" for _ in range(rng.randrange(3))),
        force_host=rng.choice([None] * 8 + ["h3", "n5"]),
    )


def reference(
    hosts: list[HostView], req: PlacementRequest, weights: Weights
) -> tuple[dict[str, int], list[str]]:
    """Rejection counts and full ranking, written as the obvious loop over hosts."""
    rejected = dict.fromkeys(REASONS, 0)
    scored: list[tuple[float, int, str]] = []
    members = {h: c for h, c in req.group_hosts.items() if c > 0}
    known_members = {h: c for h, c in members.items() if any(x.id == h for x in hosts)}
    for i, h in enumerate(hosts):
        caps = (
            effective_capacity(h.vcpus, h.cpu_allocation_ratio),
            effective_capacity(h.memory_mib, h.ram_allocation_ratio),
            effective_capacity(h.disk_gib, h.disk_allocation_ratio),
        )
        allocs = (h.alloc_vcpus, h.alloc_memory_mib, h.alloc_disk_gib)
        need = (req.vcpus, req.memory_mib, req.disk_gib)
        reason = None
        if h.id in req.exclude or req.force_host not in (None, h.id, h.name):
            reason = "excluded"
        elif h.state != "up":
            reason = "in maintenance" if h.state == "maintenance" else "down"
        elif not req.traits <= h.traits:
            reason = "missing traits"
        elif any(h.labels.get(k) != v for k, v in req.labels.items()):
            reason = "labels do not match"
        else:
            for r, name in enumerate(("vcpus", "memory", "disk")):
                if allocs[r] + need[r] > caps[r]:
                    reason = f"short of {name}"
                    break
        if reason is None and req.group_strict:
            if req.group_policy == "anti-affinity" and h.id in members:
                reason = "anti-affinity: group member already there"
            if req.group_policy == "affinity" and known_members and h.id not in members:
                reason = "affinity: not the group's host"
        if reason is not None:
            rejected[reason] += 1
            continue
        u = [(allocs[r] + need[r]) / caps[r] if caps[r] else 0.0 for r in range(3)]
        w = (weights.cpu, weights.ram, weights.disk)
        score = sum(w[r] * u[r] for r in range(3))
        if weights.strategy == "spread":
            score = -score
        if req.group_policy and not req.group_strict and known_members:
            bonus = weights.group * members.get(h.id, 0) / (1 + max(known_members.values()))
            score += bonus if req.group_policy == "affinity" else -bonus
        scored.append((-score, i, h.id))
    scored.sort()
    return rejected, [host_id for _, _, host_id in scored]


def test_matches_reference_on_random_fleets() -> None:
    rng = random.Random(20240611)
    for _ in range(30):
        hosts = [random_host(rng, i) for i in range(rng.randrange(1, 40))]
        table = HostTable(hosts)
        for _ in range(20):
            req = random_request(rng, len(hosts))
            weights = Weights(
                strategy=rng.choice(["pack", "spread"]),
                cpu=rng.choice([0.0, 1.0, 2.0]),
                ram=rng.choice([0.0, 1.0]),
                disk=rng.choice([0.0, 0.5]),
            )
            rejected, ranking = reference(hosts, req, weights)
            if req.force_host is not None and not any(
                req.force_host in (h.id, h.name) for h in hosts
            ):
                with pytest.raises(NoCapacity, match=f"^no host named {req.force_host}$"):
                    table.rank(req)
                continue
            report = table.explain(req)
            assert report.rejected == rejected
            assert report.passed == len(ranking)
            assert report.total == len(hosts)
            if ranking:
                assert table.rank(req, weights, limit=len(hosts)) == ranking
                assert table.rank(req, weights, limit=3) == ranking[:3]
                assert table.select(req, weights) == ranking[0]
            else:
                with pytest.raises(NoCapacity) as exc:
                    table.rank(req, weights)
                assert (": " + report.message()) in exc.value.detail


@pytest.mark.parametrize("strategy", ["pack", "spread"])
def test_sequential_placements_never_overcommit(strategy: str) -> None:
    rng = random.Random(7)
    hosts = [
        HostView(
            id=f"h{i}",
            name=f"n{i}",
            state="up",
            vcpus=rng.choice([8, 16, 32]),
            memory_mib=rng.choice([16384, 32768, 65536]),
            disk_gib=rng.choice([200, 500]),
            cpu_allocation_ratio=rng.choice([1.0, 2.0]),
            ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0,
            alloc_vcpus=0,
            alloc_memory_mib=0,
            alloc_disk_gib=0,
        )
        for i in range(50)
    ]
    table = HostTable(hosts)
    weights = Weights(strategy=strategy)
    live: list[tuple[str, int, int, int]] = []
    placed = refused = 0
    for _ in range(3000):
        if live and rng.random() < 0.3:
            host_id, v, m, d = live.pop(rng.randrange(len(live)))
            table.release(host_id, v, m, d)
            continue
        v, m, d = rng.randint(1, 8), rng.randint(1, 16) * 1024, rng.randint(0, 100)
        try:
            host_id = table.select(PlacementRequest(v, m, d), weights)
        except NoCapacity:
            refused += 1
            continue
        table.claim(host_id, v, m, d)
        live.append((host_id, v, m, d))
        placed += 1
    assert placed > 1000
    assert refused > 0  # the fleet did fill up, so the capacity filter was exercised
    used: dict[str, list[int]] = {h.id: [0, 0, 0] for h in hosts}
    for host_id, v, m, d in live:
        used[host_id][0] += v
        used[host_id][1] += m
        used[host_id][2] += d
    for h in hosts:
        view = table.get(h.id)
        assert [view.alloc_vcpus, view.alloc_memory_mib, view.alloc_disk_gib] == used[h.id]
        assert view.alloc_vcpus <= h.vcpus * h.cpu_allocation_ratio
        assert view.alloc_memory_mib <= h.memory_mib
        assert view.alloc_disk_gib <= h.disk_gib
