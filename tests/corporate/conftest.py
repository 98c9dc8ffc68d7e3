"""A real NovaCron server (in-process uvicorn, API only) on SQLite and PostgreSQL, with an
httpx client and the CLI signed in as admin: the corporate slices need no agents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.testing.cli import CLI
from novacron.testing.cluster import ServerThread, free_port
from novacron.testing.corporate import CorporateServer
from novacron.testing.databases import fresh_database, migrated_database


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database (no server)."""
    pg_url = os.environ.get("NOVACRON_TEST_DATABASE_URL")
    with migrated_database(backend, tmp_path, pg_url, "corporate.db") as database:
        yield database


@pytest.fixture
def corp(backend: str, tmp_path: Path) -> Iterator[CorporateServer]:
    with fresh_database(backend, tmp_path, os.environ.get("NOVACRON_TEST_DATABASE_URL")) as url:
        settings = Settings(
            data_dir=tmp_path / "server", database_url=url, port=free_port(), enrolment_token=None
        )
        server = ServerThread(settings, workers=False).start()
        token = (settings.data_dir / "admin-token").read_text().strip()
        api = httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        try:
            yield CorporateServer(
                url=server.url,
                token=token,
                api=api,
                cli=CLI(server.url, token),
                db=server.app.state.db,
            )
        finally:
            api.close()
            server.stop()
