from __future__ import annotations

import base64
import logging
import pickle
from datetime import datetime, timedelta

import pytest

from novacron.core.errors import Invalid, NotFound
from novacron.security.secrets import (
    EnvKeyProvider,
    InMemorySecretStore,
    SecretCorrupt,
    SecretMaskingFilter,
    SecretRecord,
    SecretStr,
    SecretsVault,
)

KEYS = {"NOVACRON_MASTER_KEY": "k1:" + base64.b64encode(b"K" * 32).decode()}
VALUE = "s3cr3t-Value-42"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def vault() -> SecretsVault:
    return SecretsVault(InMemorySecretStore(), EnvKeyProvider(environ=KEYS), clock=Clock())


def test_put_get_round_trip(vault: SecretsVault) -> None:
    info = vault.put("db/password", VALUE, project="web")
    assert (info.project, info.name, info.key_id, info.revision) == ("web", "db/password", "k1", 1)
    assert vault.get("db/password", "web") == VALUE
    assert vault.get_secret("db/password", "web").reveal() == VALUE
    record = vault.store.get("web", "db/password")
    assert record is not None and VALUE not in record.sealed


def test_put_replaces_and_keeps_created_at(vault: SecretsVault) -> None:
    first = vault.put("api", "one", "web")
    second = vault.put("api", SecretStr("two"), "web")
    assert vault.get("api", "web") == "two"
    assert second.revision == 2
    assert second.created_at == first.created_at < second.updated_at


def test_projects_are_separate(vault: SecretsVault) -> None:
    vault.put("token", "for-web", "web")
    vault.put("token", "for-ops", "ops")
    assert vault.get("token", "web") == "for-web"
    assert vault.get("token", "ops") == "for-ops"
    with pytest.raises(NotFound):
        vault.get("token", "other")


def test_a_record_copied_to_another_name_does_not_open(vault: SecretsVault) -> None:
    vault.put("a", VALUE, "web")
    vault.put("b", "decoy", "web")
    a, b = vault.store.get("web", "a"), vault.store.get("web", "b")
    assert a is not None and b is not None
    vault.store.put_if_unchanged(SecretRecord(**{**b.__dict__, "sealed": a.sealed}), b.revision)
    with pytest.raises(SecretCorrupt, match=r"^secret web/b: ") as info:
        vault.get("b", "web")
    assert VALUE not in str(info.value)
    assert info.value.problem()["detail"].startswith("secret web/b: ")


def test_list_shows_metadata_never_values(vault: SecretsVault) -> None:
    for name in ("c", "a", "b"):
        vault.put(name, f"{VALUE}-{name}", "web")
    vault.put("x", VALUE, "ops")
    listed = vault.list("web")
    assert [i.name for i in listed] == ["a", "b", "c"]
    assert [i.name for i in vault.list("web", after="a", limit=1)] == ["b"]
    assert VALUE not in repr(listed)
    assert all(not hasattr(i, "value") for i in listed)
    with pytest.raises(Invalid):
        vault.list("web", limit=0)


def test_delete(vault: SecretsVault) -> None:
    vault.put("a", VALUE, "web")
    vault.delete("a", "web")
    with pytest.raises(NotFound):
        vault.get("a", "web")
    with pytest.raises(NotFound):
        vault.delete("a", "web")


@pytest.mark.parametrize(
    ("name", "project", "loc"),
    [
        ("", "web", "name"),
        ("a b", "web", "name"),
        ("a\x00", "web", "name"),
        ("/a", "web", "name"),
        ("a", "", "project"),
        ("a", "we/b", "project"),
        ("x" * 129, "web", "name"),
    ],
)
def test_names_are_validated(vault: SecretsVault, name: str, project: str, loc: str) -> None:
    with pytest.raises(Invalid) as info:
        vault.put(name, VALUE, project)
    assert [e["loc"] for e in info.value.errors] == [[loc]]
    assert VALUE not in str(info.value)


def test_oversized_value_is_refused_without_echoing_it(vault: SecretsVault) -> None:
    big = "Z" * (64 * 1024 + 1)
    with pytest.raises(Invalid, match="65537 bytes") as info:
        vault.put("big", big, "web")
    assert "ZZZZ" not in str(info.value)


def test_reprs_never_show_secrets(vault: SecretsVault) -> None:
    vault.put("a", VALUE, "web")
    secret = vault.get_secret("a", "web")
    record = vault.store.get("web", "a")
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>20}",
        repr(vault),
        repr(vault.provider),
        repr(vault.provider.keyring()),
        repr(record),
        repr(vault.info("a", "web")),
        repr([secret]),
        repr({"k": secret}),
    ]
    for text in shown:
        assert VALUE not in text
        assert base64.b64encode(b"K" * 32).decode() not in text
    assert "**********" in repr(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_secret_str_compares_by_value() -> None:
    assert SecretStr("abc") == SecretStr("abc")
    assert SecretStr("abc") != SecretStr("abd")
    assert SecretStr(SecretStr("abc")).reveal() == "abc"
    assert len(SecretStr("abcd")) == 4 and not SecretStr("")


def test_values_passing_through_the_vault_are_masked_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mask = SecretMaskingFilter()
    vault = SecretsVault(InMemorySecretStore(), EnvKeyProvider(environ=KEYS), mask_filter=mask)
    vault.put("a", VALUE, "web")
    vault.store.put_if_unchanged(  # a value written by another replica, seen only on read
        SecretRecord(
            "web", "b", _sealed_elsewhere(vault), 0, datetime(2024, 1, 1), datetime(2024, 1, 1)
        ),
        None,
    )
    other = vault.get("b", "web")
    logger = logging.getLogger("novacron.test.secrets")
    caplog.handler.addFilter(mask)
    with caplog.at_level(logging.INFO, logger="novacron.test.secrets"):
        logger.info("connecting with %s and %s", VALUE, other)
    assert VALUE not in caplog.text and other not in caplog.text
    assert "connecting with ********** and **********" in caplog.text


def _sealed_elsewhere(vault: SecretsVault) -> str:
    from novacron.security.secrets import record_aad, seal

    return seal(
        b"other-replica-value", vault.provider.keyring().current, record_aad("web", "b")
    ).dumps()
