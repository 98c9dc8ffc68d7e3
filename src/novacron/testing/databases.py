"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database.

Both come already migrated, copied from a template migrated once: running every
migration from scratch costs ~0.4 s a database, and the suite makes thousands. The
server's own ``upgrade()`` then finds the schema at head and has nothing to do.
Pass ``migrated=False`` to test the migrations themselves.
"""

from __future__ import annotations

import atexit
import hashlib
import secrets
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from novacron.core import migration_support
from novacron.core.config import SQLITE_FILE, Settings
from novacron.core.database import MIGRATIONS_DIR, Database

_lock = threading.Lock()
_sqlite_template: Path | None = None


def migrations_digest() -> str:
    """Names the schema: a template is reused only while the migrations are the same."""
    digest = hashlib.sha256()
    support = Path(migration_support.__file__)  # what the migrations import of ours
    for path in [*sorted(MIGRATIONS_DIR.rglob("*.py")), support]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def seed_sqlite(path: Path) -> str:
    """Put a migrated SQLite database at ``path`` (a copy of the template); its URL."""
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="novacron-template-"))
            atexit.register(shutil.rmtree, folder, True)
            template = folder / SQLITE_FILE
            db = Database(f"sqlite:///{template}")
            db.upgrade()
            db.dispose()
            with sqlite3.connect(template) as conn:  # fold the WAL into the file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _sqlite_template = template
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, path)
    path.chmod(0o600)
    return f"sqlite:///{path}"


def seed_default_sqlite(settings: Settings) -> None:
    """Seed a server's default SQLite file (none configured, none there yet)."""
    path = settings.data_dir / SQLITE_FILE
    if not settings.database_url and not path.exists():
        seed_sqlite(path)


def _pg_base(pg_url: str) -> URL:
    if pg_url.startswith("postgresql://"):
        pg_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return make_url(pg_url)


def _pg_template(base: URL) -> str:
    """The migrated template database's name, made once per schema and kept between runs
    (built under a temporary name, renamed when complete: never half-migrated)."""
    name = f"novacron_template_{migrations_digest()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(7412)"))  # one builder at a time
            try:
                exists = conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
                if not exists:
                    building = f"{name}_building_{secrets.token_hex(3)}"
                    conn.execute(text(f'CREATE DATABASE "{building}"'))
                    db = Database(base.set(database=building).render_as_string(False))
                    db.upgrade()
                    db.dispose()
                    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(7412)"))
    finally:
        admin.dispose()
    return name


_pg_templates: dict[str, str] = {}


@contextmanager
def fresh_database(
    kind: str, tmp: Path, pg_url: str | None = None, *, migrated: bool = True
) -> Iterator[str | None]:
    """Yield a database URL. SQLite yields None: the server's default file under its data
    dir, which ``ServerThread``/``Cluster.start`` seed from the template (callers naming
    their own file use ``seed_sqlite``, or nothing when ``migrated`` is false);
    PostgreSQL yields a new database (from the template when ``migrated``), dropped
    afterwards. Templates of other migration digests are left in place: another checkout
    may be running its tests with them."""
    if kind == "sqlite":
        yield None
        return
    assert pg_url, "NOVACRON_TEST_DATABASE_URL is not set"
    base = _pg_base(pg_url)
    template = ""
    if migrated:
        with _lock:
            if pg_url not in _pg_templates:
                _pg_templates[pg_url] = _pg_template(base)
            template = _pg_templates[pg_url]
    name = f"novacron_test_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        )
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def migrated_database(kind: str, tmp: Path, pg_url: str | None, name: str) -> Iterator[Database]:
    """A migrated database for tests without a server: a SQLite file ``tmp/name`` or a
    fresh PostgreSQL database."""
    with fresh_database(kind, tmp, pg_url) as url:
        database = Database(url or seed_sqlite(tmp / name))
        database.upgrade()  # a no-op on the template's copy; kept so the schema is checked
        try:
            yield database
        finally:
            database.dispose()
