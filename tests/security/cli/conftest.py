"""Fixtures of the security CLI tests: one server for the folder (no agent: nothing here
runs a VM; its migrations take seconds), the CLI run in-process, and a private
``$XDG_CONFIG_HOME`` for every test so ``novacron login`` never touches the real home.

Tests share the server: they make users and projects with unique names, and a test that
tampers with the audit log puts the record back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from seccli_helpers import Cli

from novacron.testing.cluster import Cluster


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster.start(tmp_path_factory.mktemp("seccli"), None, with_agent=False)
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config dir of the test's own; no token, URL or project from the environment."""
    for var in ("NOVACRON_TOKEN", "NOVACRON_URL", "NOVACRON_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("NOVACRON_DATA_DIR", str(tmp_path / "no-data-dir"))
    return config


@pytest.fixture
def admin(server: Cluster) -> Cli:
    """The CLI with the bootstrap admin token."""
    return Cli(server.url, server.token)


@pytest.fixture
def anon(server: Cluster) -> Cli:
    """The CLI without --token: it uses what novacron login stored."""
    return Cli(server.url, None)
