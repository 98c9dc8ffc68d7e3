"""Shared fixtures: real clusters (server + agent processes) on SQLite and PostgreSQL.

Set ``NOVACRON_TEST_DATABASE_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``)
to run every database-backed test on PostgreSQL as well as SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database

PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str | None]:
    with fresh_database(backend, tmp_path, PG_URL) as url:
        yield url


@pytest.fixture
def make_cluster(tmp_path: Path, database_url: str | None) -> Iterator[Callable[..., Cluster]]:
    clusters: list[Cluster] = []

    def make(**kwargs: Any) -> Cluster:
        data_dir = tmp_path / f"cluster{len(clusters)}"
        cluster = Cluster.start(data_dir, database_url, **kwargs)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.stop()


@pytest.fixture
def cluster(make_cluster: Callable[..., Cluster]) -> Cluster:
    """A server with one agent serving 3 sim hosts (32 vCPU, 128 GiB each)."""
    return make_cluster()
