"""Migration 0009 creates exactly the ecosystem tables the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from novacron.core.database import Base, Database
from novacron.corporate.ecosystem import models  # noqa: F401  (registers the tables)


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or str(table.name).startswith("corp_eco_")


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _ours, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        tables = {
            name for name in conn.dialect.get_table_names(conn) if name.startswith("corp_eco_")
        }
    assert diff == []
    assert tables == {t for t in Base.metadata.tables if t.startswith("corp_eco_")}
    assert len(tables) == 14
