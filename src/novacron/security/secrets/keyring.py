"""Master keys (KEKs) and the keyring that holds them.

A keyring has one *current* key, which wraps every new data key, and any number
of older keys that only unwrap. Keys are addressed by id; the id is stored in each
sealed record, so rotating never needs to guess which key opens what.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from novacron.core.errors import Invalid
from novacron.security.secrets.errors import SecretCorrupt, UnknownMasterKey

KEY_BYTES = 32
NONCE_BYTES = 12
# Ids appear in stored records and in env vars ("id:base64,..."), so no separators.
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def validate_key_id(key_id: str) -> str:
    if not _KEY_ID.match(key_id):
        raise Invalid(
            f"invalid master key id {key_id[:70]!r}: use 1-64 letters, digits, '_', '.', ':' or '-'"
        )
    return key_id


def new_key_material() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@runtime_checkable
class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys. ``aad`` binds a wrapped key to its record."""

    @property
    def key_id(self) -> str: ...

    def wrap(self, dek: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes: ...


class LocalKey:
    """A 256-bit master key held in process memory (file and env providers)."""

    __slots__ = ("_aead", "_key_id")

    def __init__(self, key_id: str, material: bytes) -> None:
        if len(material) != KEY_BYTES:
            raise Invalid(
                f"master key {key_id!r} is {len(material)} bytes; master keys are {KEY_BYTES}"
            )
        self._key_id = validate_key_id(key_id)
        # Only the AEAD object keeps the material: nothing to print by accident.
        self._aead = AESGCM(material)

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, dek, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < NONCE_BYTES + 16:
            raise SecretCorrupt("wrapped data key is truncated")
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise SecretCorrupt(
                f"data key failed to unwrap with master key {self._key_id!r} "
                "(tampered record, wrong key, or a record moved from elsewhere)"
            ) from None

    def __repr__(self) -> str:
        return f"LocalKey(key_id={self._key_id!r})"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("master keys cannot be pickled")


class Keyring:
    """The keys a provider offers now: ``current`` wraps, all of them unwrap."""

    def __init__(self, keys: Iterable[KeyEncryptionKey], current_id: str) -> None:
        self._keys: dict[str, KeyEncryptionKey] = {}
        for key in keys:
            if key.key_id in self._keys:
                raise Invalid(f"master key id {key.key_id!r} appears twice")
            self._keys[key.key_id] = key
        if current_id not in self._keys:
            raise Invalid(f"current master key {current_id!r} is not in the keyring")
        self._current_id = current_id

    @property
    def current(self) -> KeyEncryptionKey:
        return self._keys[self._current_id]

    @property
    def current_id(self) -> str:
        return self._current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def get(self, key_id: str) -> KeyEncryptionKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownMasterKey(key_id) from None

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __repr__(self) -> str:
        return f"Keyring(current={self._current_id!r}, keys={list(self._keys)!r})"
