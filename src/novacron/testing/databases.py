"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database(kind: str, tmp: Path, pg_url: str | None = None) -> Iterator[str | None]:
    """Yield a database URL (None = the default SQLite under the data dir)."""
    if kind == "sqlite":
        yield None
        return
    assert pg_url, "NOVACRON_TEST_DATABASE_URL is not set"
    base = make_url(
        pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        if pg_url.startswith("postgresql://")
        else pg_url
    )
    name = f"novacron_test_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
