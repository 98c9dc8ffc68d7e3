"""The authorization code flow with PKCE: the flow cookie, the provider's authorization
URL, and the callback's checks — code exchange and ID-token validation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import authlib.deprecate  # noqa: F401  (first: it installs its own warning filter)
import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import GuestProtocol, Key

from novacron.core.errors import Unauthorized
from novacron.security.oidc.config import (
    ALGORITHMS,
    CLOCK_SKEW_S,
    FLOW_TTL_S,
    HTTP_TIMEOUT_S,
    OidcConfig,
    ProviderError,
)
from novacron.security.oidc.provider import Provider, ProviderMetadata, get_json

with warnings.catch_warnings():
    # authlib >= 1.9 would rather drive the ``httpx2`` fork; plain httpx (our HTTP client
    # everywhere) still works: it is what authlib falls back to.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    next_path: str
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal_flow(flow: Flow, key: bytes) -> str:
    payload = _b64(json.dumps(asdict(flow), separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def open_flow(value: str | None, key: bytes, now: float | None = None) -> Flow:
    """The flow of a cookie whose signature and age check out, else :class:`Unauthorized`."""
    if not value:
        raise Unauthorized(
            "no sign-in is under way in this browser (cookies off, or it expired): try again"
        )
    payload, _, sig = value.partition(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not _same(sig, expected):
        raise Unauthorized("the sign-in cookie has been tampered with: try again")
    try:
        flow = Flow(**json.loads(_unb64(payload)))
    except (ValueError, TypeError):
        raise Unauthorized("the sign-in cookie is malformed: try again") from None
    age = (time.time() if now is None else now) - flow.issued_at
    if not -CLOCK_SKEW_S <= age <= FLOW_TTL_S:
        raise Unauthorized("the sign-in took too long and expired: try again")
    return flow


# -- the flow --------------------------------------------------------------------------------


def _client(cfg: OidcConfig, meta: ProviderMetadata, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        token_endpoint_auth_method=meta.token_auth_method,
        scope=cfg.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_S,
    )


def begin(
    cfg: OidcConfig, provider: Provider, redirect_uri: str, next_path: str
) -> tuple[str, Flow]:
    """The provider's authorization URL and the flow to keep in the cookie."""
    meta = provider.metadata()
    flow = Flow(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 wants 43-128
        redirect_uri=redirect_uri,
        next_path=next_path,
        issued_at=int(time.time()),
    )
    with _client(cfg, meta, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            meta.authorization_endpoint,
            state=flow.state,
            code_verifier=flow.verifier,
            nonce=flow.nonce,
        )
    return str(url), flow


def complete(
    cfg: OidcConfig, provider: Provider, flow: Flow, params: dict[str, str]
) -> dict[str, Any]:
    """The verified claims of the user the provider sent back with ``params`` (the
    callback's query), merged with ``userinfo`` when the ID token lacks some."""
    if not _same(params.get("state"), flow.state):
        raise Unauthorized("the sign-in state does not match this browser's: try again")
    if params.get("error"):
        why = params.get("error_description") or params["error"]
        raise Unauthorized(f"the identity provider refused the sign-in: {why[:200]}")
    code = params.get("code")
    if not code:
        raise Unauthorized("the identity provider sent no authorization code")
    meta = provider.metadata()
    try:
        with _client(cfg, meta, flow.redirect_uri) as client:
            token = client.fetch_token(
                meta.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.verifier,
            )
    except OAuthError as exc:
        why = exc.description or exc.error
        raise Unauthorized(f"the identity provider refused the code: {why}") from None
    except httpx.HTTPError as exc:
        raise ProviderError(f"the identity provider's token endpoint failed: {exc}") from None
    except ValueError:
        raise ProviderError("the identity provider's token endpoint did not answer JSON") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise Unauthorized("the identity provider returned no ID token")
    claims = validate_id_token(cfg, provider, id_token, flow.nonce)
    if meta.userinfo_endpoint and _lacks_claims(cfg, claims) and token.get("access_token"):
        info = get_json(
            meta.userinfo_endpoint,
            "userinfo endpoint",
            {"Authorization": f"Bearer {token['access_token']}"},
        )
        # OpenID Connect Core §5.3.4: a userinfo answer about someone else is discarded.
        if info.get("sub") != claims["sub"]:
            raise Unauthorized("the userinfo answer is about another subject")
        claims = {**info, **claims}
    return claims


def _same(given: object, expected: str) -> bool:
    """Constant-time equality that also copes with a missing or non-ASCII value."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _lacks_claims(cfg: OidcConfig, claims: dict[str, Any]) -> bool:
    wanted = [cfg.username_claim, "email"] + (["groups"] if cfg.admin_group else [])
    return any(name not in claims for name in wanted)


def _key_resolver(keys: list[Key]) -> Any:
    def resolve(obj: GuestProtocol) -> Key:
        header = obj.headers()
        kid = header.get("kid")
        kty = {"RS256": "RSA", "ES256": "EC"}.get(str(header.get("alg")))
        candidates = [k for k in keys if k.key_type == kty and (kid is None or k.kid == kid)]
        # Without a ``kid`` the key must be the provider's only one of its type.
        if len(candidates) == 1 or (kid is not None and candidates):
            return candidates[0]
        raise InvalidKeyIdError(f"no signing key for kid {kid!r}")

    return resolve


def validate_id_token(
    cfg: OidcConfig,
    provider: Provider,
    id_token: str,
    nonce: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a valid ID token (OpenID Connect Core §3.1.3.7), else
    :class:`Unauthorized` with the reason."""
    meta = provider.metadata()
    try:
        try:
            token = jwt.decode(id_token, _key_resolver(provider.keys()), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            keys = provider.keys(unknown_kid=True)
            token = jwt.decode(id_token, _key_resolver(keys), algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        raise Unauthorized(
            "the ID token is signed with a key the provider does not publish"
        ) from None
    except JoseError as exc:
        reason = exc.description or exc.error
        raise Unauthorized(f"the ID token is not validly signed ({reason})") from None
    except ValueError:
        raise Unauthorized("the ID token is malformed") from None
    claims: dict[str, Any] = dict(token.claims)
    check_claims(claims, issuer=meta.issuer, client_id=cfg.client_id, nonce=nonce, now=now)
    return claims


def check_claims(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: float | None = None
) -> None:
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise Unauthorized(f"the ID token was issued by {claims.get('iss')!r}, not {issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise Unauthorized("the ID token is meant for another client (aud)")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise Unauthorized("the ID token was issued to another client (azp)")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Unauthorized("the ID token lacks exp or iat")
    if exp < now - CLOCK_SKEW_S:
        raise Unauthorized("the ID token has expired")
    if iat > now + CLOCK_SKEW_S:
        raise Unauthorized("the ID token is issued in the future: check the clocks")
    if not _same(claims.get("nonce"), nonce):
        raise Unauthorized("the ID token's nonce does not match this sign-in (replayed?)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise Unauthorized("the ID token has no usable subject (sub)")
