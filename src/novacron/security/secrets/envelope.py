"""Envelope encryption: each record has its own data key (DEK), wrapped by a master key.

    seal(plaintext, kek, aad)  →  Sealed(version, key_id, wrapped_dek, nonce, ciphertext)

The plaintext is encrypted with AES-256-GCM under a fresh DEK; the DEK is wrapped by
the master key (KEK) named ``key_id``. ``aad`` names the record (see
``store.record_aad``): it is authenticated by both layers, so a ciphertext or a
wrapped DEK copied onto another record fails to open. Rotating the master key only
rewraps the 60-odd bytes of DEK (``rewrap_sealed``); the ciphertext is never touched.

Text form, for storage: ``nsec$1$<key_id>$<wrapped_dek>$<nonce>$<ciphertext>`` with
unpadded base64url fields. Anything wrong with a record — bad text, other version,
unknown key, failed authentication — raises ``SecretCorrupt``.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from novacron.core.errors import Invalid
from novacron.security.secrets.errors import SecretCorrupt
from novacron.security.secrets.keyring import (
    KEY_BYTES,
    NONCE_BYTES,
    KeyEncryptionKey,
    Keyring,
    validate_key_id,
)

FORMAT_VERSION = 1
_PREFIX = "nsec"
_SEP = "$"  # not in base64url nor in key ids
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def _data_aad(version: int, aad: bytes) -> bytes:
    # The version is authenticated, so a record cannot be downgraded to another format.
    return b"novacron.secret\x00%d\x00" % version + aad


def _dek_aad(version: int, key_id: str, aad: bytes) -> bytes:
    # The key id is authenticated too: relabelling a wrapped DEK with another key id fails.
    return b"novacron.dek\x00%d\x00" % version + key_id.encode() + b"\x00" + aad


@dataclass(frozen=True)
class Sealed:
    version: int
    key_id: str
    wrapped_dek: bytes
    nonce: bytes
    ciphertext: bytes
    """AES-GCM output: encrypted bytes followed by the 16-byte tag."""

    def dumps(self) -> str:
        fields = (self.wrapped_dek, self.nonce, self.ciphertext)
        encoded = [base64.urlsafe_b64encode(f).rstrip(b"=").decode() for f in fields]
        return _SEP.join([_PREFIX, str(self.version), self.key_id, *encoded])

    @classmethod
    def loads(cls, text: str) -> Sealed:
        parts = text.split(_SEP) if isinstance(text, str) else []
        if len(parts) != 6 or parts[0] != _PREFIX:
            raise SecretCorrupt("sealed secret is not in the nsec$… format")
        _, version_text, key_id, *encoded = parts
        if not version_text.isdigit():
            raise SecretCorrupt("sealed secret has a malformed format version")
        try:
            validate_key_id(key_id)
        except Invalid:
            raise SecretCorrupt("sealed secret has a malformed master key id") from None
        try:
            wrapped, nonce, ciphertext = (_b64decode(e) for e in encoded)
        except (binascii.Error, ValueError):
            raise SecretCorrupt("sealed secret has a field that is not base64url") from None
        return cls(int(version_text), key_id, wrapped, nonce, ciphertext)

    def __repr__(self) -> str:
        # Ciphertext is not secret, but nobody needs kilobytes of it in a log line.
        return (
            f"Sealed(version={self.version}, key_id={self.key_id!r}, "
            f"wrapped_dek=<{len(self.wrapped_dek)} bytes>, "
            f"ciphertext=<{len(self.ciphertext)} bytes>)"
        )


def _b64decode(field: str) -> bytes:
    if not _B64URL.fullmatch(field):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(field + "=" * (-len(field) % 4))
    # One text per record: reject spare bits set in the last character, so no two
    # different strings open as the same record.
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != field:
        raise ValueError("not canonical base64url")
    return data


def seal(plaintext: bytes, kek: KeyEncryptionKey, aad: bytes) -> Sealed:
    dek = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(dek).encrypt(nonce, plaintext, _data_aad(FORMAT_VERSION, aad))
    wrapped = kek.wrap(dek, _dek_aad(FORMAT_VERSION, kek.key_id, aad))
    return Sealed(FORMAT_VERSION, kek.key_id, wrapped, nonce, ciphertext)


def _unwrap_dek(sealed: Sealed, keyring: Keyring, aad: bytes) -> bytes:
    if sealed.version != FORMAT_VERSION:
        raise SecretCorrupt(f"sealed secret has unsupported format version {sealed.version}")
    kek = keyring.get(sealed.key_id)
    dek = kek.unwrap(sealed.wrapped_dek, _dek_aad(sealed.version, sealed.key_id, aad))
    if len(dek) != KEY_BYTES:
        raise SecretCorrupt("unwrapped data key has the wrong length")
    return dek


def open_sealed(sealed: Sealed, keyring: Keyring, aad: bytes) -> bytes:
    dek = _unwrap_dek(sealed, keyring, aad)
    if len(sealed.nonce) != NONCE_BYTES:
        raise SecretCorrupt("sealed secret has a nonce of the wrong length")
    try:
        return AESGCM(dek).decrypt(sealed.nonce, sealed.ciphertext, _data_aad(sealed.version, aad))
    except InvalidTag:
        raise SecretCorrupt(
            "secret failed authentication (tampered, or bound to a different record)"
        ) from None


def rewrap_sealed(sealed: Sealed, keyring: Keyring, aad: bytes) -> Sealed:
    """The same record with its DEK wrapped by the current key; nonce and ciphertext unchanged."""
    if sealed.key_id == keyring.current_id:
        return sealed
    dek = _unwrap_dek(sealed, keyring, aad)
    kek = keyring.current
    wrapped = kek.wrap(dek, _dek_aad(sealed.version, kek.key_id, aad))
    return Sealed(sealed.version, kek.key_id, wrapped, sealed.nonce, sealed.ciphertext)
