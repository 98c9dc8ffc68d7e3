"""Master-key rotation without downtime.

    1. rotate_master_key(provider)   a new key becomes current; old keys still unwrap,
                                     so every record stays readable throughout
    2. rewrap(store, provider)       each record's DEK is rewrapped with the current key,
                                     in batches; ciphertexts are not touched
    3. retire_master_key(...)        the old key is dropped — refused while any record
                                     still names it

``rewrap`` is idempotent (records already on the current key are skipped) and
resumable: after a crash, run it again, or pass the last report's ``cursor`` as
``start_after`` to skip what was already scanned. Each record is written with
compare-and-set on its revision, so a user's concurrent update always wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from novacron.core.errors import Conflict, Invalid
from novacron.security.secrets.envelope import Sealed, rewrap_sealed
from novacron.security.secrets.errors import SecretCorrupt
from novacron.security.secrets.keyring import Keyring
from novacron.security.secrets.keys import KeyProvider
from novacron.security.secrets.store import CountsByKey, SecretRecord, SecretStore, record_aad

log = logging.getLogger(__name__)

UNREADABLE = "<unreadable>"
"""Key of ``key_usage`` for records whose sealed text cannot be parsed."""

_CAS_ATTEMPTS = 3


@dataclass
class RewrapReport:
    current_key: str
    scanned: int = 0
    rewrapped: int = 0
    already_current: int = 0
    vanished: int = 0
    """Deleted while the rewrap ran."""
    failed: list[str] = field(default_factory=list)
    """``project/name: reason`` for records that could not be rewrapped (no secret material)."""
    batches: int = 0
    cursor: tuple[str, str] | None = None
    """Last (project, name) scanned; pass as ``start_after`` to resume."""

    @property
    def complete(self) -> bool:
        return not self.failed


def rotate_master_key(provider: KeyProvider) -> str:
    """Add a master key and make it current; returns its id. Run ``rewrap`` next."""
    return provider.add_key()


def rewrap(
    store: SecretStore,
    provider: KeyProvider,
    *,
    batch_size: int = 100,
    start_after: tuple[str, str] | None = None,
    on_batch: Callable[[RewrapReport], None] | None = None,
) -> RewrapReport:
    """Move every record's DEK to the current master key; see the module docstring."""
    if batch_size < 1:
        raise Invalid("batch_size must be >= 1", errors=[{"loc": ["batch_size"], "msg": ">= 1"}])
    keyring = provider.keyring(refresh=True)
    report = RewrapReport(current_key=keyring.current_id, cursor=start_after)
    while True:
        batch = store.list_records(after=report.cursor, limit=batch_size)
        if not batch:
            break
        for record in batch:
            _rewrap_one(store, keyring, record, report)
            report.scanned += 1
            report.cursor = (record.project, record.name)
        report.batches += 1
        if on_batch:
            on_batch(report)
        if len(batch) < batch_size:
            break
    log.info(
        "rewrap to %s: %d scanned, %d rewrapped, %d failed",
        report.current_key,
        report.scanned,
        report.rewrapped,
        len(report.failed),
    )
    return report


def _rewrap_one(
    store: SecretStore, keyring: Keyring, record: SecretRecord, report: RewrapReport
) -> None:
    label = f"{record.project}/{record.name}"
    current: SecretRecord | None = record
    for _ in range(_CAS_ATTEMPTS):
        if current is None:
            report.vanished += 1
            return
        try:
            sealed = Sealed.loads(current.sealed)
            if sealed.key_id == keyring.current_id:
                report.already_current += 1
                return
            moved = rewrap_sealed(sealed, keyring, record_aad(current.project, current.name))
        except SecretCorrupt as exc:
            report.failed.append(f"{label}: {exc.detail}")
            log.warning("rewrap skipped %s: %s", label, exc.detail)
            return
        try:
            # updated_at stays: the value did not change, only its wrapping.
            store.put_if_unchanged(replace(current, sealed=moved.dumps()), current.revision)
        except Conflict:
            current = store.get(record.project, record.name)
            continue
        report.rewrapped += 1
        return
    report.failed.append(f"{label}: kept changing during rewrap; run rewrap again")


def key_usage(store: SecretStore, *, batch_size: int = 500, exact: bool = False) -> dict[str, int]:
    """How many records each master key wraps (``UNREADABLE`` for unparseable ones).

    A store with ``count_by_key`` (the SQL store: ``GROUP BY`` on its ``key_id``
    column) answers without reading every record; ``exact`` reads them anyway and
    trusts only the key id inside each sealed text — what retiring a key relies on.
    """
    if not exact and isinstance(store, CountsByKey):
        return store.count_by_key()
    usage: dict[str, int] = {}
    after: tuple[str, str] | None = None
    while batch := store.list_records(after=after, limit=batch_size):
        for record in batch:
            try:
                key_id = record.key_id
            except SecretCorrupt:
                key_id = UNREADABLE
            usage[key_id] = usage.get(key_id, 0) + 1
        after = (batch[-1].project, batch[-1].name)
    return usage


def retire_master_key(store: SecretStore, provider: KeyProvider, key_id: str) -> None:
    """Drop an old master key, refusing while it is current or any record still uses it."""
    keyring = provider.keyring(refresh=True)
    if key_id == keyring.current_id:
        raise Conflict(f"master key {key_id!r} is current; rotate and rewrap before retiring it")
    # Exact: a key_id column out of step with the sealed text must not lose a secret.
    in_use = key_usage(store, exact=True).get(key_id, 0)
    if in_use:
        raise Conflict(
            f"master key {key_id!r} still wraps {in_use} secret(s); run rewrap, then retire"
        )
    provider.retire_key(key_id)
