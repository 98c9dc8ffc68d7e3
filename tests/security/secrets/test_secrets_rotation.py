from __future__ import annotations

from pathlib import Path

import pytest
from fake_vault import FakeVault

from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.security.secrets import (
    FileKeyProvider,
    InMemorySecretStore,
    RewrapReport,
    SecretRecord,
    SecretsVault,
    UnknownMasterKey,
    VaultKeyProvider,
    key_usage,
    retire_master_key,
    rewrap,
)
from novacron.security.secrets.envelope import Sealed
from novacron.security.secrets.rotation import UNREADABLE


class CrashingStore(InMemorySecretStore):
    """Dies (like a killed process) after ``writes_left`` successful writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes_left: int | None = None

    def put_if_unchanged(self, record: SecretRecord, expected_revision: int | None) -> SecretRecord:
        if self.writes_left is not None:
            if self.writes_left == 0:
                raise RuntimeError("simulated crash")
            self.writes_left -= 1
        return super().put_if_unchanged(record, expected_revision)


def filled_vault(tmp_path: Path, count: int = 25) -> tuple[SecretsVault, CrashingStore]:
    store = CrashingStore()
    vault = SecretsVault(store, FileKeyProvider(tmp_path / "mk.json"))
    for i in range(count):
        vault.put(f"secret-{i:02d}", f"value-{i}", project=f"p{i % 3}")
    return vault, store


def values(vault: SecretsVault) -> dict[tuple[str, str], str]:
    return {
        (r.project, r.name): vault.get(r.name, r.project)
        for r in vault.store.list_records(limit=1000)
    }


def test_rewrap_moves_every_record_to_the_new_key(tmp_path: Path) -> None:
    vault, store = filled_vault(tmp_path)
    before = values(vault)
    old_key = vault.provider.keyring().current_id
    sealed_before = {
        (r.project, r.name): Sealed.loads(r.sealed) for r in store.list_records(limit=100)
    }
    new_key = vault.rotate_master_key()
    assert vault.key_usage() == {old_key: 25}
    assert values(vault) == before  # readable throughout

    batches: list[int] = []
    report = vault.rewrap(batch_size=10, on_batch=lambda r: batches.append(r.scanned))
    assert (report.scanned, report.rewrapped, report.already_current) == (25, 25, 0)
    assert report.complete and report.batches == 3 and batches == [10, 20, 25]
    assert report.current_key == new_key
    assert vault.key_usage() == {new_key: 25}
    assert values(vault) == before
    for r in store.list_records(limit=100):
        old, new = sealed_before[(r.project, r.name)], Sealed.loads(r.sealed)
        assert (new.nonce, new.ciphertext) == (old.nonce, old.ciphertext)  # ciphertext untouched
        assert new.wrapped_dek != old.wrapped_dek

    again = vault.rewrap(batch_size=10)
    assert (again.rewrapped, again.already_current) == (0, 25)  # idempotent


def test_rewrap_resumes_after_a_crash_mid_batch(tmp_path: Path) -> None:
    vault, store = filled_vault(tmp_path)
    before = values(vault)
    new_key = vault.rotate_master_key()
    progress: list[RewrapReport] = []
    store.writes_left = 13  # dies in the middle of the second batch of 10
    with pytest.raises(RuntimeError, match="simulated crash"):
        vault.rewrap(batch_size=10, on_batch=progress.append)
    assert len(progress) == 1  # one batch completed
    usage = vault.key_usage()
    assert usage[new_key] == 13 and sum(usage.values()) == 25
    assert values(vault) == before  # a half-done rewrap leaves everything readable

    store.writes_left = None
    report = vault.rewrap(batch_size=10)
    assert (report.rewrapped, report.already_current) == (12, 13)
    assert vault.key_usage() == {new_key: 25}
    assert values(vault) == before


def test_rewrap_resumes_from_a_cursor(tmp_path: Path) -> None:
    vault, store = filled_vault(tmp_path, count=6)
    new_key = vault.rotate_master_key()
    progress: list[RewrapReport] = []
    store.writes_left = 4
    with pytest.raises(RuntimeError):
        vault.rewrap(batch_size=2, on_batch=progress.append)
    store.writes_left = None
    cursor = progress[-1].cursor
    assert cursor is not None
    report = vault.rewrap(batch_size=2, start_after=cursor)
    assert (report.scanned, report.rewrapped) == (2, 2)  # only what came after the checkpoint
    assert vault.key_usage() == {new_key: 6}


def test_retiring_a_key_in_use_is_refused(tmp_path: Path) -> None:
    vault, _ = filled_vault(tmp_path, count=4)
    old_key = vault.provider.keyring().current_id
    with pytest.raises(Conflict, match="is current"):
        vault.retire_master_key(old_key)
    vault.rotate_master_key()
    with pytest.raises(Conflict, match="still wraps 4 secret"):
        vault.retire_master_key(old_key)
    assert old_key in vault.provider.keyring()
    vault.rewrap()
    vault.retire_master_key(old_key)
    assert old_key not in vault.provider.keyring(refresh=True)
    assert vault.get("secret-00", "p0") == "value-0"
    with pytest.raises(NotFound):
        vault.retire_master_key(old_key)


def test_a_concurrent_update_wins_over_rewrap(tmp_path: Path) -> None:
    vault, store = filled_vault(tmp_path, count=3)
    vault.rotate_master_key()

    class RacingStore(InMemorySecretStore):
        armed = False

        def put_if_unchanged(self, record: SecretRecord, expected: int | None) -> SecretRecord:
            if self.armed and record.name == "secret-00":
                self.armed = False
                vault.put("secret-00", "changed by a user", "p0")  # lands first
            return super().put_if_unchanged(record, expected)

    racing = RacingStore()
    for r in store.list_records(limit=10):
        racing.put_if_unchanged(r, None)
    vault.store = racing
    racing.armed = True
    report = rewrap(racing, vault.provider)
    assert not racing.armed  # the race did happen
    assert report.complete and report.scanned == 3
    assert (report.rewrapped, report.already_current) == (2, 1)  # the user's write was new
    assert vault.get("secret-00", "p0") == "changed by a user"
    assert set(key_usage(racing)) == {vault.provider.keyring().current_id}


def test_unreadable_records_are_reported_not_fatal(tmp_path: Path) -> None:
    vault, store = filled_vault(tmp_path, count=3)
    vault.rotate_master_key()
    broken = store.get("p1", "secret-01")
    assert broken is not None
    store.put_if_unchanged(
        SecretRecord(**{**broken.__dict__, "sealed": "garbage"}), broken.revision
    )
    report = vault.rewrap()
    assert report.rewrapped == 2
    assert report.failed == ["p1/secret-01: sealed secret is not in the nsec$… format"]
    assert not report.complete
    assert key_usage(store)[UNREADABLE] == 1


def test_rewrap_rejects_a_bad_batch_size(tmp_path: Path) -> None:
    vault, _ = filled_vault(tmp_path, count=1)
    with pytest.raises(Invalid):
        vault.rewrap(batch_size=0)


def test_full_rotation_through_vault_transit(fake_vault: FakeVault) -> None:
    provider = VaultKeyProvider(fake_vault.url, token=fake_vault.token)
    store = InMemorySecretStore()
    vault = SecretsVault(store, provider)
    for i in range(5):
        vault.put(f"s{i}", f"v{i}", "proj")
    assert vault.rotate_master_key() == "vault:novacron:v2"
    with pytest.raises(Conflict, match="still wraps 5"):
        retire_master_key(store, provider, "vault:novacron:v1")
    report = vault.rewrap(batch_size=2)
    assert (report.rewrapped, report.batches) == (5, 3)
    assert vault.key_usage() == {"vault:novacron:v2": 5}
    retire_master_key(store, provider, "vault:novacron:v1")
    assert fake_vault.keys["novacron"].min_decryption_version == 2
    assert [vault.get(f"s{i}", "proj") for i in range(5)] == [f"v{i}" for i in range(5)]


def test_a_record_left_on_a_retired_key_cannot_be_opened(tmp_path: Path) -> None:
    vault, _ = filled_vault(tmp_path, count=1)
    old = vault.provider.keyring().current_id
    vault.rotate_master_key()
    vault.provider.retire_key(old)  # bypassing the usage check, as an operator by hand might
    with pytest.raises(UnknownMasterKey, match=r"^secret p0/secret-00: sealed with master key"):
        vault.get("secret-00", "p0")
