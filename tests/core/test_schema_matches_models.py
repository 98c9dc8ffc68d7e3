"""The Alembic migrations build exactly the schema the ORM models describe.

Every schema change is a migration (ARCHITECTURE.md); this catches a model changed without
one, or a migration that differs from its models (types, nullability, indexes, keys)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from novacron.core.database import Database
from novacron.models import Base
from novacron.testing.databases import fresh_database


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Database]:
    pg_url = os.environ.get("NOVACRON_TEST_DATABASE_URL")
    with fresh_database(backend, tmp_path, pg_url, migrated=False) as url:  # the migrations run
        database = Database(url or f"sqlite:///{tmp_path / 'schema.db'}")
        database.upgrade()
        yield database
        database.dispose()


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs = [d for d in compare_metadata(context, Base.metadata)]
    assert diffs == [], "\n".join(map(str, diffs))
