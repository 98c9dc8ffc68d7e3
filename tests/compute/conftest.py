"""A database with one agent, one host ``h1`` and a running VM ``vm-1`` on it (claimed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from novacron.compute import hosts, placement
from novacron.compute.models import VM
from novacron.compute.schemas import AgentRegister
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.security.tokens import ensure_bootstrap_secrets
from novacron.testing.databases import migrated_database

ENROL = "nce_compute-test-0123456789abcdef"
INFO = {"driver": "sim", "vcpus": 8, "memory_mib": 8192, "disk_gib": 100}


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Database]:
    pg_url = os.environ.get("NOVACRON_TEST_DATABASE_URL")
    with migrated_database(backend, tmp_path, pg_url, "compute.db") as database:
        with database.session() as s:
            ensure_bootstrap_secrets(s, tmp_path, ENROL)
            hosts.register_agent(
                s,
                AgentRegister(
                    enrolment_token=ENROL,
                    name="a1",
                    url="http://127.0.0.1:1",
                    api_secret="s" * 32,
                    hosts=[{"name": "h1", **INFO}],
                ),
                Settings(data_dir=tmp_path),
            )
            host = hosts.find_host(s, "h1")
            assert placement.claim(s, host.id, 1, 512, 1)
            s.add(
                VM(
                    id="vm-1",
                    project_id="proj-default",
                    name="v",
                    name_key="v",
                    state="running",
                    vcpus=1,
                    memory_mib=512,
                    disk_gib=1,
                    host_id=host.id,
                    claimed=True,
                )
            )
        yield database
