"""Pack vs spread, per-resource weights, soft group policies, tie-breaking and limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from novacron.compute.scheduler import HostTable, HostView, NoCapacity, PlacementRequest, Weights
from novacron.core.errors import Invalid

MakeHost = Callable[..., HostView]
PACK = Weights(strategy="pack")
SPREAD = Weights(strategy="spread")
REQ = PlacementRequest(vcpus=2, memory_mib=4096, disk_gib=20)


@pytest.fixture
def fleet(host: MakeHost) -> HostTable:
    return HostTable(
        [
            host("empty"),
            host("half", alloc_vcpus=8, alloc_memory_mib=32768),
            host("busy", alloc_vcpus=12, alloc_memory_mib=49152),
            host("quarter", alloc_vcpus=4, alloc_memory_mib=16384),
        ]
    )


def test_pack_and_spread_choose_different_hosts(fleet: HostTable) -> None:
    assert fleet.select(REQ, PACK) == "busy"
    assert fleet.select(REQ, SPREAD) == "empty"
    assert fleet.rank(REQ, PACK) == ["busy", "half", "quarter", "empty"]
    assert fleet.rank(REQ, SPREAD) == ["empty", "quarter", "half", "busy"]


def test_default_weights_spread(fleet: HostTable) -> None:
    assert fleet.select(REQ) == "empty"


def test_pack_skips_host_that_does_not_fit(fleet: HostTable) -> None:
    big = PlacementRequest(vcpus=6, memory_mib=4096, disk_gib=20)
    assert fleet.select(big, PACK) == "half"


def test_utilisation_is_relative_to_host_size(host: MakeHost) -> None:
    # Same absolute allocation, but 8 vCPUs fill the small host more.
    table = HostTable(
        [host("big", vcpus=64, alloc_vcpus=8), host("small", vcpus=16, alloc_vcpus=8)]
    )
    cpu_only = Weights(strategy="pack", ram=0.0, cpu=1.0)
    assert table.select(REQ, cpu_only) == "small"
    assert table.select(REQ, Weights(strategy="spread", ram=0.0)) == "big"


def test_ratio_changes_utilisation(host: MakeHost) -> None:
    # 8 of 16 vCPUs used; with a 4x ratio that host is only 1/8 full.
    table = HostTable(
        [host("a", alloc_vcpus=6), host("b", alloc_vcpus=8, cpu_allocation_ratio=4.0)]
    )
    cpu_only = Weights(strategy="pack", ram=0.0)
    assert table.select(REQ, cpu_only) == "a"


def test_resource_weights_decide(host: MakeHost) -> None:
    table = HostTable(
        [
            host("cpu-heavy", alloc_vcpus=14),
            host("ram-heavy", alloc_memory_mib=61440),
            host("disk-heavy", alloc_disk_gib=900),
        ]
    )
    assert table.select(REQ, Weights(strategy="pack", cpu=1, ram=0)) == "cpu-heavy"
    assert table.select(REQ, Weights(strategy="pack", cpu=0, ram=1)) == "ram-heavy"
    assert table.select(REQ, Weights(strategy="pack", cpu=0, ram=0, disk=1)) == "disk-heavy"
    assert table.select(REQ, Weights(strategy="pack", cpu=1, ram=3)) == "ram-heavy"


def test_ties_go_to_lowest_index(host: MakeHost) -> None:
    table = HostTable([host(f"h{i}") for i in range(20)])
    assert table.select(REQ, PACK) == "h0"
    assert table.select(REQ, SPREAD) == "h0"
    assert table.rank(REQ, SPREAD, limit=3) == ["h0", "h1", "h2"]
    table.claim("h0", 1, 0, 0)
    assert table.rank(REQ, SPREAD, limit=3) == ["h1", "h2", "h3"]
    assert table.rank(REQ, PACK, limit=3) == ["h0", "h1", "h2"]


def test_rank_limit_with_partial_ties(host: MakeHost) -> None:
    hosts = [host(f"h{i}") for i in range(10)]
    hosts[7] = host("h7", alloc_vcpus=4)
    hosts[3] = host("h3", alloc_vcpus=2)
    table = HostTable(hosts)
    assert table.rank(REQ, PACK, limit=4) == ["h7", "h3", "h0", "h1"]
    assert table.rank(REQ, PACK, limit=2) == ["h7", "h3"]
    assert table.rank(REQ, PACK, limit=1) == ["h7"]
    assert table.rank(REQ, SPREAD, limit=9) == [
        "h0",
        "h1",
        "h2",
        "h4",
        "h5",
        "h6",
        "h8",
        "h9",
        "h3",
    ]
    assert len(table.rank(REQ, PACK, limit=100)) == 10
    with pytest.raises(ValueError):
        table.rank(REQ, limit=0)


def test_soft_anti_affinity_prefers_hosts_without_members(host: MakeHost) -> None:
    table = HostTable([host("a", alloc_vcpus=10), host("b"), host("c", alloc_vcpus=5)])
    req = PlacementRequest(
        2, 4096, 20, group_policy="anti-affinity", group_strict=False, group_hosts={"a": 1}
    )
    assert table.select(req, PACK) == "c"
    # Soft: when only the member's host fits, it is still used.
    table.upsert(host("b", state="down"))
    table.upsert(host("c", state="down"))
    assert table.select(req, PACK) == "a"


def test_soft_anti_affinity_weighs_member_counts(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b")])
    req = PlacementRequest(
        2, 4096, 20, group_policy="anti-affinity", group_strict=False, group_hosts={"a": 1, "b": 3}
    )
    assert table.select(req, SPREAD) == "a"
    assert table.select(req, Weights(strategy="spread", group=0.0)) == "a"
    req2 = PlacementRequest(
        2, 4096, 20, group_policy="anti-affinity", group_strict=False, group_hosts={"a": 3, "b": 1}
    )
    assert table.select(req2, SPREAD) == "b"


def test_soft_group_bonus_is_normalised_by_max_members(host: MakeHost) -> None:
    # bonus = group * members / (1 + max members): here 1 * 1/4 on "a", 3/4 on "b".
    table = HostTable([host("a", alloc_vcpus=9), host("b"), host("c", alloc_vcpus=3)])
    req = PlacementRequest(
        2, 4096, 20, group_policy="anti-affinity", group_strict=False, group_hosts={"a": 1, "b": 3}
    )
    cpu_pack = Weights(strategy="pack", ram=0.0, group=1.0)
    # a: 11/16 - 1/4 = 0.4375; c: 5/16 = 0.3125; b: 2/16 - 3/4 < 0
    assert table.rank(req, cpu_pack) == ["a", "c", "b"]
    affinity = PlacementRequest(
        2, 4096, 20, group_policy="affinity", group_strict=False, group_hosts={"a": 1, "b": 3}
    )
    # a: 11/16 + 1/4 = 0.9375; b: 2/16 + 3/4 = 0.875; c: 0.3125
    assert table.rank(affinity, cpu_pack) == ["a", "b", "c"]


def test_soft_affinity_prefers_member_hosts(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", alloc_vcpus=10)])
    req = PlacementRequest(
        2, 4096, 20, group_policy="affinity", group_strict=False, group_hosts={"b": 1}
    )
    assert table.select(req, SPREAD) == "b"
    assert table.select(req, Weights(strategy="spread", group=0.0)) == "a"
    # Soft: the member's host being full is not an error.
    table.claim("b", 6, 0, 0)
    assert table.select(req, SPREAD) == "a"


def test_hard_vs_soft_anti_affinity(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", state="down")])
    hard = PlacementRequest(2, 4096, 20, group_policy="anti-affinity", group_hosts={"a": 1})
    soft = PlacementRequest(
        2, 4096, 20, group_policy="anti-affinity", group_strict=False, group_hosts={"a": 1}
    )
    assert table.select(soft) == "a"
    with pytest.raises(
        NoCapacity, match="2 hosts: 1 down, 1 anti-affinity: group member already there"
    ):
        table.select(hard)


def test_spread_on_host_without_a_resource_is_neutral(host: MakeHost) -> None:
    # Utilisation of a resource a host lacks counts as 0 (no division by zero),
    # the same as an unused one: the hosts below tie and table order decides.
    table = HostTable([host("disk", alloc_vcpus=4), host("nodisk", disk_gib=0, alloc_vcpus=4)])
    diskless = PlacementRequest(2, 4096, 0)
    for strategy in ("pack", "spread"):
        assert table.rank(diskless, Weights(strategy=strategy, disk=1.0)) == ["disk", "nodisk"]
    table.claim("disk", 0, 0, 500)
    assert table.rank(diskless, Weights(strategy="pack", disk=1.0)) == ["disk", "nodisk"]
    assert table.rank(diskless, Weights(strategy="spread", disk=1.0)) == ["nodisk", "disk"]


def test_unknown_strategy() -> None:
    with pytest.raises(Invalid):
        Weights(strategy="random")
