from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable

import pytest

from novacron.core.errors import NovaCronError
from novacron.security.secrets import (
    Keyring,
    LocalKey,
    Sealed,
    SecretCorrupt,
    UnknownMasterKey,
    open_sealed,
    record_aad,
    rewrap_sealed,
    seal,
)

PLAINTEXT = b"correct horse battery staple"
AAD = record_aad("proj-a", "db-password")
K1 = LocalKey("k1", b"\x01" * 32)
K2 = LocalKey("k2", b"\x02" * 32)


def ring(*keys: LocalKey, current: str | None = None) -> Keyring:
    return Keyring(keys, current or keys[0].key_id)


def test_round_trip_through_text_form() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    text = sealed.dumps()
    assert text.startswith("nsec$1$k1$")
    assert PLAINTEXT not in text.encode()
    assert Sealed.loads(text) == sealed
    assert open_sealed(Sealed.loads(text), ring(K1), AAD) == PLAINTEXT


def test_each_record_gets_a_fresh_data_key_and_nonce() -> None:
    a, b = seal(PLAINTEXT, K1, AAD), seal(PLAINTEXT, K1, AAD)
    assert a.wrapped_dek != b.wrapped_dek
    assert a.nonce != b.nonce
    assert a.ciphertext != b.ciphertext
    assert len(a.ciphertext) == len(PLAINTEXT) + 16  # GCM tag


def test_aad_binds_the_record() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    with pytest.raises(SecretCorrupt):
        open_sealed(sealed, ring(K1), record_aad("proj-a", "other"))
    with pytest.raises(SecretCorrupt):
        open_sealed(sealed, ring(K1), record_aad("proj-b", "db-password"))


def test_ciphertext_swapped_between_records_fails() -> None:
    a = seal(b"value of a", K1, record_aad("p", "a"))
    b = seal(b"value of b", K1, record_aad("p", "b"))
    # b's ciphertext under a's (valid) wrapped key, and the other way round.
    mixed = dataclasses.replace(a, nonce=b.nonce, ciphertext=b.ciphertext)
    with pytest.raises(SecretCorrupt):
        open_sealed(mixed, ring(K1), record_aad("p", "a"))
    with pytest.raises(SecretCorrupt):
        open_sealed(mixed, ring(K1), record_aad("p", "b"))


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: dataclasses.replace(s, version=2), id="version"),
        pytest.param(lambda s: dataclasses.replace(s, key_id="k2"), id="key_id-other-key"),
        pytest.param(lambda s: dataclasses.replace(s, key_id="k9"), id="key_id-unknown"),
        pytest.param(
            lambda s: dataclasses.replace(s, wrapped_dek=_flip(s.wrapped_dek)), id="dek-nonce"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, wrapped_dek=_flip(s.wrapped_dek, 20)), id="dek-body"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, wrapped_dek=_flip(s.wrapped_dek, -1)), id="dek-tag"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, wrapped_dek=s.wrapped_dek[:-1]), id="dek-cut"
        ),
        pytest.param(lambda s: dataclasses.replace(s, wrapped_dek=b""), id="dek-empty"),
        pytest.param(lambda s: dataclasses.replace(s, nonce=_flip(s.nonce)), id="nonce"),
        pytest.param(lambda s: dataclasses.replace(s, nonce=s.nonce + b"\x00"), id="nonce-length"),
        pytest.param(
            lambda s: dataclasses.replace(s, ciphertext=_flip(s.ciphertext)), id="ct-body"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, ciphertext=_flip(s.ciphertext, -1)), id="ct-tag"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, ciphertext=s.ciphertext + b"x"), id="ct-extended"
        ),
        pytest.param(
            lambda s: dataclasses.replace(s, ciphertext=s.ciphertext[:-16]), id="ct-no-tag"
        ),
    ],
)
def test_tampering_with_any_field_is_detected(tamper: Callable[[Sealed], Sealed]) -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    with pytest.raises(SecretCorrupt) as info:
        open_sealed(tamper(sealed), ring(K1, K2), AAD)
    assert isinstance(info.value, NovaCronError)
    assert info.value.status == 500
    _assert_no_material(str(info.value), sealed)


def test_tampering_with_any_character_of_the_text_form_is_detected() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    text = sealed.dumps()
    for i, char in enumerate(text):
        # Every other character, incl. ones differing only in base64 spare bits.
        for replacement in {"A", "B", "D", "1", "$"} - {char}:
            tampered = text[:i] + replacement + text[i + 1 :]
            with pytest.raises(SecretCorrupt):
                open_sealed(Sealed.loads(tampered), ring(K1, K2), AAD)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "nsec$1$k1$aa$bb",
        "nsec$x$k1$aa$bb$cc",
        "nsec$1$k 1$aa$bb$cc",
        "nsec$1$k1$a+/$bb$cc",
        "nsec$1$k1$$bb$cc",
        "xsec$1$k1$aa$bb$cc",
        "nsec$1$k1$a$bb$cc",
    ],
)
def test_malformed_text_is_corrupt(text: str) -> None:
    with pytest.raises(SecretCorrupt):
        Sealed.loads(text)


def test_wrong_master_key_fails() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    impostor = LocalKey("k1", b"\x09" * 32)  # same id, other material
    with pytest.raises(SecretCorrupt) as info:
        open_sealed(sealed, ring(impostor), AAD)
    assert "k1" in str(info.value)
    with pytest.raises(UnknownMasterKey) as missing:
        open_sealed(sealed, ring(K2), AAD)
    assert missing.value.key_id == "k1"


def test_rewrap_changes_only_the_wrapping() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    both = ring(K2, K1)  # k2 current
    moved = rewrap_sealed(sealed, both, AAD)
    assert moved.key_id == "k2"
    assert (moved.nonce, moved.ciphertext) == (sealed.nonce, sealed.ciphertext)
    assert moved.wrapped_dek != sealed.wrapped_dek
    assert open_sealed(moved, ring(K2), AAD) == PLAINTEXT
    assert rewrap_sealed(moved, both, AAD) is moved  # already current: untouched


def test_reprs_show_no_material() -> None:
    sealed = seal(PLAINTEXT, K1, AAD)
    assert repr(K1) == "LocalKey(key_id='k1')"
    assert "\\x01" not in repr(K1)
    assert "bytes>" in repr(sealed)
    assert repr(ring(K1, K2)) == "Keyring(current='k1', keys=['k1', 'k2'])"


def _assert_no_material(message: str, sealed: Sealed) -> None:
    assert PLAINTEXT.decode() not in message
    for blob in (sealed.wrapped_dek, sealed.ciphertext, b"\x01" * 32):
        assert base64.urlsafe_b64encode(blob).decode().rstrip("=") not in message
        assert base64.b64encode(blob).decode() not in message


def test_text_form_is_canonical() -> None:
    """Two strings must never open as the same record: spare base64 bits are refused."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sealed = seal(PLAINTEXT, K1, AAD)  # 44-byte ciphertext: its last character has 2 spare bits
    text = sealed.dumps()
    last = alphabet.index(text[-1])
    twin = text[:-1] + alphabet[last ^ 0b01]
    assert base64.urlsafe_b64decode(twin.split("$")[-1] + "=") == sealed.ciphertext
    with pytest.raises(SecretCorrupt):
        Sealed.loads(twin)
