"""Where sealed secrets live: a small ``SecretStore`` protocol and its in-memory twin.

A record is addressed by (project, name) and carries a ``revision`` that the store
bumps on every write. ``put_if_unchanged`` is compare-and-set on that revision, so a
rewrap racing a user's update never overwrites the newer value (the SQL version is
``UPDATE … WHERE project = ? AND name = ? AND revision = ?``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from novacron.core.errors import Conflict, Invalid
from novacron.security.secrets.envelope import Sealed


def record_aad(project: str, name: str) -> bytes:
    """What a record's ciphertext is bound to; names are validated to hold no NUL."""
    if "\x00" in project or "\x00" in name:
        raise Invalid("secret names and projects cannot contain NUL")
    return b"novacron.record\x00" + project.encode() + b"\x00" + name.encode()


@dataclass(frozen=True)
class SecretRecord:
    project: str
    name: str
    sealed: str
    """``Sealed.dumps()`` text; kept as text so listing never needs to parse it."""
    revision: int
    created_at: datetime
    updated_at: datetime
    created_by: str = ""
    """Who first stored a secret of this name; kept when the value is replaced."""

    @property
    def key_id(self) -> str:
        """The master key that wraps this record's DEK (raises SecretCorrupt if unreadable)."""
        return Sealed.loads(self.sealed).key_id

    def __repr__(self) -> str:
        return (
            f"SecretRecord(project={self.project!r}, name={self.name!r}, revision={self.revision})"
        )


class SecretStore(Protocol):
    def list_records(
        self,
        *,
        project: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[SecretRecord]:
        """Records ordered by (project, name), those strictly after ``after`` (keyset paging)."""
        ...

    def get(self, project: str, name: str) -> SecretRecord | None: ...

    def put_if_unchanged(self, record: SecretRecord, expected_revision: int | None) -> SecretRecord:
        """Write ``record`` if the stored revision is ``expected_revision`` (None: absent).

        Returns the stored record with its new revision; raises Conflict otherwise.
        """
        ...

    def delete(self, project: str, name: str, expected_revision: int | None = None) -> bool:
        """Remove a record; False if there was none. Conflict if the revision moved."""
        ...


@runtime_checkable
class CountsByKey(Protocol):
    """Optional: a store that can count records per master key without reading them all
    (the SQL store's ``GROUP BY key_id``). ``rotation.key_usage`` uses it when present."""

    def count_by_key(self) -> dict[str, int]: ...


class InMemorySecretStore:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], SecretRecord] = {}
        self._lock = threading.Lock()

    def list_records(
        self,
        *,
        project: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[SecretRecord]:
        with self._lock:
            keys = sorted(
                k
                for k in self._rows
                if (project is None or k[0] == project) and (after is None or k > after)
            )
            return [self._rows[k] for k in keys[:limit]]

    def get(self, project: str, name: str) -> SecretRecord | None:
        with self._lock:
            return self._rows.get((project, name))

    def put_if_unchanged(self, record: SecretRecord, expected_revision: int | None) -> SecretRecord:
        key = (record.project, record.name)
        with self._lock:
            current = self._rows.get(key)
            actual = current.revision if current else None
            if actual != expected_revision:
                raise Conflict(
                    f"secret {record.project}/{record.name} changed concurrently "
                    f"(revision {actual}, expected {expected_revision})"
                )
            stored = replace(record, revision=(actual or 0) + 1)
            self._rows[key] = stored
            return stored

    def delete(self, project: str, name: str, expected_revision: int | None = None) -> bool:
        key = (project, name)
        with self._lock:
            current = self._rows.get(key)
            if current is None:
                return False
            if expected_revision is not None and current.revision != expected_revision:
                raise Conflict(f"secret {project}/{name} changed concurrently")
            del self._rows[key]
            return True

    def __len__(self) -> int:
        return len(self._rows)
