"""OpenID Connect single sign-on: the authorization code flow with PKCE (S256).

    begin()     state, nonce and PKCE verifier go into a short-lived signed cookie (the
                :class:`Flow`); the browser is sent to the provider
    complete()  the provider sent the browser back: the cookie must match the ``state``,
                the code is exchanged (authlib), the ID token validated (joserfc: RS256 or
                ES256 only, with a key from the provider's JWKS; iss, aud, azp, exp, iat,
                nonce), and ``userinfo`` fills in claims the ID token lacks
    user_for_claims()
                ``(iss, sub)`` finds the account, or a new one is made; admin by group

The flow cookie is signed with HMAC-SHA256 under ``sha256(issuer, client secret)``: every
replica derives the same key from its configuration with nothing stored, and rotating the
client secret merely invalidates sign-ins under way. Only the provider's operator also
knows the secret, and the provider is trusted with far more (it signs the ID tokens).

Accounts are never linked by name or email: a provider user called ``admin`` gets a new
account (``admin-2``), not the local admin. An administrator links accounts, if ever.

Modules: ``config`` (settings, errors, limits), ``provider`` (discovery, JWKS), ``flow``
(cookie, authorization URL, code exchange, ID token), ``accounts`` (claims to a user).
The routes live in :mod:`novacron.security.api.oidc_routes`.
"""

from __future__ import annotations

from novacron.security.oidc.accounts import (
    USER_NAME,
    SsoSignIn,
    in_group,
    sanitise_name,
    unique_name,
    user_for_claims,
)
from novacron.security.oidc.config import (
    ALGORITHMS,
    CLOCK_SKEW_S,
    FLOW_COOKIE,
    FLOW_TTL_S,
    AccountDisabled,
    Misconfigured,
    OidcConfig,
    ProviderError,
)
from novacron.security.oidc.flow import (
    Flow,
    begin,
    check_claims,
    complete,
    open_flow,
    seal_flow,
    validate_id_token,
)
from novacron.security.oidc.provider import (
    Provider,
    ProviderMetadata,
    parse_jwks,
    parse_metadata,
    provider_for,
)

__all__ = [
    "ALGORITHMS",
    "CLOCK_SKEW_S",
    "FLOW_COOKIE",
    "FLOW_TTL_S",
    "USER_NAME",
    "AccountDisabled",
    "Flow",
    "Misconfigured",
    "OidcConfig",
    "Provider",
    "ProviderError",
    "ProviderMetadata",
    "SsoSignIn",
    "begin",
    "check_claims",
    "complete",
    "in_group",
    "open_flow",
    "parse_jwks",
    "parse_metadata",
    "provider_for",
    "sanitise_name",
    "seal_flow",
    "unique_name",
    "user_for_claims",
    "validate_id_token",
]
