"""SqlSecretStore against a migrated SQLite database: the SecretStore contract
(compare-and-set, keyset paging, deletes), the key-usage GROUP BY, the project cascade,
and the vault and rotation running on it; plus the settings → key provider factory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.core.errors import Conflict, NotFound
from novacron.security.models import Project
from novacron.security.secrets import (
    EnvKeyProvider,
    FileKeyProvider,
    SecretRecord,
    SecretsVault,
    VaultKeyProvider,
    generate_env_value,
    key_usage,
)
from novacron.security.secrets.errors import KeyProviderError
from novacron.security.secrets.models import Secret
from novacron.security.secrets.sql_store import SqlSecretStore
from novacron.security.secrets.wiring import key_provider, secrets_vault_for


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('sqlstore') / 'n.db'}")
    database.upgrade()
    with database.session() as s:
        for pid in ("p1", "p2", "p3"):
            s.add(Project(id=pid, name=pid))
    yield database
    database.dispose()


@pytest.fixture
def store(db: Database) -> Iterator[SqlSecretStore]:
    with db.session() as s:
        s.execute(delete(Secret))
    yield SqlSecretStore(db)


@pytest.fixture
def vault(store: SqlSecretStore, tmp_path: Path) -> SecretsVault:
    return SecretsVault(store, FileKeyProvider(tmp_path / "keys.json"))


def test_vault_round_trip_stores_only_sealed_text(vault: SecretsVault, db: Database) -> None:
    info = vault.put("api/key", "plain-value-123", "p1", actor="alice")
    assert (info.revision, info.created_by, info.project) == (1, "alice", "p1")
    assert vault.get("api/key", "p1") == "plain-value-123"
    with db.read() as s:
        row = s.scalars(select(Secret)).one()
        assert row.sealed.startswith("nsec$1$") and "plain-value-123" not in row.sealed
        assert row.key_id == info.key_id and row.revision == 1 and row.created_by == "alice"
    again = vault.put("api/key", "second", "p1", actor="bob")
    assert again.revision == 2 and again.created_by == "alice"
    assert again.created_at == info.created_at and again.updated_at >= info.updated_at
    assert vault.get("api/key", "p1") == "second"
    info2, value = vault.reveal("api/key", "p1")
    assert info2 == again and value.reveal() == "second" and "second" not in repr(value)


def test_put_if_unchanged_is_compare_and_set(vault: SecretsVault, store: SqlSecretStore) -> None:
    vault.put("a", "value-a", "p1")
    record = store.get("p1", "a")
    assert record is not None and record.revision == 1
    moved = store.put_if_unchanged(replace(record, updated_at=utcnow()), 1)
    assert moved.revision == 2 and store.get("p1", "a") == moved
    with pytest.raises(Conflict, match="expected revision 1"):
        store.put_if_unchanged(record, 1)  # stale
    with pytest.raises(Conflict, match="now exists"):
        store.put_if_unchanged(record, None)  # a first write, but the name is taken
    assert store.get("p1", "a") == moved


def test_first_write_to_a_missing_project_is_not_found(
    vault: SecretsVault, store: SqlSecretStore
) -> None:
    vault.put("a", "value-a", "p1")
    record = store.get("p1", "a")
    assert record is not None
    with pytest.raises(NotFound, match="no project 'nowhere'"):
        store.put_if_unchanged(replace(record, project="nowhere"), None)


def test_list_records_pages_by_project_then_name(
    vault: SecretsVault, store: SqlSecretStore
) -> None:
    for project, name in [("p2", "b"), ("p1", "z"), ("p2", "a"), ("p1", "a/b"), ("p3", "m")]:
        vault.put(name, f"value-of-{name}", project)
    keys = [(r.project, r.name) for r in store.list_records(limit=100)]
    assert keys == [("p1", "a/b"), ("p1", "z"), ("p2", "a"), ("p2", "b"), ("p3", "m")]
    assert [(r.project, r.name) for r in store.list_records(after=("p1", "z"), limit=2)] == [
        ("p2", "a"),
        ("p2", "b"),
    ]
    assert [r.name for r in store.list_records(project="p2")] == ["a", "b"]
    assert [r.name for r in store.list_records(project="p2", after=("p2", "a"))] == ["b"]
    assert [i.name for i in vault.list("p1", after="a/b")] == ["z"]
    assert len(store) == 5


def test_delete_with_and_without_revision(vault: SecretsVault, store: SqlSecretStore) -> None:
    vault.put("a", "value-a", "p1")
    vault.put("a", "value-a2", "p1")
    with pytest.raises(Conflict):
        store.delete("p1", "a", expected_revision=1)
    assert store.get("p1", "a") is not None
    assert store.delete("p1", "a", expected_revision=2) is True
    assert store.delete("p1", "a") is False
    assert store.delete("p1", "a", expected_revision=3) is False
    with pytest.raises(NotFound):
        vault.delete("a", "p1")


def test_key_usage_groups_by_the_key_column_and_exact_reads_the_records(
    vault: SecretsVault, store: SqlSecretStore, db: Database
) -> None:
    vault.put("one", "value-1", "p1")
    vault.put("two", "value-2", "p2")
    first = vault.provider.keyring().current_id
    second = vault.rotate_master_key()
    vault.put("three", "value-3", "p1")
    assert store.count_by_key() == {first: 2, second: 1}
    assert vault.key_usage() == {first: 2, second: 1}
    # A key_id column out of step with the sealed text (say, a hand-edited row): the
    # fast count believes the column; retiring trusts only the records.
    with db.session() as s:
        s.execute(Secret.__table__.update().where(Secret.name == "one").values(key_id=second))
    assert key_usage(store) == {first: 1, second: 2}
    assert key_usage(store, exact=True) == {first: 2, second: 1}
    with pytest.raises(Conflict, match="still wraps 2"):
        vault.retire_master_key(first)


def test_rotation_on_sql_moves_every_record(vault: SecretsVault, store: SqlSecretStore) -> None:
    values = {(f"p{i % 3 + 1}", f"s{i}"): f"value-{i}" for i in range(7)}
    for (project, name), value in values.items():
        vault.put(name, value, project)
    old = vault.provider.keyring().current_id
    new = vault.rotate_master_key()
    report = vault.rewrap(batch_size=3)
    assert (report.scanned, report.rewrapped, report.batches, report.complete) == (7, 7, 3, True)
    assert {r.key_id for r in store.list_records()} == {new}
    assert store.count_by_key() == {new: 7}
    vault.retire_master_key(old)
    assert old not in vault.provider.keyring(refresh=True)
    for (project, name), value in values.items():
        assert vault.get(name, project) == value
    # Revisions moved with the rewrap, so a stale writer loses.
    assert {r.revision for r in store.list_records()} == {2}


def test_deleting_a_project_deletes_its_secrets(
    vault: SecretsVault, store: SqlSecretStore, db: Database
) -> None:
    with db.session() as s:
        s.add(Project(id="doomed", name="doomed"))
    vault.put("a", "value-a", "doomed")
    vault.put("a", "value-a", "p1")
    with db.session() as s:
        s.execute(delete(Project).where(Project.id == "doomed"))
    assert [(r.project, r.name) for r in store.list_records()] == [("p1", "a")]


def test_record_repr_shows_no_sealed_text(vault: SecretsVault, store: SqlSecretStore) -> None:
    vault.put("a", "value-a", "p1")
    record = store.get("p1", "a")
    assert isinstance(record, SecretRecord) and "nsec" not in repr(record)
    assert "nsec" not in repr(store)


# -- settings → provider -----------------------------------------------------------------


def test_file_provider_defaults_to_the_data_dir(tmp_path: Path) -> None:
    provider = key_provider(Settings(data_dir=tmp_path))
    assert isinstance(provider, FileKeyProvider)
    assert provider.path == tmp_path / "master-keys.json"
    elsewhere = key_provider(Settings(data_dir=tmp_path, secrets_key_file=tmp_path / "k.json"))
    assert isinstance(elsewhere, FileKeyProvider) and elsewhere.path == tmp_path / "k.json"


def test_env_provider_reads_the_configured_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEYS", generate_env_value("prod-1"))
    settings = Settings(
        data_dir=tmp_path, secrets_key_provider="env", secrets_master_key_var="MY_KEYS"
    )
    provider = key_provider(settings)
    assert isinstance(provider, EnvKeyProvider) and provider.keyring().current_id == "prod-1"
    monkeypatch.delenv("MY_KEYS")
    with pytest.raises(KeyProviderError, match=r"\$MY_KEYS is not set"):
        key_provider(settings)


def test_vault_provider_takes_url_key_and_mount(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secrets_key_provider="vault",
        secrets_vault_url="http://127.0.0.1:1",
        secrets_vault_token="s.not-a-real-token",
        secrets_vault_key="nc-keys",
        secrets_vault_mount="transit2",
    )
    provider = key_provider(settings)
    assert isinstance(provider, VaultKeyProvider)
    assert (provider.key_name, provider.mount_point) == ("nc-keys", "transit2")
    assert "s.not-a-real-token" not in repr(provider)


def test_the_vault_is_built_once_per_app(db: Database, tmp_path: Path) -> None:
    app = SimpleNamespace(state=SimpleNamespace(db=db, settings=Settings(data_dir=tmp_path)))
    first = secrets_vault_for(app)
    assert secrets_vault_for(app) is first
    assert isinstance(first.store, SqlSecretStore) and first.mask_filter is not None
    other = SimpleNamespace(state=SimpleNamespace(db=db, settings=Settings(data_dir=tmp_path)))
    assert secrets_vault_for(other) is not first
    assert secrets_vault_for(other).mask_filter is first.mask_filter  # one per process
