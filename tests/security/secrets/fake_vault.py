"""A fake HashiCorp Vault: just the Transit endpoints hvac calls, over real HTTP.

Serves on 127.0.0.1 with token auth (``X-Vault-Token``); keys are real AES-256-GCM
keys, ciphertexts look like Vault's (``vault:v<N>:<base64(nonce|ct|tag)>``) and honour
``associated_data``, ``key_version`` and ``min_decryption_version`` as Vault does.

    POST /v1/<mount>/keys/<name>            create
    GET  /v1/<mount>/keys/<name>            read (versions, latest, min_decryption_version)
    POST /v1/<mount>/keys/<name>/rotate     new version
    POST /v1/<mount>/keys/<name>/config     min_decryption_version
    POST /v1/<mount>/encrypt/<name>         upserts the key, like Vault with create rights
    POST /v1/<mount>/decrypt/<name>
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass
class FakeTransitKey:
    versions: dict[int, bytes] = field(default_factory=dict)
    created: dict[int, int] = field(default_factory=dict)
    min_decryption_version: int = 1

    def rotate(self) -> None:
        version = max(self.versions, default=0) + 1
        self.versions[version] = AESGCM.generate_key(bit_length=256)
        self.created[version] = int(time.time())

    @property
    def latest(self) -> int:
        return max(self.versions)


class _VaultError(Exception):
    def __init__(self, status: int, *errors: str) -> None:
        super().__init__(*errors)
        self.status = status
        self.errors = list(errors)


_ROUTE = re.compile(
    r"^/v1/(?P<mount>[^/]+)/(?P<op>keys|encrypt|decrypt)/(?P<name>[^/]+)(?P<tail>/rotate|/config)?$"
)


class FakeVault:
    def __init__(self, token: str = "s.fake-root-token", mount: str = "transit") -> None:
        self.token = token
        self.mount = mount
        self.keys: dict[str, FakeTransitKey] = {}
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request, authorised or not."""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeVault:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # request handling, called from the server's threads

    def handle(
        self, method: str, path: str, token: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            self.requests.append((method, path))
            if token != self.token:
                return 403, {"errors": ["permission denied"]}
            match = _ROUTE.match(path)
            if not match or match["mount"] != self.mount:
                return 404, {"errors": [f"no handler for route {path!r}"]}
            try:
                return self._dispatch(method, match["op"], match["name"], match["tail"], body)
            except _VaultError as exc:
                return exc.status, {"errors": exc.errors}

    def _dispatch(
        self, method: str, op: str, name: str, tail: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        if op == "keys" and tail is None and method == "POST":
            if name not in self.keys:
                self.keys[name] = FakeTransitKey()
                self.keys[name].rotate()
            return 204, None
        if op == "keys" and tail is None and method == "GET":
            key = self._key(name)
            return 200, {
                "data": {
                    "name": name,
                    "type": "aes256-gcm96",
                    "latest_version": key.latest,
                    "min_decryption_version": key.min_decryption_version,
                    "min_encryption_version": 0,
                    "keys": {
                        str(v): t for v, t in key.created.items() if v >= key.min_decryption_version
                    },
                }
            }
        if op == "keys" and tail == "/rotate" and method == "POST":
            self._key(name).rotate()
            return 204, None
        if op == "keys" and tail == "/config" and method == "POST":
            key = self._key(name)
            floor = int(body.get("min_decryption_version", key.min_decryption_version))
            if not 1 <= floor <= key.latest:
                raise _VaultError(
                    400, "min decryption version should not be less then 1 or greater than latest"
                )
            key.min_decryption_version = floor
            return 204, None
        if op == "encrypt" and method == "POST":
            if name not in self.keys:
                self.keys[name] = FakeTransitKey()
                self.keys[name].rotate()
            return 200, {"data": self._encrypt(self.keys[name], body)}
        if op == "decrypt" and method == "POST":
            return 200, {"data": self._decrypt(self._key(name), body)}
        raise _VaultError(405, "unsupported operation")

    def _key(self, name: str) -> FakeTransitKey:
        if name not in self.keys:
            raise _VaultError(404)
        return self.keys[name]

    def _encrypt(self, key: FakeTransitKey, body: dict[str, Any]) -> dict[str, Any]:
        version = int(body.get("key_version") or key.latest)
        if version not in key.versions or version < key.min_decryption_version:
            raise _VaultError(400, "invalid key version")
        plaintext = _b64(body.get("plaintext"), "plaintext")
        aad = _b64(body.get("associated_data") or "", "associated_data")
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(key.versions[version]).encrypt(nonce, plaintext, aad or None)
        ciphertext = f"vault:v{version}:" + base64.b64encode(sealed).decode()
        return {"ciphertext": ciphertext, "key_version": version}

    def _decrypt(self, key: FakeTransitKey, body: dict[str, Any]) -> dict[str, Any]:
        match = re.fullmatch(r"vault:v(\d+):(.+)", str(body.get("ciphertext", "")))
        if not match:
            raise _VaultError(400, "invalid ciphertext: no prefix")
        version = int(match[1])
        if version < key.min_decryption_version:
            raise _VaultError(
                400, "ciphertext or signature version is disallowed by policy (too old)"
            )
        if version not in key.versions:
            raise _VaultError(400, "invalid key version")
        raw = _b64(match[2], "ciphertext")
        aad = _b64(body.get("associated_data") or "", "associated_data")
        try:
            plaintext = AESGCM(key.versions[version]).decrypt(raw[:12], raw[12:], aad or None)
        except (InvalidTag, ValueError):
            raise _VaultError(400, "cipher: message authentication failed") from None
        return {"plaintext": base64.b64encode(plaintext).decode()}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        vault = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                status, payload = vault.handle(
                    self.command, self.path, self.headers.get("X-Vault-Token"), body or {}
                )
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _b64(value: Any, field_name: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise _VaultError(400, f"failed to base64-decode {field_name}") from None
