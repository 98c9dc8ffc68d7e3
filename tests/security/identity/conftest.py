"""One cluster per test module (no agent unless the module sets ``WITH_AGENT``, settings
from its ``CLUSTER_SETTINGS``), on SQLite and, with ``NOVACRON_TEST_DATABASE_URL``,
PostgreSQL. Tests make their own users and projects with unique names, so they share it
without depending on each other; a test that changes global state puts it back. ``db``
reaches the cluster's database directly: for moving timestamps instead of sleeping, and
for tampering with the audit log."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from novacron.core.database import Database
from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database

PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("identity")
    with fresh_database(str(request.param), tmp, PG_URL) as url:
        with_agent = bool(getattr(request.module, "WITH_AGENT", False))
        settings = dict(getattr(request.module, "CLUSTER_SETTINGS", {}))
        started = Cluster.start(tmp / "cluster", url, with_agent=with_agent, **settings)
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture(scope="module")
def db(cluster: Cluster) -> Iterator[Database]:
    database = Database(cluster.settings.resolved_database_url)
    yield database
    database.dispose()
