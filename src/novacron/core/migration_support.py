"""Helpers for Alembic migrations (importable from ``migrations/versions``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def sqlite_foreign_keys_off(op: Any, revision: str) -> Iterator[None]:
    """SQLite changes a table by copying it into a new one and dropping the old. With
    foreign keys enforced, dropping a referenced table fails, or deletes the old rows
    first and their children's ``ON DELETE CASCADE`` goes with them. The pragma can't
    change inside a transaction: commit what ran so far, switch it off, go on in a new
    transaction, and check every reference before switching it back on."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"{revision} left dangling references: {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")  # for Alembic's version row and commit
