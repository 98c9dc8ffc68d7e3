"""Shared fixtures: a sim agent served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from novacron.agent.testing import SimAgentAPI, run_sim_agent_api
from novacron.hypervisor.sim import OPERATIONS, SimFleet


def _fleet() -> SimFleet:
    return SimFleet.build(
        "t-", 3, vcpus=16, memory_mib=65536, disk_gib=500,
        delays=dict.fromkeys(OPERATIONS, 0.0), seed=42,
    )  # fmt: skip


@pytest.fixture
def sim_agent() -> Iterator[SimAgentAPI]:
    """Three sim hosts ``t-001..t-003`` without delays, behind the agent API."""
    with run_sim_agent_api(_fleet()) as agent:
        yield agent


@pytest.fixture(scope="module")
def shared_sim_agent() -> Iterator[SimAgentAPI]:
    """Like ``sim_agent`` but shared by a module's tests: only for tests that change nothing."""
    with run_sim_agent_api(_fleet()) as agent:
        yield agent
