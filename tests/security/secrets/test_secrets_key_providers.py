from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.security.secrets import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyProviderError,
    generate_env_value,
    open_sealed,
    provider_from_settings,
    seal,
)
from novacron.security.secrets.keys import parse_env_keys

AAD = b"record"
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(200, 232))).decode().rstrip("=")


# --- file provider --------------------------------------------------------------------


def test_file_provider_creates_a_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master-keys.json"
    provider = FileKeyProvider(path)
    ring = provider.keyring()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc["current"] == ring.current_id
    assert [k["id"] for k in doc["keys"]] == [ring.current_id]
    assert len(base64.b64decode(doc["keys"][0]["key"])) == 32
    assert not list(path.parent.glob("*.tmp"))


def test_file_provider_keeps_its_key_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "mk.json"
    sealed = seal(b"v", FileKeyProvider(path).keyring().current, AAD)
    assert open_sealed(sealed, FileKeyProvider(path).keyring(), AAD) == b"v"


def test_file_provider_created_under_a_permissive_umask_is_still_0600(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        FileKeyProvider(tmp_path / "mk.json").keyring()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "mk.json").stat().st_mode) == 0o600


def test_file_provider_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyProviderError, match="does not exist"):
        FileKeyProvider(tmp_path / "absent.json", create=False).keyring()
    assert not (tmp_path / "absent.json").exists()


def test_file_provider_add_and_retire(tmp_path: Path) -> None:
    path = tmp_path / "mk.json"
    provider = FileKeyProvider(path)
    first = provider.keyring().current_id
    old = seal(b"old", provider.keyring().current, AAD)
    second = provider.add_key()
    ring = provider.keyring()
    assert ring.current_id == second != first
    assert ring.key_ids == (first, second)
    assert open_sealed(old, ring, AAD) == b"old"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Another process (a fresh provider) sees the rotation.
    assert FileKeyProvider(path).keyring().current_id == second
    with pytest.raises(Conflict, match="current"):
        provider.retire_key(second)
    with pytest.raises(NotFound):
        provider.retire_key("mk-nope")
    provider.retire_key(first)
    assert provider.keyring().key_ids == (second,)


def test_file_provider_notices_changes_made_by_another_instance(tmp_path: Path) -> None:
    path = tmp_path / "mk.json"
    server, cli = FileKeyProvider(path), FileKeyProvider(path)
    server.keyring()
    new = cli.add_key()
    assert server.keyring().current_id == new


def test_file_provider_warns_about_a_readable_key_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mk.json"
    FileKeyProvider(path).keyring()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        FileKeyProvider(path).keyring()
    assert "should be 0600" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"current": "a"}', '"keys" list'),
        ('{"current": "a", "keys": [{"key": "x"}]}', "key 1 has no id"),
        ('{"current": "a", "keys": [{"id": "a", "key": "!!"}]}', "'a' is not valid base64"),
        ('{"current": "a", "keys": [{"id": "a", "key": "QUJD"}]}', "3 bytes"),
        (f'{{"current": "b", "keys": [{{"id": "a", "key": "{KEY_A}"}}]}}', "'b' is not in"),
    ],
)
def test_file_provider_reports_a_broken_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "mk.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyProviderError, match=message) as info:
        FileKeyProvider(path).keyring()
    assert KEY_A not in str(info.value)


# --- env provider ---------------------------------------------------------------------


def test_env_provider_first_key_is_current() -> None:
    provider = EnvKeyProvider(environ={"NOVACRON_MASTER_KEY": f"new:{KEY_B}, old:{KEY_A}"})
    ring = provider.keyring()
    assert ring.current_id == "new"
    assert ring.key_ids == ("new", "old")
    old = seal(
        b"x", EnvKeyProvider(environ={"NOVACRON_MASTER_KEY": f"old:{KEY_A}"}).keyring().current, AAD
    )
    assert open_sealed(old, ring, AAD) == b"x"
    assert KEY_A not in repr(provider) and KEY_B not in repr(provider)


def test_env_provider_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEYS", generate_env_value("vault:like:v1"))
    assert EnvKeyProvider("MY_KEYS").keyring().current_id == "vault:like:v1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, r"\$NOVACRON_MASTER_KEY is not set"),
        ("  ", r"\$NOVACRON_MASTER_KEY is not set"),
        (KEY_A, "entry 1 is not 'id:base64key'"),
        (f"a:{KEY_A},{KEY_B}", "entry 2 is not 'id:base64key'"),
        (f":{KEY_A}", "entry 1 is not 'id:base64key'"),
        (f"a:{KEY_A},", "entry 2 is not 'id:base64key'"),
        (f"bad id:{KEY_A}", "entry 1 has an invalid key id"),
        ("a:not*base64", "key 'a' is not valid base64"),
        ("a:QUJD", "key 'a' is 3 bytes; master keys must be 32 bytes"),
        (f"a:{KEY_A},a:{KEY_B}", "key id 'a' twice"),
    ],
)
def test_env_provider_parse_errors_are_clear(value: str | None, message: str) -> None:
    with pytest.raises(KeyProviderError, match=message) as info:
        parse_env_keys("NOVACRON_MASTER_KEY", value)
    assert KEY_A not in str(info.value) and KEY_B not in str(info.value)


def test_env_provider_is_read_only() -> None:
    provider = EnvKeyProvider(environ={"NOVACRON_MASTER_KEY": f"a:{KEY_A},b:{KEY_B}"})
    with pytest.raises(Conflict, match="managed outside"):
        provider.add_key()
    with pytest.raises(Conflict, match="remove 'b'"):
        provider.retire_key("b")


# --- factory --------------------------------------------------------------------------


def test_provider_from_settings(tmp_path: Path) -> None:
    file_provider = provider_from_settings("file", path=str(tmp_path / "mk.json"))
    assert isinstance(file_provider, FileKeyProvider)
    env_provider = provider_from_settings("env", environ={"NOVACRON_MASTER_KEY": f"a:{KEY_A}"})
    assert env_provider.keyring().current_id == "a"
    with pytest.raises(Invalid, match="unknown master key provider 'kms'"):
        provider_from_settings("kms")
    with pytest.raises(Invalid, match="no option") as info:
        provider_from_settings("file", path="x", pth="y")
    assert info.value.errors == [{"loc": ["pth"], "msg": "unknown option"}]
    with pytest.raises(Invalid, match="needs a path"):
        provider_from_settings("file")
    with pytest.raises(Invalid, match="needs a url"):
        provider_from_settings("vault", token="t")
