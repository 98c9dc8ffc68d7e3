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


@pytest.fixture(autouse=True, scope="session")
def _own_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI reads the token ``novacron login`` stored under $XDG_CONFIG_HOME before the
    admin token: a developer's own login must not leak into the tests."""
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield
    if before is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = before


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


@pytest.fixture
def needs_qemu() -> None:
    """Skip without QEMU (fail under ``NOVACRON_REQUIRE_QEMU=1``)."""
    from novacron.testing.qemu import require_qemu

    require_qemu()


@pytest.fixture(scope="session")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The tiny guest (``novacron.hypervisor.qemu.tiny.TinyImage``), built once per session.

    Its Debian packages are cached in ``default_cache_dir()``, so later runs are offline.
    Skips (fails under ``NOVACRON_REQUIRE_QEMU=1``) without QEMU or when it cannot be built.
    """
    from novacron.core.errors import DriverError
    from novacron.hypervisor.qemu.tiny import build_tiny, default_cache_dir
    from novacron.testing.qemu import require_qemu

    require_qemu()
    try:
        return build_tiny(tmp_path_factory.mktemp("tiny"), cache_dir=default_cache_dir())
    except DriverError as err:
        if os.environ.get("NOVACRON_REQUIRE_QEMU") == "1":
            pytest.fail(f"cannot build the tiny guest: {err.detail}")
        pytest.skip(f"cannot build the tiny guest: {err.detail}")


@pytest.fixture(scope="session")
def tiny_disk_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny guest as one BIOS-bootable qcow2 disk (``build_tiny_disk``), built once
    per session; use it as a read-only backing file. Skips or fails like ``tiny_image``."""
    from novacron.core.errors import DriverError
    from novacron.hypervisor.qemu.tiny import build_tiny_disk, default_cache_dir
    from novacron.testing.qemu import require_qemu

    require_qemu()
    out_dir = tmp_path_factory.mktemp("tiny-disk")
    try:
        return build_tiny_disk(out_dir, cache_dir=default_cache_dir())
    except DriverError as err:
        if os.environ.get("NOVACRON_REQUIRE_QEMU") == "1":
            pytest.fail(f"cannot build the tiny disk image: {err.detail}")
        pytest.skip(f"cannot build the tiny disk image: {err.detail}")
