"""VaultKeyProvider through hvac, over real HTTP, against the fake Transit server."""

from __future__ import annotations

import dataclasses

import pytest
from fake_vault import FakeVault

from novacron.core.errors import Conflict, NotFound
from novacron.security.secrets import (
    KeyProviderError,
    SecretCorrupt,
    UnknownMasterKey,
    VaultKeyProvider,
    open_sealed,
    provider_from_settings,
    record_aad,
    seal,
)

AAD = record_aad("p", "s")


def provider_for(vault: FakeVault, **options: object) -> VaultKeyProvider:
    provider = provider_from_settings(
        "vault", url=vault.url, token=vault.token, key_name="novacron", **options
    )
    assert isinstance(provider, VaultKeyProvider)
    return provider


def test_creates_the_transit_key_and_round_trips(fake_vault: FakeVault) -> None:
    provider = provider_for(fake_vault)
    ring = provider.keyring()
    assert ring.current_id == "vault:novacron:v1"
    assert "novacron" in fake_vault.keys
    sealed = seal(b"hunter2", ring.current, AAD)
    assert sealed.key_id == "vault:novacron:v1"
    assert sealed.wrapped_dek.startswith(b"vault:v1:")
    assert open_sealed(sealed, ring, AAD) == b"hunter2"
    paths = [p for _, p in fake_vault.requests]
    assert "/v1/transit/keys/novacron" in paths
    assert "/v1/transit/encrypt/novacron" in paths
    assert "/v1/transit/decrypt/novacron" in paths


def test_the_record_binding_reaches_vault(fake_vault: FakeVault) -> None:
    ring = provider_for(fake_vault).keyring()
    sealed = seal(b"hunter2", ring.current, AAD)
    with pytest.raises(SecretCorrupt, match="refused to unwrap"):
        open_sealed(sealed, ring, record_aad("p", "other"))


def test_tampered_wrapped_key_is_corrupt(fake_vault: FakeVault) -> None:
    ring = provider_for(fake_vault).keyring()
    sealed = seal(b"hunter2", ring.current, AAD)
    prefix, body = sealed.wrapped_dek[:9], sealed.wrapped_dek[9:]
    assert prefix == b"vault:v1:"
    flipped = prefix + (b"B" if body[:1] == b"A" else b"A") + body[1:]
    with pytest.raises(SecretCorrupt, match="authentication failed"):
        open_sealed(dataclasses.replace(sealed, wrapped_dek=flipped), ring, AAD)
    with pytest.raises(SecretCorrupt, match="does not belong"):
        open_sealed(dataclasses.replace(sealed, wrapped_dek=b"vault:v2:" + body), ring, AAD)
    with pytest.raises(SecretCorrupt, match="not a Vault ciphertext"):
        open_sealed(dataclasses.replace(sealed, wrapped_dek=b"\xff\xfe"), ring, AAD)


def test_rotation_adds_a_version_and_old_versions_still_unwrap(fake_vault: FakeVault) -> None:
    provider = provider_for(fake_vault)
    v1 = seal(b"one", provider.keyring().current, AAD)
    assert provider.add_key() == "vault:novacron:v2"
    ring = provider.keyring()
    assert ring.key_ids == ("vault:novacron:v1", "vault:novacron:v2")
    v2 = seal(b"two", ring.current, AAD)
    assert v2.wrapped_dek.startswith(b"vault:v2:")
    assert open_sealed(v1, ring, AAD) == b"one"
    assert open_sealed(v2, ring, AAD) == b"two"
    assert ("POST", "/v1/transit/keys/novacron/rotate") in fake_vault.requests


def test_relabelling_a_record_to_another_version_fails(fake_vault: FakeVault) -> None:
    provider = provider_for(fake_vault)
    v1 = seal(b"one", provider.keyring().current, AAD)
    provider.add_key()
    relabelled = dataclasses.replace(v1, key_id="vault:novacron:v2")
    with pytest.raises(SecretCorrupt):
        open_sealed(relabelled, provider.keyring(), AAD)


def test_retire_sets_min_decryption_version_oldest_first(fake_vault: FakeVault) -> None:
    provider = provider_for(fake_vault)
    v1 = seal(b"one", provider.keyring().current, AAD)
    provider.add_key()
    provider.add_key()
    with pytest.raises(Conflict, match="current"):
        provider.retire_key("vault:novacron:v3")
    with pytest.raises(Conflict, match="oldest first; retire vault:novacron:v1"):
        provider.retire_key("vault:novacron:v2")
    with pytest.raises(NotFound):
        provider.retire_key("vault:other:v1")
    provider.retire_key("vault:novacron:v1")
    assert fake_vault.keys["novacron"].min_decryption_version == 2
    ring = provider.keyring()
    assert ring.key_ids == ("vault:novacron:v2", "vault:novacron:v3")
    with pytest.raises(UnknownMasterKey):
        open_sealed(v1, ring, AAD)
    # Vault itself refuses the retired version too, not just our keyring.
    old_key = type(ring.current)(provider, 1)  # a VaultKey for v1, bypassing the keyring
    with pytest.raises(SecretCorrupt, match="too old"):
        old_key.unwrap(v1.wrapped_dek, b"")


def test_a_version_rotated_by_another_replica_is_found_after_refresh(fake_vault: FakeVault) -> None:
    ours = provider_for(fake_vault)
    theirs = provider_for(fake_vault)
    ours.keyring()
    theirs.add_key()
    sealed = seal(b"x", theirs.keyring().current, AAD)
    with pytest.raises(UnknownMasterKey):
        open_sealed(sealed, ours.keyring(), AAD)  # cached
    assert open_sealed(sealed, ours.keyring(refresh=True), AAD) == b"x"


def test_bad_token_is_a_provider_error_without_the_token(fake_vault: FakeVault) -> None:
    provider = VaultKeyProvider(fake_vault.url, token="s.wrong-token-123")
    with pytest.raises(KeyProviderError, match="permission denied") as info:
        provider.keyring()
    assert "s.wrong-token-123" not in str(info.value)
    assert "s.wrong-token-123" not in repr(provider)
    assert fake_vault.requests  # the request did reach the server


def test_missing_key_without_create(fake_vault: FakeVault) -> None:
    with pytest.raises(KeyProviderError, match="does not exist"):
        provider_for(fake_vault, create=False).keyring()


def test_unreachable_vault_is_a_provider_error() -> None:
    vault = FakeVault().start()
    url = vault.url
    vault.stop()
    with pytest.raises(KeyProviderError, match="cannot reach"):
        VaultKeyProvider(url, token="t", timeout=2).keyring()
