"""The provider's discovery document and signing keys (JWKS), fetched and cached."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, RSAKey

from novacron.security.oidc.config import HTTP_TIMEOUT_S, ProviderError

log = logging.getLogger("novacron.security.oidc")

DISCOVERY_TTL_S = 3600.0
JWKS_MIN_REFRESH_S = 60.0
"""An unknown ``kid`` refetches the JWKS (key rotation), at most this often, so forged
tokens cannot make us hammer the provider."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    token_auth_method: str = "client_secret_basic"


def get_json(url: str, what: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        resp = httpx.get(url, headers=headers, timeout=HTTP_TIMEOUT_S)
        resp.raise_for_status()
        body = resp.json()
    except httpx.HTTPError as exc:
        raise ProviderError(f"the identity provider's {what} failed: {exc}") from None
    except ValueError:
        raise ProviderError(f"the identity provider's {what} is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderError(f"the identity provider's {what} is not a JSON object")
    return body


def parse_metadata(doc: dict[str, Any], issuer: str) -> ProviderMetadata:
    """Check a discovery document against the configured issuer (OpenID Connect
    Discovery §4.3: they must be the same, else anyone's tokens would be accepted)."""
    if str(doc.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise ProviderError(
            f"the discovery document names issuer {doc.get('issuer')!r}, not {issuer!r}"
        )
    missing = [
        k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)
    ]
    if missing:
        raise ProviderError(f"the discovery document lacks {', '.join(missing)}")
    methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth = "client_secret_post" if "client_secret_basic" not in methods else "client_secret_basic"
    return ProviderMetadata(
        issuer=str(doc["issuer"]),
        authorization_endpoint=str(doc["authorization_endpoint"]),
        token_endpoint=str(doc["token_endpoint"]),
        jwks_uri=str(doc["jwks_uri"]),
        userinfo_endpoint=str(doc["userinfo_endpoint"]) if doc.get("userinfo_endpoint") else None,
        token_auth_method=auth,
    )


def parse_jwks(doc: dict[str, Any]) -> list[Key]:
    """The signing keys we can use (RSA, EC); others (encryption keys, unknown types)
    are skipped rather than failing the whole set."""
    keys: list[Key] = []
    for data in doc.get("keys") or []:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            if data.get("kty") == "RSA":
                keys.append(RSAKey.import_key(data))
            elif data.get("kty") == "EC":
                keys.append(ECKey.import_key(data))
        except (JoseError, ValueError) as exc:
            log.warning("skipping a JWKS key the provider published: %s", exc)
    if not keys:
        raise ProviderError("the identity provider publishes no RSA or EC signing key")
    return keys


@dataclass
class Provider:
    """The discovery document and JWKS of one issuer, fetched lazily and cached; a stale
    copy is used (with a warning) when a refresh fails."""

    issuer: str
    discovery_ttl_s: float = DISCOVERY_TTL_S
    jwks_min_refresh_s: float = JWKS_MIN_REFRESH_S
    _meta: ProviderMetadata | None = field(default=None, repr=False)
    _meta_at: float = field(default=0.0, repr=False)
    _keys: list[Key] = field(default_factory=list, repr=False)
    _keys_at: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            now = time.monotonic()
            if self._meta is None or now - self._meta_at > self.discovery_ttl_s:
                url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
                try:
                    self._meta = parse_metadata(get_json(url, "discovery document"), self.issuer)
                    self._meta_at = now
                except ProviderError:
                    if self._meta is None:
                        raise
                    log.warning("OIDC discovery refresh failed; using the cached document")
            return self._meta

    def keys(self, *, unknown_kid: bool = False) -> list[Key]:
        """The provider's signing keys; ``unknown_kid`` asks for a refetch (rotation)."""
        meta = self.metadata()
        with self._lock:
            now = time.monotonic()
            due = self._keys_at is None or (
                unknown_kid and now - self._keys_at >= self.jwks_min_refresh_s
            )
            if due:
                self._keys = parse_jwks(get_json(meta.jwks_uri, "JWKS"))
                self._keys_at = now
            return list(self._keys)


_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def provider_for(issuer: str) -> Provider:
    """The process-wide cached :class:`Provider` of ``issuer``."""
    with _providers_lock:
        return _providers.setdefault(issuer, Provider(issuer))
