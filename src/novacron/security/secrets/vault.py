"""Master keys in HashiCorp Vault's Transit engine, reached through hvac.

The master key never leaves Vault: each DEK is sent to ``transit/encrypt/<key>`` and
comes back as ``vault:vN:…``, which is what the record stores as its wrapped DEK.
Each Transit key *version* is one key in our keyring, with id ``vault:<key>:vN``:

- ``add_key`` is ``transit/keys/<key>/rotate`` (a new version becomes current);
- ``retire_key`` raises the key's ``min_decryption_version``, which is how Vault
  retires versions — oldest first, so only the oldest live version can be retired.

The keyring (which versions exist) is cached for ``cache_ttl_s``; a record naming a
version we have not seen makes the caller refresh it (another replica rotated).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
from typing import Any

import hvac
import requests
from hvac import exceptions as hvac_errors

from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.security.secrets.errors import KeyProviderError, SecretCorrupt
from novacron.security.secrets.keyring import Keyring

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_KEY_ID = re.compile(r"^vault:(?P<name>[A-Za-z0-9_-]+):v(?P<version>[1-9][0-9]*)$")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class VaultKey:
    """One version of a Transit key; wraps and unwraps through Vault."""

    def __init__(self, provider: VaultKeyProvider, version: int) -> None:
        self._provider = provider
        self.version = version

    @property
    def key_id(self) -> str:
        return f"vault:{self._provider.key_name}:v{self.version}"

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        data = self._provider._call(
            "encrypt",
            lambda t: t.encrypt_data(
                self._provider.key_name,
                plaintext=_b64(dek),
                key_version=self.version,
                associated_data=_b64(aad),
                mount_point=self._provider.mount_point,
            ),
        )
        ciphertext = str(data.get("ciphertext", ""))
        if not ciphertext.startswith(f"vault:v{self.version}:"):
            raise KeyProviderError(
                f"Vault wrapped a data key with an unexpected version of {self.key_id}"
            )
        return ciphertext.encode()

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        try:
            ciphertext = wrapped.decode("ascii")
        except UnicodeDecodeError:
            raise SecretCorrupt("wrapped data key is not a Vault ciphertext") from None
        # Vault picks the version from the ciphertext; insist it is the one the record names.
        if not ciphertext.startswith(f"vault:v{self.version}:"):
            raise SecretCorrupt(f"wrapped data key does not belong to {self.key_id}")
        data = self._provider._call(
            "decrypt",
            lambda t: t.decrypt_data(
                self._provider.key_name,
                ciphertext=ciphertext,
                associated_data=_b64(aad),
                mount_point=self._provider.mount_point,
            ),
        )
        try:
            return base64.b64decode(str(data.get("plaintext", "")), validate=True)
        except (binascii.Error, ValueError):
            raise SecretCorrupt("Vault returned a data key that is not base64") from None

    def __repr__(self) -> str:
        return f"VaultKey(key_id={self.key_id!r})"


class VaultKeyProvider:
    kind = "vault"

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        key_name: str = "novacron",
        mount_point: str = "transit",
        *,
        create: bool = True,
        verify: bool | str = True,
        timeout: float = 10.0,
        cache_ttl_s: float = 60.0,
        client: Any = None,
    ) -> None:
        if not _NAME.match(key_name):
            raise Invalid(
                f"invalid Transit key name {key_name[:70]!r}",
                errors=[{"loc": ["key_name"], "msg": "letters, digits, '_' or '-'"}],
            )
        self.url = url or (client.url if client is not None else "")
        self.key_name = key_name
        self.mount_point = mount_point
        self._create = create
        self._cache_ttl_s = cache_ttl_s
        self._client = client or hvac.Client(url=url, token=token, verify=verify, timeout=timeout)
        self._cached: tuple[float, Keyring] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # No token, ever.
        return f"VaultKeyProvider(url={self.url!r}, key={self.mount_point}/{self.key_name})"

    # KeyProvider

    def keyring(self, *, refresh: bool = False) -> Keyring:
        with self._lock:
            cached = self._cached
            if cached and not refresh and time.monotonic() - cached[0] < self._cache_ttl_s:
                return cached[1]
            ring = self._load()
            self._cached = (time.monotonic(), ring)
            return ring

    def add_key(self) -> str:
        self.keyring()  # creates the Transit key if needed
        self._call("rotate", lambda t: t.rotate_key(self.key_name, mount_point=self.mount_point))
        ring = self.keyring(refresh=True)
        log.info("Transit key %s rotated; %s is current", self.key_name, ring.current_id)
        return ring.current_id

    def retire_key(self, key_id: str) -> None:
        match = _KEY_ID.match(key_id)
        ring = self.keyring(refresh=True)
        if not match or match["name"] != self.key_name or key_id not in ring:
            raise NotFound(f"no live master key {key_id!r} in Vault key {self.key_name}")
        if key_id == ring.current_id:
            raise Conflict(f"master key {key_id!r} is current; rotate before retiring")
        version = int(match["version"])
        oldest = min(_version(k) for k in ring.key_ids)
        if version != oldest:
            raise Conflict(
                "Vault retires key versions oldest first; "
                f"retire vault:{self.key_name}:v{oldest} first"
            )
        self._call(
            "config",
            lambda t: t.update_key_configuration(
                self.key_name, min_decryption_version=version + 1, mount_point=self.mount_point
            ),
        )
        self.keyring(refresh=True)
        log.info("master key %s retired (min_decryption_version=%d)", key_id, version + 1)

    # internals

    def _load(self) -> Keyring:
        try:
            data = self._call(
                "read", lambda t: t.read_key(self.key_name, mount_point=self.mount_point)
            )
        except NotFound:
            if not self._create:
                raise KeyProviderError(
                    f"Transit key {self.mount_point}/{self.key_name} does not exist in Vault"
                ) from None
            self._call(
                "create",
                lambda t: t.create_key(
                    self.key_name, key_type="aes256-gcm96", mount_point=self.mount_point
                ),
            )
            log.warning("created Transit key %s/%s in Vault", self.mount_point, self.key_name)
            data = self._call(
                "read", lambda t: t.read_key(self.key_name, mount_point=self.mount_point)
            )
        try:
            latest = int(data["latest_version"])
            floor = max(int(data.get("min_decryption_version") or 1), 1)
            versions = sorted(int(v) for v in data["keys"] if floor <= int(v) <= latest)
        except (KeyError, TypeError, ValueError):
            raise KeyProviderError(
                f"Vault returned an unexpected description of key {self.key_name}"
            ) from None
        if latest not in versions:
            raise KeyProviderError(f"Vault key {self.key_name} has no usable latest version")
        return Keyring([VaultKey(self, v) for v in versions], f"vault:{self.key_name}:v{latest}")

    def _call(self, what: str, fn: Any) -> dict[str, Any]:
        """Run one Transit request; map hvac's errors to ours (never echoing payloads)."""
        where = f"Vault {self.mount_point}/{self.key_name} ({what})"
        try:
            response = fn(self._client.secrets.transit)
        except hvac_errors.InvalidPath:
            raise NotFound(f"{where}: not found") from None
        except hvac_errors.InvalidRequest as exc:
            if what == "decrypt":
                raise SecretCorrupt(
                    f"{where} refused to unwrap the data key: {_vault_reason(exc)}"
                ) from None
            raise KeyProviderError(f"{where} rejected the request: {_vault_reason(exc)}") from None
        except (hvac_errors.Unauthorized, hvac_errors.Forbidden):
            raise KeyProviderError(
                f"{where}: permission denied (check the Vault token and policy)"
            ) from None
        except hvac_errors.VaultError as exc:
            raise KeyProviderError(f"{where} failed: {_vault_reason(exc)}") from None
        except requests.RequestException as exc:
            raise KeyProviderError(
                f"{where}: cannot reach {self.url} ({type(exc).__name__})"
            ) from None
        if isinstance(response, dict):
            return dict(response.get("data") or {})
        return {}  # 204 No Content (rotate, config, create on older Vaults)


def _version(key_id: str) -> int:
    match = _KEY_ID.match(key_id)
    return int(match["version"]) if match else 0


def _vault_reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    text = "; ".join(str(e) for e in errors) if isinstance(errors, list) else type(exc).__name__
    return text[:200]
