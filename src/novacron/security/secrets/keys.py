"""Where master keys come from: a key file, an environment variable, or Vault Transit.

Every provider hands out a ``Keyring`` (one current key plus older ones that still
unwrap) and, where it owns its keys, can add a new current key and retire an old one.

    FileKeyProvider(path)   JSON key file, created 0600 with one random key if absent
    EnvKeyProvider(var)     NOVACRON_MASTER_KEY="id1:base64,id2:base64"; the first is
                            current (as in Fernet's MultiFernet); read-only
    VaultKeyProvider(...)   Vault Transit wraps each DEK; keys never leave Vault
                            (in ``vault.py``)

``provider_from_settings(kind, **options)`` builds one from configuration.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from novacron.core.clock import isoformat, utcnow
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.ids import new_id
from novacron.security.secrets.errors import KeyProviderError
from novacron.security.secrets.keyring import (
    KEY_BYTES,
    Keyring,
    LocalKey,
    new_key_material,
    validate_key_id,
)
from novacron.security.secrets.vault import VaultKeyProvider

log = logging.getLogger(__name__)

DEFAULT_ENV_VAR = "NOVACRON_MASTER_KEY"


class KeyProvider(Protocol):
    kind: str

    def keyring(self, *, refresh: bool = False) -> Keyring:
        """The keys now; ``refresh`` skips any cache (another replica may have rotated)."""
        ...

    def add_key(self) -> str:
        """Create a master key, make it current, return its id. Old keys keep unwrapping."""
        ...

    def retire_key(self, key_id: str) -> None:
        """Forget a non-current key. Callers check no record still uses it (rotation.py)."""
        ...


def _b64decode_key(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not; strict about stray characters."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def encode_key(material: bytes) -> str:
    return base64.b64encode(material).decode()


# --- file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _FileState:
    stamp: tuple[int, int, int]
    keyring: Keyring


class FileKeyProvider:
    """Master keys in a JSON file readable by its owner only.

    ``{"current": "mk-…", "keys": [{"id": "mk-…", "key": "<base64>", "created_at": "…"}]}``

    Changes are written to a temporary file and renamed over the old one under an
    ``flock``, so concurrent processes on one host never see half a file or lose a key.
    The file is re-read when it changes on disk, so a rotation by the CLI is seen by a
    running server without restart.
    """

    kind = "file"

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        self._create = create
        self._state: _FileState | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"FileKeyProvider(path={str(self.path)!r})"

    def keyring(self, *, refresh: bool = False) -> Keyring:
        with self._mutex:
            if not self.path.exists():
                if not self._create:
                    raise KeyProviderError(f"master key file {self.path} does not exist")
                self._create_file()
            stamp = self._stamp()
            if refresh or self._state is None or self._state.stamp != stamp:
                self._state = _FileState(stamp, self._parse(self._read()))
            return self._state.keyring

    def add_key(self) -> str:
        key_id = new_id("mk")
        with self._locked():
            doc = self._read()
            doc["keys"].append(_key_entry(key_id, new_key_material()))
            doc["current"] = key_id
            self._parse(doc)
            self._write(doc)
        log.info("master key %s added to %s and made current", key_id, self.path)
        return key_id

    def retire_key(self, key_id: str) -> None:
        with self._locked():
            doc = self._read()
            if doc.get("current") == key_id:
                raise Conflict(f"master key {key_id!r} is current; add a new key before retiring")
            kept = [k for k in doc["keys"] if k.get("id") != key_id]
            if len(kept) == len(doc["keys"]):
                raise NotFound(f"no master key {key_id!r} in {self.path}")
            doc["keys"] = kept
            self._write(doc)
        log.info("master key %s retired from %s", key_id, self.path)

    # internals

    def _stamp(self) -> tuple[int, int, int]:
        st = self.path.stat()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _create_file(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_id = new_id("mk")
        doc = {"current": key_id, "keys": [_key_entry(key_id, new_key_material())]}
        tmp = self._tmp_path()
        _write_private(tmp, doc)
        try:
            # link() fails if another process created the file first: theirs wins, no clobbering.
            os.link(tmp, self.path)
            log.warning(
                "created master key file %s; back it up: secrets are lost without it", self.path
            )
        except FileExistsError:
            pass
        except OSError:
            # No hard links here (some network and FUSE filesystems): exclusive create.
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd, "w") as f:
                f.write(tmp.read_text())
        finally:
            tmp.unlink(missing_ok=True)

    def _read(self) -> dict[str, Any]:
        try:
            mode = self.path.stat().st_mode & 0o777
            text = self.path.read_text()
        except FileNotFoundError:
            raise KeyProviderError(f"master key file {self.path} does not exist") from None
        except OSError as exc:
            raise KeyProviderError(
                f"cannot read master key file {self.path}: {exc.strerror}"
            ) from None
        if mode & 0o077:
            # Warn rather than refuse: mounted secrets (e.g. Kubernetes) are often 0644.
            log.warning("master key file %s has mode %o; it should be 0600", self.path, mode)
        try:
            doc = json.loads(text)
        except ValueError:
            raise KeyProviderError(f"master key file {self.path} is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise KeyProviderError(f'master key file {self.path} has no "keys" list')
        return doc

    def _parse(self, doc: Mapping[str, Any]) -> Keyring:
        keys = []
        for i, entry in enumerate(doc["keys"], 1):
            key_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(key_id, str):
                raise KeyProviderError(f"master key file {self.path}: key {i} has no id")
            try:
                keys.append(LocalKey(key_id, _b64decode_key(str(entry.get("key", "")))))
            except (binascii.Error, ValueError):
                raise KeyProviderError(
                    f"master key file {self.path}: key {key_id!r} is not valid base64"
                ) from None
            except Invalid as exc:
                raise KeyProviderError(f"master key file {self.path}: {exc.detail}") from None
        try:
            return Keyring(keys, str(doc.get("current")))
        except Invalid as exc:
            raise KeyProviderError(f"master key file {self.path}: {exc.detail}") from None

    def _write(self, doc: Mapping[str, Any]) -> None:
        tmp = self._tmp_path()
        _write_private(tmp, doc)
        os.replace(tmp, self.path)

    def _tmp_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.keyring()  # creates the file if needed
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._mutex:
                yield
        finally:
            os.close(fd)


def _key_entry(key_id: str, material: bytes) -> dict[str, str]:
    return {"id": key_id, "key": encode_key(material), "created_at": isoformat(utcnow()) or ""}


def _write_private(path: Path, doc: Mapping[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)  # O_CREAT's mode is only used for new files and is umasked


# --- environment ----------------------------------------------------------------------


class EnvKeyProvider:
    """Keys from ``id:base64,id:base64`` in an environment variable; the first is current.

    To rotate: put the new key first, keep the old ones after it, restart; run
    ``rewrap``; then drop the old keys from the variable. The variable is parsed once,
    at construction, so a bad value fails at startup with a message that names the
    entry but never echoes key material.
    """

    kind = "env"

    def __init__(self, var: str = DEFAULT_ENV_VAR, *, environ: Mapping[str, str] | None = None):
        self.var = var
        value = (os.environ if environ is None else environ).get(var)
        self._keyring = parse_env_keys(var, value)

    def __repr__(self) -> str:
        return f"EnvKeyProvider(var={self.var!r}, keys={list(self._keyring.key_ids)!r})"

    def keyring(self, *, refresh: bool = False) -> Keyring:
        return self._keyring

    def add_key(self) -> str:
        raise Conflict(
            f"master keys from ${self.var} are managed outside NovaCron: put a new "
            "'id:base64' entry first in the variable and restart"
        )

    def retire_key(self, key_id: str) -> None:
        raise Conflict(
            f"master keys from ${self.var} are managed outside NovaCron: remove "
            f"{key_id!r} from the variable and restart"
        )


def parse_env_keys(var: str, value: str | None) -> Keyring:
    if value is None or not value.strip():
        raise KeyProviderError(
            f"${var} is not set; expected 'id:base64key[,id:base64key…]' with 32-byte keys"
        )
    keys: list[LocalKey] = []
    for i, raw in enumerate(value.split(","), 1):
        entry = raw.strip()
        key_id, sep, encoded = entry.rpartition(":")
        # Positions, not contents, in messages: a malformed entry may be a bare key.
        if not sep or not key_id:
            raise KeyProviderError(f"${var} entry {i} is not 'id:base64key'")
        try:
            validate_key_id(key_id)
        except Invalid:
            raise KeyProviderError(
                f"${var} entry {i} has an invalid key id: use letters, digits, '_', '.', ':' or '-'"
            ) from None
        try:
            material = _b64decode_key(encoded)
        except (binascii.Error, ValueError):
            raise KeyProviderError(f"${var} key {key_id!r} is not valid base64") from None
        if len(material) != KEY_BYTES:
            raise KeyProviderError(
                f"${var} key {key_id!r} is {len(material)} bytes; master keys must be "
                f"{KEY_BYTES} bytes (e.g. `openssl rand -base64 32`)"
            )
        if any(k.key_id == key_id for k in keys):
            raise KeyProviderError(f"${var} has key id {key_id!r} twice")
        keys.append(LocalKey(key_id, material))
    return Keyring(keys, keys[0].key_id)


def generate_env_value(key_id: str = "k1") -> str:
    """A fresh ``id:base64`` entry for NOVACRON_MASTER_KEY."""
    return f"{validate_key_id(key_id)}:{encode_key(new_key_material())}"


# --- factory --------------------------------------------------------------------------

_OPTIONS: dict[str, set[str]] = {
    "file": {"path", "create"},
    "env": {"var", "environ"},
    "vault": {
        "url",
        "token",
        "key_name",
        "mount_point",
        "create",
        "verify",
        "timeout",
        "cache_ttl_s",
        "client",
    },
}


def provider_from_settings(kind: str, **options: Any) -> KeyProvider:
    """``kind`` is ``file`` (path), ``env`` (var) or ``vault`` (url, token, key_name, …)."""
    if kind not in _OPTIONS:
        raise Invalid(
            f"unknown master key provider {kind!r}; choose one of {', '.join(sorted(_OPTIONS))}",
            errors=[{"loc": ["kind"], "msg": "unknown provider"}],
        )
    unknown = sorted(set(options) - _OPTIONS[kind])
    if unknown:
        raise Invalid(
            f"the {kind} key provider has no option(s) {', '.join(unknown)}",
            errors=[{"loc": [name], "msg": "unknown option"} for name in unknown],
        )
    if kind == "file":
        if not options.get("path"):
            raise Invalid(
                "the file key provider needs a path", errors=[{"loc": ["path"], "msg": "required"}]
            )
        return FileKeyProvider(**options)
    if kind == "env":
        return EnvKeyProvider(**options)
    if not options.get("url") and not options.get("client"):
        raise Invalid(
            "the vault key provider needs a url", errors=[{"loc": ["url"], "msg": "required"}]
        )
    return VaultKeyProvider(**options)
