"""Fixtures for the secrets tests: a fake Vault Transit server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_vault import FakeVault


@pytest.fixture
def fake_vault() -> Iterator[FakeVault]:
    vault = FakeVault().start()
    yield vault
    vault.stop()
