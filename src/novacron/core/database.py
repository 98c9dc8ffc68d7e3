"""Engine, sessions and the declarative base.

SQLite (the default) runs every transaction as ``BEGIN IMMEDIATE`` so that
read-then-write transactions from worker threads serialize instead of failing
with ``SQLITE_BUSY`` half-way; PostgreSQL uses READ COMMITTED plus row locks
(``FOR UPDATE``, ``SKIP LOCKED``) where it matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from starlette.requests import HTTPConnection

from novacron.core.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 60}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so we can BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers don't take the write lock (WAL lets them run beside a writer).
        readonly = conn.get_execution_options().get("novacron_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def db_now(session: Session) -> datetime:
    """The database's clock (naive UTC). Replicas compare leases and heartbeats against
    one clock, so a server whose own clock is off can't steal live work."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import func, select

        value = session.scalar(select(func.timezone("UTC", func.now())))
        assert isinstance(value, datetime)
        return value
    return utcnow()  # SQLite: one server process, its clock is the clock


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.sqlite_path: Path | None = None
        if url.startswith("sqlite:///"):
            self.sqlite_path = Path(url.removeprefix("sqlite:///"))
            # The database holds agents' API secrets: the data dir is the owner's only.
            self.sqlite_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(novacron_readonly=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        with self.sessions() as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; on SQLite it does not block writers or other readers."""
        with self.read_sessions() as s, s.begin():
            yield s

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from sqlalchemy import text

        cfg = alembic_config(self.url)
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                # Replicas starting together must not migrate concurrently.
                conn.execute(text("SELECT pg_advisory_lock(7411)"))
                conn.commit()
            cfg.attributes["connection"] = conn
            try:
                command.upgrade(cfg, "head")
                conn.commit()
                self._restrict_files()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(7411)"))
                    conn.commit()

    def _restrict_files(self) -> None:
        """SQLite files readable by their owner only (WAL and SHM inherit the mode)."""
        if self.sqlite_path is None:
            return
        for suffix in ("", "-wal", "-shm"):
            path = self.sqlite_path.with_name(self.sqlite_path.name + suffix)
            if path.exists():
                path.chmod(0o600)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def db_of(request: HTTPConnection) -> Database:
    """The server's database, for routes and pages (``app.state.db``)."""
    db: Database = request.app.state.db
    return db
