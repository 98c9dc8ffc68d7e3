"""Shared fixtures: a sim agent served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from novacron.agent.app import create_agent_app
from novacron.agent.client import AgentClient
from novacron.agent.testing import run_uvicorn_in_thread
from novacron.hypervisor.sim import OPERATIONS, SimFleet

SECRET = "test-agent-secret"
NO_DELAYS = dict.fromkeys(OPERATIONS, 0.0)


@dataclass
class SimAgent:
    url: str
    fleet: SimFleet
    client: AgentClient


@pytest.fixture
def sim_agent() -> Iterator[SimAgent]:
    """Three sim hosts ``t-001..t-003`` without delays, behind the agent API."""
    fleet = SimFleet.build("t-", 3, vcpus=16, memory_mib=65536, disk_gib=500, seed=42)
    fleet.configure(delays=NO_DELAYS)
    with (
        run_uvicorn_in_thread(create_agent_app(fleet, SECRET)) as url,
        AgentClient(url, SECRET, timeout_s=10) as client,
    ):
        yield SimAgent(url, fleet, client)
