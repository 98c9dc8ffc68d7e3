"""Every filter, its reason string, and the exact NoCapacity message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from novacron.compute.scheduler import (
    REASONS,
    FilterReport,
    HostTable,
    HostView,
    NoCapacity,
    PlacementRequest,
)
from novacron.core.errors import Invalid

MakeHost = Callable[..., HostView]
SMALL = PlacementRequest(vcpus=1, memory_mib=1024, disk_gib=10)


def no_capacity_detail(table: HostTable, request: PlacementRequest) -> str:
    with pytest.raises(NoCapacity) as exc:
        table.rank(request)
    return exc.value.detail


def test_reasons_in_filter_order() -> None:
    assert REASONS == (
        "excluded",
        "down",
        "in maintenance",
        "missing traits",
        "labels do not match",
        "short of vcpus",
        "short of memory",
        "short of disk",
        "anti-affinity: group member already there",
        "affinity: not the group's host",
    )


def test_architecture_example_message(host: MakeHost) -> None:
    hosts = [host(f"m{i}", alloc_memory_mib=65536 - 512) for i in range(9)]
    hosts += [host(f"x{i}", state="maintenance") for i in range(3)]
    table = HostTable(hosts)
    assert no_capacity_detail(table, SMALL) == (
        "no host fits 1 vCPU / 1024 MiB / 10 GiB: 12 hosts: 9 short of memory, 3 in maintenance"
    )
    report = table.explain(SMALL)
    assert report.total == 12
    assert report.passed == 0
    assert report.rejected["short of memory"] == 9
    assert report.rejected["in maintenance"] == 3
    assert list(report.rejected) == list(REASONS)
    assert sum(report.rejected.values()) == 12


def test_state_filter(host: MakeHost) -> None:
    table = HostTable([host("a", state="down"), host("b", state="maintenance"), host("c")])
    assert table.rank(SMALL) == ["c"]
    table.upsert(host("c", state="down"))
    assert no_capacity_detail(table, SMALL).endswith("3 hosts: 2 down, 1 in maintenance")


def test_unknown_state_counts_as_down(host: MakeHost) -> None:
    table = HostTable([host("a", state="rebooting")])
    assert no_capacity_detail(table, SMALL).endswith(": 1 host: 1 down")


def test_traits_filter(host: MakeHost) -> None:
    table = HostTable(
        [
            host("a", traits=frozenset({"kvm"})),
            host("b", traits=frozenset({"kvm", "gpu"})),
            host("c"),
        ]
    )
    req = PlacementRequest(1, 1024, 10, traits=frozenset({"kvm", "gpu"}))
    assert table.rank(req) == ["b"]
    req_none = PlacementRequest(1, 1024, 10, traits=frozenset({"sev"}))
    assert no_capacity_detail(table, req_none).endswith(
        ": 3 hosts: 3 missing traits (required traits: sev)"
    )


def test_labels_filter(host: MakeHost) -> None:
    table = HostTable(
        [
            host("a", labels={"zone": "a", "ssd": "yes"}),
            host("b", labels={"zone": "b", "ssd": "yes"}),
            host("c", labels={"zone": "a"}),
        ]
    )
    req = PlacementRequest(1, 1024, 10, labels={"zone": "a", "ssd": "yes"})
    assert table.rank(req) == ["a"]
    req_none = PlacementRequest(1, 1024, 10, labels={"zone": "c"})
    assert no_capacity_detail(table, req_none).endswith(": 3 hosts: 3 labels do not match")


def test_traits_checked_before_labels(host: MakeHost) -> None:
    table = HostTable([host("a", labels={"zone": "a"}), host("b", traits=frozenset({"kvm"}))])
    req = PlacementRequest(1, 1024, 10, labels={"zone": "a"}, traits=frozenset({"kvm"}))
    assert no_capacity_detail(table, req).endswith(
        ": 2 hosts: 1 missing traits, 1 labels do not match (required traits: kvm)"
    )


def test_capacity_checks_vcpus_then_memory_then_disk(host: MakeHost) -> None:
    table = HostTable(
        [
            host("cpu", alloc_vcpus=16, alloc_memory_mib=65536, alloc_disk_gib=1000),
            host("mem", alloc_memory_mib=65536, alloc_disk_gib=1000),
            host("disk1", alloc_disk_gib=995),
            host("disk2", alloc_disk_gib=991),
            host("ok"),
        ]
    )
    assert table.rank(SMALL) == ["ok"]
    table.remove("ok")
    assert no_capacity_detail(table, SMALL) == (
        "no host fits 1 vCPU / 1024 MiB / 10 GiB: "
        "4 hosts: 2 short of disk, 1 short of vcpus, 1 short of memory"
    )


def test_exact_fit_passes(host: MakeHost) -> None:
    table = HostTable([host("a", alloc_vcpus=15, alloc_memory_mib=64512, alloc_disk_gib=990)])
    assert table.rank(SMALL) == ["a"]


def test_cpu_allocation_ratio(host: MakeHost) -> None:
    table = HostTable([host("a", vcpus=4, cpu_allocation_ratio=4.0)])
    assert table.select(PlacementRequest(16, 1024, 10)) == "a"
    assert no_capacity_detail(table, PlacementRequest(17, 1024, 10)) == (
        "no host fits 17 vCPU / 1024 MiB / 10 GiB: 1 host: 1 short of vcpus"
    )


def test_ram_and_disk_ratios_including_undercommit(host: MakeHost) -> None:
    table = HostTable(
        [
            host(
                "a",
                memory_mib=1000,
                ram_allocation_ratio=1.5,
                disk_gib=100,
                disk_allocation_ratio=0.5,
            )
        ]
    )
    assert table.select(PlacementRequest(1, 1500, 50)) == "a"
    assert no_capacity_detail(table, PlacementRequest(1, 1501, 50)).endswith("1 short of memory")
    assert no_capacity_detail(table, PlacementRequest(1, 1500, 51)).endswith("1 short of disk")


def test_ratio_capacity_is_floored_without_float_noise(host: MakeHost) -> None:
    # 100 * 0.57 == 56.99999999999999 in floats; the capacity is still 57.
    table = HostTable([host("a", vcpus=100, cpu_allocation_ratio=0.57)])
    assert table.select(PlacementRequest(57, 1, 1)) == "a"
    assert no_capacity_detail(table, PlacementRequest(58, 1, 1)).endswith("1 short of vcpus")


def test_ratio_counts_existing_allocations(host: MakeHost) -> None:
    table = HostTable([host("a", vcpus=4, cpu_allocation_ratio=4.0, alloc_vcpus=10)])
    assert table.select(PlacementRequest(6, 1024, 10)) == "a"
    with pytest.raises(NoCapacity):
        table.select(PlacementRequest(7, 1024, 10))


def test_exclude(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b"), host("c")])
    req = PlacementRequest(1, 1024, 10, exclude=frozenset({"a", "c", "unknown"}))
    assert table.rank(req) == ["b"]
    req_all = PlacementRequest(1, 1024, 10, exclude=frozenset({"a", "b", "c"}))
    assert no_capacity_detail(table, req_all).endswith(": 3 hosts: 3 excluded")


def test_force_host_by_id_and_name(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", name="big-one"), host("c")])
    assert table.rank(PlacementRequest(1, 1024, 10, force_host="c")) == ["c"]
    assert table.rank(PlacementRequest(1, 1024, 10, force_host="big-one")) == ["b"]


def test_force_host_still_filtered(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", state="maintenance"), host("c")])
    req = PlacementRequest(1, 1024, 10, force_host="b")
    assert no_capacity_detail(table, req).endswith(": 3 hosts: 2 excluded, 1 in maintenance")


def test_force_host_and_exclude_together(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b")])
    req = PlacementRequest(1, 1024, 10, force_host="a", exclude=frozenset({"a"}))
    assert no_capacity_detail(table, req).endswith(": 2 hosts: 2 excluded")


def test_force_host_unknown(host: MakeHost) -> None:
    table = HostTable([host("a")])
    assert no_capacity_detail(table, PlacementRequest(1, 1024, 10, force_host="zz")) == (
        "no host named zz"
    )


def test_hard_anti_affinity(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b"), host("c")])
    req = PlacementRequest(
        1, 1024, 10, group_policy="anti-affinity", group_hosts={"a": 1, "c": 2, "gone": 1}
    )
    assert table.rank(req) == ["b"]
    table.upsert(host("b", state="down"))
    assert no_capacity_detail(table, req).endswith(
        ": 3 hosts: 2 anti-affinity: group member already there, 1 down"
    )


def test_hard_affinity(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b"), host("c")])
    req = PlacementRequest(1, 1024, 10, group_policy="affinity", group_hosts={"b": 3})
    assert table.rank(req) == ["b"]
    table.claim("b", 16, 0, 0)
    assert no_capacity_detail(table, req).endswith(
        ": 3 hosts: 2 affinity: not the group's host, 1 short of vcpus"
    )


def test_hard_affinity_first_member_goes_anywhere(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b")])
    req = PlacementRequest(1, 1024, 10, group_policy="affinity", group_hosts={})
    assert table.rank(req) == ["a", "b"]


def test_each_host_counted_under_first_rejecting_filter(host: MakeHost) -> None:
    # "a" is excluded, down, lacks the trait, is full and holds a group member:
    # it counts only as excluded.
    table = HostTable(
        [host("a", state="down", alloc_vcpus=16), host("b", state="maintenance", alloc_vcpus=16)]
    )
    req = PlacementRequest(
        1,
        1024,
        10,
        traits=frozenset({"kvm"}),
        exclude=frozenset({"a"}),
        group_policy="anti-affinity",
        group_hosts={"a": 1, "b": 1},
    )
    report = table.explain(req)
    assert report.passed == 0
    assert {k: v for k, v in report.rejected.items() if v} == {
        "excluded": 1,
        "in maintenance": 1,
    }


def test_explain_with_passing_hosts(host: MakeHost) -> None:
    table = HostTable([host("a"), host("b", state="down"), host("c")])
    report = table.explain(SMALL)
    assert report == FilterReport(
        total=3, rejected={r: (1 if r == "down" else 0) for r in REASONS}, passed=2
    )


def test_message_sorted_by_count_then_filter_order() -> None:
    rejected = dict.fromkeys(REASONS, 0)
    rejected.update({"short of disk": 2, "excluded": 2, "down": 5, "missing traits": 1})
    report = FilterReport(total=10, rejected=rejected, passed=0)
    assert report.message() == "10 hosts: 5 down, 2 excluded, 2 short of disk, 1 missing traits"


def test_message_singular_and_empty() -> None:
    assert FilterReport(total=1, rejected={"down": 1}, passed=0).message() == "1 host: 1 down"
    assert FilterReport(total=0, rejected={}, passed=0).message() == "0 hosts"


def test_empty_table(host: MakeHost) -> None:
    assert no_capacity_detail(HostTable(), SMALL) == (
        "no host fits 1 vCPU / 1024 MiB / 10 GiB: 0 hosts"
    )


def test_invalid_requests() -> None:
    with pytest.raises(Invalid):
        PlacementRequest(-1, 1024, 10)
    with pytest.raises(Invalid):
        PlacementRequest(1, 1024, 10, group_policy="together")
