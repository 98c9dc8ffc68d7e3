"""The secrets use cases: store, read, list and delete secrets per project; rotate keys.

``SecretsVault`` knows nothing about databases or HTTP: it seals values with the
provider's current master key and keeps them in a ``SecretStore``. Values never
appear in reprs, exceptions or logs; every value that passes through is registered
with the masking filter, if one is given, so a stray log line cannot reveal it.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.security.secrets.envelope import Sealed, open_sealed, seal
from novacron.security.secrets.errors import SecretCorrupt, UnknownMasterKey
from novacron.security.secrets.keys import KeyProvider
from novacron.security.secrets.redact import SecretMaskingFilter, SecretStr
from novacron.security.secrets.rotation import (
    RewrapReport,
    key_usage,
    retire_master_key,
    rewrap,
    rotate_master_key,
)
from novacron.security.secrets.store import SecretRecord, SecretStore, record_aad

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
MAX_VALUE_BYTES = 64 * 1024
_PUT_ATTEMPTS = 3


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a secret: everything but its value."""

    project: str
    name: str
    key_id: str | None
    """Master key wrapping it; None if the record is unreadable."""
    revision: int
    created_at: datetime
    updated_at: datetime
    created_by: str = ""


def _info(record: SecretRecord) -> SecretInfo:
    try:
        key_id: str | None = record.key_id
    except SecretCorrupt:
        key_id = None
    return SecretInfo(
        record.project,
        record.name,
        key_id,
        record.revision,
        record.created_at,
        record.updated_at,
        record.created_by,
    )


def _check(name: str | None, project: str) -> None:
    errors = []
    if name is not None and (not isinstance(name, str) or not _NAME.match(name)):
        errors.append({"loc": ["name"], "msg": "1-128 of letters, digits, '_', '.', '-', '/'"})
    if not isinstance(project, str) or not _PROJECT.match(project):
        errors.append({"loc": ["project"], "msg": "1-64 of letters, digits, '_', '.', '-'"})
    if errors:
        raise Invalid("invalid secret name or project", errors=errors)


class SecretsVault:
    def __init__(
        self,
        store: SecretStore,
        provider: KeyProvider,
        *,
        mask_filter: SecretMaskingFilter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.also_sealed: builtins.list[SecretStore] = []
        """Other records sealed with these master keys (users' TOTP seeds): rotation
        rewraps them too, and a key they still use cannot be retired."""
        self.provider = provider
        self.mask_filter = mask_filter
        self._clock = clock

    def __repr__(self) -> str:
        return f"SecretsVault(provider={self.provider!r})"

    def put(
        self, name: str, value: str | SecretStr, project: str, *, actor: str = ""
    ) -> SecretInfo:
        """Create or replace a secret; the last writer wins. ``actor`` is recorded as
        ``created_by`` when the name is new."""
        _check(name, project)
        raw = value.reveal() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            raise Invalid(
                "secret value must be a string", errors=[{"loc": ["value"], "msg": "str"}]
            )
        plaintext = raw.encode()
        if len(plaintext) > MAX_VALUE_BYTES:
            raise Invalid(
                f"secret value is {len(plaintext)} bytes; the limit is {MAX_VALUE_BYTES}",
                errors=[{"loc": ["value"], "msg": f"at most {MAX_VALUE_BYTES} bytes"}],
            )
        self._remember(raw)
        kek = self.provider.keyring().current
        sealed = seal(plaintext, kek, record_aad(project, name)).dumps()
        for _ in range(_PUT_ATTEMPTS):
            existing = self.store.get(project, name)
            now = self._clock()
            record = SecretRecord(
                project=project,
                name=name,
                sealed=sealed,
                revision=0,
                created_at=existing.created_at if existing else now,
                updated_at=now,
                created_by=existing.created_by if existing else actor,
            )
            try:
                stored = self.store.put_if_unchanged(
                    record, existing.revision if existing else None
                )
            except Conflict:
                continue  # a rewrap or another writer got in between; ours is newer
            return _info(stored)
        raise Conflict(f"secret {project}/{name} is being changed concurrently; try again")

    def get(self, name: str, project: str) -> str:
        return self.get_secret(name, project).reveal()

    def get_secret(self, name: str, project: str) -> SecretStr:
        """The value wrapped in SecretStr, for code that passes it on without printing it."""
        return self.reveal(name, project)[1]

    def reveal(self, name: str, project: str) -> tuple[SecretInfo, SecretStr]:
        """Metadata and value from one read, so the two always belong together."""
        _check(name, project)
        record = self.store.get(project, name)
        if record is None:
            raise NotFound(f"no secret {name!r} in project {project!r}")
        try:
            plaintext = self._open(record)
        except SecretCorrupt as exc:
            # Say which record; the detail itself never holds secret material.
            exc.detail = f"secret {project}/{name}: {exc.detail}"
            exc.args = (exc.detail,)
            raise
        try:
            value = plaintext.decode()
        except UnicodeDecodeError:
            raise SecretCorrupt(f"secret {project}/{name}: value is not valid UTF-8") from None
        self._remember(value)
        return _info(record), SecretStr(value)

    def _open(self, record: SecretRecord) -> bytes:
        return self._open_text(record.sealed, record.project, record.name)

    def _open_text(self, text: str, project: str, name: str) -> bytes:
        sealed = Sealed.loads(text)
        aad = record_aad(project, name)
        try:
            return open_sealed(sealed, self.provider.keyring(), aad)
        except UnknownMasterKey:
            # Another replica may have rotated since our keyring was cached.
            return open_sealed(sealed, self.provider.keyring(refresh=True), aad)

    def seal_value(self, value: str, namespace: str, name: str) -> str:
        """Seal a value kept outside the secrets table (a user's TOTP seed) with the same
        master keys; the caller stores the text and lists it in ``also_sealed``."""
        self._remember(value)
        kek = self.provider.keyring().current
        return seal(value.encode(), kek, record_aad(namespace, name)).dumps()

    def open_value(self, text: str, namespace: str, name: str) -> str:
        value = self._open_text(text, namespace, name).decode()
        self._remember(value)
        return value

    def info(self, name: str, project: str) -> SecretInfo:
        _check(name, project)
        record = self.store.get(project, name)
        if record is None:
            raise NotFound(f"no secret {name!r} in project {project!r}")
        return _info(record)

    def list(
        self, project: str, *, after: str | None = None, limit: int = 100
    ) -> builtins.list[SecretInfo]:
        """Names and metadata of a project's secrets, by name, after ``after``; never values."""
        _check(None, project)
        if not 1 <= limit <= 1000:
            raise Invalid("limit must be 1..1000", errors=[{"loc": ["limit"], "msg": "1..1000"}])
        cursor = (project, after) if after is not None else None
        return [
            _info(r) for r in self.store.list_records(project=project, after=cursor, limit=limit)
        ]

    def delete(self, name: str, project: str) -> None:
        _check(name, project)
        if not self.store.delete(project, name):
            raise NotFound(f"no secret {name!r} in project {project!r}")

    # Master keys

    def rotate_master_key(self) -> str:
        return rotate_master_key(self.provider)

    def rewrap(
        self,
        *,
        batch_size: int = 100,
        start_after: tuple[str, str] | None = None,
        on_batch: Callable[[RewrapReport], None] | None = None,
    ) -> RewrapReport:
        report = rewrap(
            self.store,
            self.provider,
            batch_size=batch_size,
            start_after=start_after,
            on_batch=on_batch,
        )
        for other in self.also_sealed:  # small (a seed per user): rewrapped whole each time
            more = rewrap(other, self.provider, batch_size=batch_size)
            report.scanned += more.scanned
            report.rewrapped += more.rewrapped
            report.already_current += more.already_current
            report.vanished += more.vanished
            report.failed.extend(more.failed)
        return report

    def key_usage(self) -> dict[str, int]:
        usage = key_usage(self.store)
        for other in self.also_sealed:
            for key_id, count in key_usage(other).items():
                usage[key_id] = usage.get(key_id, 0) + count
        return usage

    def retire_master_key(self, key_id: str) -> None:
        for other in self.also_sealed:
            in_use = key_usage(other, exact=True).get(key_id, 0)
            if in_use:
                raise Conflict(
                    f"master key {key_id!r} still wraps {in_use} TOTP seed(s) or other "
                    "sealed values; run rewrap, then retire"
                )
        retire_master_key(self.store, self.provider, key_id)

    def _remember(self, value: str) -> None:
        if self.mask_filter is not None:
            self.mask_filter.register(value)
