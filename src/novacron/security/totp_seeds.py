"""TOTP seeds sealed at rest with the secrets master keys.

A seed is sealed like a secret — AES-256-GCM under its own data key, wrapped by the
current master key — and bound to its user (AAD ``record_aad("users.totp", user_id)``);
``users.totp_secret`` holds only the ``nsec$…`` text. :class:`UserSeedStore` shows the
sealed seeds to master-key rotation as one more store, so ``keys rewrap`` moves them to
the new key and a key that still wraps a seed cannot be retired.

Seeds stored in plaintext by an earlier version are sealed when the server starts
(:func:`seal_plaintext_seeds`), or at their first use (a replica of the earlier version
may still write one during a rolling upgrade).
"""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import select

from novacron.core.database import Database
from novacron.core.errors import Conflict
from novacron.security import totp
from novacron.security.models import User
from novacron.security.secrets.rotation import key_usage
from novacron.security.secrets.service import SecretsVault
from novacron.security.secrets.store import SecretRecord
from novacron.security.totp import SEALED_PREFIX

log = logging.getLogger(__name__)

NAMESPACE = "users.totp"


class SeedCipher:
    """Seals and opens users' seeds with the server's secrets vault."""

    def __init__(self, vault: SecretsVault) -> None:
        self.vault = vault

    def seal(self, seed: str, user_id: str) -> str:
        return self.vault.seal_value(seed, NAMESPACE, user_id)

    def open(self, stored: str, user_id: str) -> str:
        """The plaintext seed (raises ``SecretCorrupt`` when the text or key is wrong)."""
        return self.vault.open_value(stored, NAMESPACE, user_id)


def _revision(sealed: str) -> int:
    # Users have no revision column: a fingerprint of the sealed text serves for
    # compare-and-set (any change of the seed or its wrapping changes the text).
    return zlib.crc32(sealed.encode())


def _record(user: User) -> SecretRecord:
    assert user.totp_secret is not None
    return SecretRecord(
        project=NAMESPACE,
        name=user.id,
        sealed=user.totp_secret,
        revision=_revision(user.totp_secret),
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


class UserSeedStore:
    """The sealed seeds in ``users.totp_secret`` as a ``SecretStore`` (for rotation)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_records(
        self,
        *,
        project: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[SecretRecord]:
        if project not in (None, NAMESPACE) or (after is not None and after[0] > NAMESPACE):
            return []
        stmt = select(User).where(User.totp_secret.startswith(SEALED_PREFIX))
        if after is not None and after[0] == NAMESPACE:
            stmt = stmt.where(User.id > after[1])
        with self.db.read() as s:
            return [_record(u) for u in s.scalars(stmt.order_by(User.id).limit(limit))]

    def get(self, project: str, name: str) -> SecretRecord | None:
        if project != NAMESPACE:
            return None
        with self.db.read() as s:
            user = s.get(User, name)
            if user is None or not (user.totp_secret or "").startswith(SEALED_PREFIX):
                return None
            return _record(user)

    def put_if_unchanged(self, record: SecretRecord, expected_revision: int | None) -> SecretRecord:
        with self.db.session() as s:
            user = s.get(User, record.name, with_for_update=True)
            current = user.totp_secret if user is not None else None
            if user is None or current is None or _revision(current) != expected_revision:
                raise Conflict(f"the TOTP seed of {record.name} changed")
            user.totp_secret = record.sealed
            s.flush()
            return _record(user)

    def delete(self, project: str, name: str, expected_revision: int | None = None) -> bool:
        """Turns the user's two-factor off, recovery codes included (a seed alone is no
        use); part of the store protocol, not used by rotation."""
        with self.db.session() as s:
            user = s.get(User, name, with_for_update=True)
            if project != NAMESPACE or user is None or user.totp_secret is None:
                return False
            if expected_revision is not None and _revision(user.totp_secret) != expected_revision:
                raise Conflict(f"the TOTP seed of {name} changed")
            totp.disable(s, user)
            return True


def seal_plaintext_seeds(db: Database, cipher: SeedCipher) -> int:
    """Seal the seeds an earlier version stored in plaintext; how many it sealed."""
    with db.session() as s:
        users = s.scalars(
            select(User).where(
                User.totp_secret.is_not(None), ~User.totp_secret.startswith(SEALED_PREFIX)
            )
        ).all()
        for user in users:
            assert user.totp_secret is not None
            user.totp_secret = cipher.seal(user.totp_secret, user.id)
    if users:
        log.warning("sealed %d TOTP seed(s) stored in plaintext by an earlier version", len(users))
    return len(users)


def warn_of_foreign_seeds(store: UserSeedStore, vault: SecretsVault) -> dict[str, int]:
    """Seeds sealed with master keys this server does not hold (a replica with a key
    file of its own, a database restored without its keys): logged, as those users can
    only sign in with recovery codes here. Returns the counts per key."""
    keyring = vault.provider.keyring(refresh=True)
    foreign = {k: n for k, n in key_usage(store).items() if k not in keyring}
    if foreign:
        log.error(
            "%d TOTP seed(s) are sealed with master keys this server lacks (%s): give every "
            "replica the same master keys",
            sum(foreign.values()),
            ", ".join(sorted(foreign)),
        )
    return foreign


__all__ = [
    "NAMESPACE",
    "SeedCipher",
    "UserSeedStore",
    "seal_plaintext_seeds",
    "warn_of_foreign_seeds",
]
