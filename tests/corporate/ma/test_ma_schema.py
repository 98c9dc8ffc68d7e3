"""Migration 0006 builds exactly the M&A tables the ORM models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from novacron.core.database import Database
from novacron.models import Base


def _table_of(diff: Any) -> str:
    """The table a compare_metadata entry is about (entries are tuples or lists of them)."""
    if isinstance(diff, list):
        return _table_of(diff[0])
    for part in diff[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else part
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(name, str) and name.startswith("corp_"):
            return name
    return ""


def test_migrated_ma_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs = [d for d in compare_metadata(context, Base.metadata)]
    mine = [d for d in diffs if _table_of(d).startswith("corp_ma_") or "corp_ma_" in str(d)]
    assert mine == [], "\n".join(map(str, mine))
    tables = {t for t in Base.metadata.tables if t.startswith("corp_ma_")}
    assert len(tables) == 8
