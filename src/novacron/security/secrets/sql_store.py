"""``SecretStore`` on the ``secrets`` table.

Compare-and-set is one statement: ``UPDATE … WHERE project_id = ? AND name = ? AND
revision = ?`` changes one row or none, on SQLite and PostgreSQL alike, so a rewrap and
a user's write never both win. A first write is an ``INSERT`` that the unique
``(project_id, name)`` constraint turns into a Conflict when someone else got there first.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from novacron.core.database import Database
from novacron.core.errors import Conflict, NotFound
from novacron.core.ids import new_id
from novacron.security.models import Project
from novacron.security.secrets.envelope import Sealed
from novacron.security.secrets.models import Secret
from novacron.security.secrets.store import SecretRecord


def _record(row: Secret) -> SecretRecord:
    return SecretRecord(
        project=row.project_id,
        name=row.name,
        sealed=row.sealed,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class SqlSecretStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __repr__(self) -> str:
        return f"SqlSecretStore(dialect={self.db.dialect!r})"

    def list_records(
        self,
        *,
        project: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[SecretRecord]:
        query = select(Secret).order_by(Secret.project_id, Secret.name).limit(limit)
        if project is not None:
            query = query.where(Secret.project_id == project)
        if after is not None:
            # Spelled out rather than a row-value comparison: every backend plans it well.
            query = query.where(
                or_(
                    Secret.project_id > after[0],
                    and_(Secret.project_id == after[0], Secret.name > after[1]),
                )
            )
        with self.db.read() as s:
            return [_record(row) for row in s.scalars(query)]

    def get(self, project: str, name: str) -> SecretRecord | None:
        with self.db.read() as s:
            row = s.scalar(select(Secret).where(Secret.project_id == project, Secret.name == name))
            return _record(row) if row is not None else None

    def put_if_unchanged(self, record: SecretRecord, expected_revision: int | None) -> SecretRecord:
        # Also validates the text: a record this store cannot label is never written.
        key_id = Sealed.loads(record.sealed).key_id
        label = f"{record.project}/{record.name}"
        if expected_revision is None:
            return self._insert(record, key_id, label)
        with self.db.session() as s:
            result = s.execute(
                update(Secret)
                .where(
                    Secret.project_id == record.project,
                    Secret.name == record.name,
                    Secret.revision == expected_revision,
                )
                .values(
                    sealed=record.sealed,
                    key_id=key_id,
                    revision=expected_revision + 1,
                    updated_at=record.updated_at,
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) != 1:
                raise Conflict(
                    f"secret {label} changed concurrently (expected revision {expected_revision})"
                )
        return SecretRecord(
            project=record.project,
            name=record.name,
            sealed=record.sealed,
            revision=expected_revision + 1,
            created_at=record.created_at,
            updated_at=record.updated_at,
            created_by=record.created_by,
        )

    def _insert(self, record: SecretRecord, key_id: str, label: str) -> SecretRecord:
        row = Secret(
            id=new_id("sec"),
            project_id=record.project,
            name=record.name,
            sealed=record.sealed,
            key_id=key_id,
            revision=1,
            created_by=record.created_by,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
        try:
            with self.db.session() as s:
                s.add(row)
        except IntegrityError:
            # Either the name was taken meanwhile or the project is gone (foreign key).
            with self.db.read() as s:
                if s.get(Project, record.project) is None:
                    raise NotFound(f"no project {record.project!r}") from None
            raise Conflict(f"secret {label} changed concurrently (it now exists)") from None
        return _record(row)

    def delete(self, project: str, name: str, expected_revision: int | None = None) -> bool:
        where = [Secret.project_id == project, Secret.name == name]
        if expected_revision is not None:
            where.append(Secret.revision == expected_revision)
        with self.db.session() as s:
            result = s.execute(
                delete(Secret).where(*where).execution_options(synchronize_session=False)
            )
            if _rowcount(result):
                return True
            if expected_revision is None:
                return False
            exists = s.scalar(
                select(Secret.id).where(Secret.project_id == project, Secret.name == name)
            )
        if exists is not None:
            raise Conflict(f"secret {project}/{name} changed concurrently")
        return False

    def count_by_key(self) -> dict[str, int]:
        """Records per master key from the ``key_id`` column (indexed)."""
        with self.db.read() as s:
            rows = s.execute(select(Secret.key_id, func.count()).group_by(Secret.key_id))
            return {key_id: int(count) for key_id, count in rows}

    def __len__(self) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Secret)) or 0)
