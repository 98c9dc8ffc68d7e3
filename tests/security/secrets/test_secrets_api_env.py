"""A server whose master keys come from ``$NOVACRON_MASTER_KEY`` (``secrets_key_provider
= "env"``): secrets round-trip, the keys cannot be changed through the API, and the
documented rotation works — new key first in the variable, restart, rewrap, drop the old.

The server runs in this process (a thread), so the variable is set in ``os.environ`` for
the module and restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from secretsapi_helpers import data_files_bytes

from novacron.security.secrets import generate_env_value
from novacron.testing.cluster import Cluster

VAR = "NOVACRON_MASTER_KEY"
K1, K2 = generate_env_value("k1"), generate_env_value("k2")


@dataclass
class EnvServer:
    data_dir: Path
    cluster: Cluster

    @property
    def api(self) -> httpx.Client:
        return self.cluster.api

    def restart(self, keys: str) -> None:
        """Stop, change the variable, start again on the same data directory."""
        self.cluster.stop()
        os.environ[VAR] = keys
        self.cluster = start(self.data_dir)


def start(data_dir: Path) -> Cluster:
    return Cluster.start(data_dir, None, with_agent=False, secrets_key_provider="env")


@pytest.fixture(scope="module")
def env_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    saved = os.environ.get(VAR)
    os.environ[VAR] = K1
    data_dir = tmp_path_factory.mktemp("secrets-env")
    server = EnvServer(data_dir, start(data_dir))
    try:
        yield server
    finally:
        server.cluster.stop()
        if saved is None:
            os.environ.pop(VAR, None)
        else:
            os.environ[VAR] = saved


def reveal(api: httpx.Client, name: str) -> str:
    resp = api.get(f"/secrets/{name}", params={"reveal": "true"})
    assert resp.status_code == 200, resp.text
    value: str = resp.json()["value"]
    return value


def test_env_keys_seal_secrets_and_are_managed_outside(env_server: EnvServer) -> None:
    api = env_server.api
    put = api.put("/secrets/smtp", json={"value": "env-sealed-password"})
    assert put.status_code == 200, put.text
    assert put.json()["key_id"] == "k1"
    assert reveal(api, "smtp") == "env-sealed-password"
    keys = api.get("/security/keys").json()
    assert keys["provider"] == "env" and keys["current"] == "k1"
    assert keys["keys"] == [{"id": "k1", "current": True, "secrets": 1, "in_keyring": True}]
    # The keys live in the variable: rotating or retiring through the API is refused.
    rotate = api.post("/security/keys/rotate")
    assert rotate.status_code == 409 and VAR in rotate.json()["detail"]
    assert api.delete("/security/keys/k1").status_code == 409
    assert not (env_server.data_dir / "master-keys.json").exists()
    # The key material is in the environment only, never in the data directory.
    material = K1.split(":", 1)[1].encode()
    assert all(
        material not in p.read_bytes() for p in env_server.data_dir.rglob("*") if p.is_file()
    )
    assert b"env-sealed-password" not in data_files_bytes(env_server.data_dir)


def test_rotation_by_restarting_with_a_new_first_key(env_server: EnvServer) -> None:
    env_server.api.put("/secrets/before", json={"value": "sealed under k1"})
    env_server.restart(f"{K2},{K1}")
    api = env_server.api
    assert reveal(api, "before") == "sealed under k1"  # k1 still unwraps
    assert api.put("/secrets/after", json={"value": "sealed under k2"}).json()["key_id"] == "k2"
    keys = {k["id"]: k for k in api.get("/security/keys").json()["keys"]}
    assert keys["k2"]["current"] and keys["k1"]["secrets"] >= 1

    report = api.post("/security/keys/rewrap").json()
    assert report["complete"] and report["current_key"] == "k2" and report["rewrapped"] >= 1
    keys = {k["id"]: k for k in api.get("/security/keys").json()["keys"]}
    assert keys["k1"]["secrets"] == 0

    env_server.restart(K2)  # k1 dropped from the variable
    api = env_server.api
    assert reveal(api, "before") == "sealed under k1"
    assert reveal(api, "after") == "sealed under k2"
    assert [k["id"] for k in api.get("/security/keys").json()["keys"]] == ["k2"]
