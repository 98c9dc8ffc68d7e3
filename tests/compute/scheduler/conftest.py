from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from novacron.compute.scheduler import HostView


def make_host(host_id: str, **overrides: Any) -> HostView:
    """A 16-vCPU / 64 GiB / 1 TiB host that is up, empty and not overcommitted."""
    fields: dict[str, Any] = {
        "id": host_id,
        "name": f"node-{host_id}",
        "state": "up",
        "vcpus": 16,
        "memory_mib": 65536,
        "disk_gib": 1000,
        "cpu_allocation_ratio": 1.0,
        "ram_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0,
        "alloc_vcpus": 0,
        "alloc_memory_mib": 0,
        "alloc_disk_gib": 0,
    }
    fields.update(overrides)
    return HostView(**fields)


@pytest.fixture
def host() -> Callable[..., HostView]:
    return make_host
