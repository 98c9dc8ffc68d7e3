"""Fixtures for the secrets tests: a fake Vault Transit server on 127.0.0.1, and one
real NovaCron server (file key provider, no agent) shared by the API and CLI tests, whose
log is written to a file the tests read back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_vault import FakeVault
from secretsapi_helpers import World, make_world


@pytest.fixture
def fake_vault() -> Iterator[FakeVault]:
    vault = FakeVault().start()
    yield vault
    vault.stop()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("secrets-api")
    log_file = tmp_path_factory.mktemp("secrets-log") / "server.log"
    with make_world(data_dir, log_file) as made:
        yield made
