"""Single sign-on settings as one checked value, the errors of the flow, and its limits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from novacron.core.config import Settings
from novacron.core.errors import NovaCronError, Unauthorized
from novacron.security.rbac import ROLES

FLOW_COOKIE = "novacron_oidc"
FLOW_TTL_S = 600
"""Time the user has at the provider (sign-in, consent) before the flow expires."""
ALGORITHMS = ("RS256", "ES256")
"""Asymmetric only: ``none`` and HS256 (keyed with the client secret) are refused."""
CLOCK_SKEW_S = 60
HTTP_TIMEOUT_S = 10.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ProviderError(NovaCronError):
    """The identity provider could not be reached or answered nonsense."""

    status = 502
    title = "Identity provider error"
    type_slug = "oidc-provider"


class Misconfigured(NovaCronError):
    title = "Single sign-on misconfigured"
    type_slug = "oidc-config"


class AccountDisabled(Unauthorized):
    def __init__(self, name: str) -> None:
        super().__init__(f"the account {name!r} is disabled: ask an administrator")
        self.user_name = name


# -- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    username_claim: str = "preferred_username"
    display_name: str = "single sign-on"
    default_project: str | None = None
    default_role: str | None = None
    admin_group: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """None when single sign-on is off (no issuer); :class:`Misconfigured` when it
        is on but cannot work."""
        if not settings.oidc_issuer:
            return None
        issuer = settings.oidc_issuer.rstrip("/")
        url = urlsplit(issuer)
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOOPBACK):
            raise Misconfigured(f"oidc_issuer must be an https:// URL, not {issuer!r}")
        if not settings.oidc_client_id or not settings.oidc_client_secret:
            raise Misconfigured("oidc_client_id and oidc_client_secret are both required")
        role = settings.oidc_default_role
        if role and role not in ROLES:
            raise Misconfigured(f"oidc_default_role {role!r} is not one of {', '.join(ROLES)}")
        scopes = settings.oidc_scopes.split()
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        return cls(
            issuer=issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scopes=" ".join(scopes),
            username_claim=settings.oidc_username_claim,
            display_name=settings.oidc_display_name,
            default_project=settings.oidc_default_project or None,
            default_role=role or None,
            admin_group=settings.oidc_admin_group or None,
        )

    @property
    def flow_key(self) -> bytes:
        return hashlib.sha256(
            b"novacron-oidc-flow\0" + self.issuer.encode() + b"\0" + self.client_secret.encode()
        ).digest()
