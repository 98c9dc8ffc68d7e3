"""The ``ComplianceContext`` of a running platform: settings, users, tokens, the audit
log and the hosts' reported facts, read in one database session.

Where each fact comes from:

    tls                 ``settings.tls`` (served directly) or an ``https://`` public URL
                        (a terminating proxy); the minimum version is what the server's
                        TLS context accepts; expiry from the served certificate file
    agents_use_mtls     TLS on and ``tls_client_certs = "required"`` ("optional" lets an
                        agent without a certificate in, so it does not count)
    admins              platform admins and every project's admins; MFA = TOTP enrolled
    audit_chain         ``security.audit.log.verify`` over the retained chain
    default_credentials see ``default_credentials`` below
    password_policy     ``security.passwords`` constants and the parameters of a fresh hash
    session_cookie      the flags ``api.login.set_session_cookie`` really sets
    api_tokens          every unrevoked token
    hosts               one ``HostFacts`` per agent (its name is the resource): the
                        agent's latest ``host_facts`` report, else an empty one (which
                        NC-HST-004 fails); the agent version from its registration

Default credentials (NC-IAM-002) are credentials still as the installer or an admin
made them once ``grace`` (7 days) has passed, long enough to finish setting up:

    token:bootstrap-admin  an active user token named ``admin`` of the ``admin`` user
                           (the token the installer writes to ``<data_dir>/admin-token``)
                           older than the grace period: it was never rotated
    enrolment-secret       an active enrolment token named ``enrolment`` without an
                           expiry, older than the grace period (the generated or
                           configured shared secret; one-time expiring tokens don't count)
    user:<name>            a temporary password an admin set (``must_change_password``)
                           still unchanged after the grace period
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import Type, extract_parameters
from cryptography import x509
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from novacron import __version__
from novacron.compute.models import Agent, Host
from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.security import passwords
from novacron.security.audit import log as audit_log
from novacron.security.compliance.facts import (
    AdminAccount,
    AuditChainStatus,
    CookieFlags,
    DefaultCredential,
    HostFacts,
    PasswordPolicy,
    TlsFacts,
    TokenInfo,
)
from novacron.security.compliance.facts_codec import host_facts_from_json
from novacron.security.compliance.model import naive_utc
from novacron.security.compliance.models import HostFactsRecord
from novacron.security.models import ApiToken, ProjectMember, User
from novacron.security.pki import service as pki_service
from novacron.security.pki.server import SERVER_CERT_FILE
from novacron.security.tokens import hash_token

DEFAULT_CREDENTIAL_GRACE = timedelta(days=7)
BOOTSTRAP_ADMIN = "admin"
"""The user, and the name of its token, that ``tokens.ensure_bootstrap_secrets`` makes."""
BOOTSTRAP_ENROLMENT = "enrolment"

_ARGON2_NAMES = {Type.ID: "argon2id", Type.I: "argon2i", Type.D: "argon2d"}


class PlatformContext:
    """Facts of this platform; each method reads when a check first asks for it (the
    engine's ``CachedContext`` then keeps the answer for the rest of the run)."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        now: datetime | None = None,
        grace: timedelta = DEFAULT_CREDENTIAL_GRACE,
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = naive_utc(now) if now else utcnow()
        self.grace = grace

    def server_version(self) -> str:
        return __version__

    # -- transport ----------------------------------------------------------------------

    def tls(self) -> TlsFacts:
        return self._tls

    @cached_property
    def _tls(self) -> TlsFacts:
        direct = self.settings.tls
        proxied = urlsplit(self.settings.resolved_public_url).scheme == "https"
        if not direct:
            # A terminating proxy: its protocol versions and certificate are not ours to
            # see, so those checks skip rather than guess.
            return TlsFacts(enabled=proxied)
        return TlsFacts(
            enabled=True,
            min_version=server_min_tls_version(),
            certificate_expires_at=certificate_expiry(self.server_cert_path),
        )

    @property
    def server_cert_path(self) -> Path:
        """The operator's certificate, else the one our CA issues (``pki.serving``)."""
        return self.settings.tls_cert_file or pki_service.tls_dir(self.settings) / SERVER_CERT_FILE

    def agents_use_mtls(self) -> bool:
        # "optional" lets an agent without a certificate in (``pki.guard``).
        return pki_service.client_cert_mode(self.settings) == "required"

    # -- identities ---------------------------------------------------------------------

    def admins(self) -> Sequence[AdminAccount]:
        project_admins = select(ProjectMember.user_id).where(ProjectMember.role == "admin")
        users = self.session.scalars(
            select(User)
            .where(or_(User.platform_admin.is_(True), User.id.in_(project_admins)))
            .order_by(User.name)
        )
        return [
            AdminAccount(
                username=u.name,
                mfa_enabled=u.totp_enabled_at is not None,
                disabled=u.disabled_at is not None,
            )
            for u in users
        ]

    def default_credentials(self) -> Sequence[DefaultCredential]:
        cutoff = self.now - self.grace
        found: list[DefaultCredential] = []
        admin = self.session.scalar(select(User).where(User.name == BOOTSTRAP_ADMIN))
        if admin is not None and admin.disabled_at is None:
            stored = _file_token_hash(self.settings.data_dir / "admin-token")
            for token in self._live_tokens(
                ApiToken.kind == "user",
                ApiToken.user_id == admin.id,
                ApiToken.name == BOOTSTRAP_ADMIN,
                ApiToken.created_at < cutoff,
            ):
                detail = f"bootstrap admin token {token.prefix}… issued {_day(token.created_at)}"
                detail += " was never rotated"
                if stored == token.token_hash:
                    detail += f" and is still stored in {self.settings.data_dir / 'admin-token'}"
                if admin.password_hash is None:
                    detail += " (the admin user has no password: the token is its only credential)"
                found.append(DefaultCredential("token:bootstrap-admin", detail))
        configured = (
            hash_token(self.settings.enrolment_token) if self.settings.enrolment_token else None
        )
        enrolment_file = self.settings.data_dir / "enrolment-token"
        stored_enrolment = _file_token_hash(enrolment_file)
        for token in self._live_tokens(
            ApiToken.kind == "enrolment",
            ApiToken.name == BOOTSTRAP_ENROLMENT,
            ApiToken.expires_at.is_(None),
            ApiToken.created_at < cutoff,
        ):
            detail = (
                f"agent enrolment token {token.prefix}… created {_day(token.created_at)} never "
                "expires and was never rotated"
            )
            if configured == token.token_hash:
                detail += " (set by NOVACRON_ENROLMENT_TOKEN)"
            elif stored_enrolment == token.token_hash:
                detail += f" (stored in {enrolment_file})"
            found.append(DefaultCredential("enrolment-secret", detail))
        temporary = self.session.scalars(
            select(User)
            .where(
                User.must_change_password.is_(True),
                User.password_hash.is_not(None),
                User.disabled_at.is_(None),
                User.password_changed_at < cutoff,
            )
            .order_by(User.name)
        )
        for user in temporary:
            assert user.password_changed_at is not None
            found.append(
                DefaultCredential(
                    f"user:{user.name}",
                    f"temporary password set by an administrator on "
                    f"{_day(user.password_changed_at)} was never changed",
                )
            )
        return found

    def _live_tokens(self, *where: object) -> list[ApiToken]:
        rows = self.session.scalars(
            select(ApiToken)
            .where(ApiToken.revoked_at.is_(None), *where)  # type: ignore[arg-type]
            .order_by(ApiToken.created_at)
        )
        return [t for t in rows if t.expires_at is None or t.expires_at > self.now]

    def password_policy(self) -> PasswordPolicy:
        # The parameters of a hash made now, not the constants' intent: what a new or
        # upgraded password really gets.
        params = extract_parameters(passwords.hash_password("compliance-probe-password"))
        return PasswordPolicy(
            min_length=passwords.MIN_LENGTH,
            argon2_variant=_ARGON2_NAMES.get(params.type, str(params.type)),
            memory_kib=params.memory_cost,
            time_cost=params.time_cost,
            parallelism=params.parallelism,
            max_length=passwords.MAX_LENGTH,
        )

    def session_cookie(self) -> CookieFlags:
        return session_cookie_flags(https=self.tls().enabled)

    def api_tokens(self) -> Sequence[TokenInfo]:
        rows = self.session.execute(
            select(ApiToken, User.name)
            .outerjoin(User, User.id == ApiToken.user_id)
            .where(ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
        return [
            TokenInfo(
                name=token.name,
                kind=token.kind,
                created_at=token.created_at,
                last_used_at=token.last_used_at,
                revoked_at=token.revoked_at,
                expires_at=token.expires_at,
                owner=owner,
            )
            for token, owner in rows
        ]

    # -- audit ----------------------------------------------------------------------------

    def audit_chain(self) -> AuditChainStatus:
        result = audit_log.verify(self.session)
        return AuditChainStatus(
            ok=result.ok,
            records_checked=result.checked,
            broken_at=result.broken_at,
            reason=result.reason or None,
        )

    # -- hosts ----------------------------------------------------------------------------

    def hosts(self) -> Sequence[HostFacts]:
        agents = self.session.scalars(
            select(Agent).where(Agent.id.in_(select(Host.agent_id))).order_by(Agent.name)
        )
        reports = {r.agent_id: r for r in self.session.scalars(select(HostFactsRecord))}
        out = []
        for agent in agents:
            own_port = urlsplit(agent.url).port
            expected = {own_port} if own_port else set()
            report = reports.get(agent.id)
            if report is None:
                out.append(
                    HostFacts(
                        name=agent.name,
                        agent_version=agent.version or None,
                        expected_ports=tuple(sorted(expected)),
                    )
                )
                continue
            facts = host_facts_from_json(report.facts, loc=("host_facts", agent.name))
            out.append(
                replace(
                    facts,
                    name=agent.name,
                    # Registration happens at every agent start: its version is current.
                    agent_version=agent.version or facts.agent_version,
                    collected_at=report.collected_at,
                    expected_ports=tuple(sorted(expected | set(facts.expected_ports))),
                )
            )
        return out


def server_min_tls_version() -> str | None:
    """The lowest protocol a server context accepts (uvicorn builds its context the same
    way, ``PROTOCOL_TLS_SERVER``; NovaCron's own contexts pin TLS 1.2 as well)."""
    version = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).minimum_version
    if version in (ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.MAXIMUM_SUPPORTED):
        return None  # left to OpenSSL's configuration: not known from here
    return version.name.replace("_", ".")  # TLSv1_2 → TLSv1.2


def certificate_expiry(path: Path) -> datetime | None:
    """``notAfter`` of the PEM certificate at ``path``; None when it cannot be read."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None
    return naive_utc(cert.not_valid_after_utc)


def session_cookie_flags(*, https: bool) -> CookieFlags:
    """The attributes of the session cookie as the sign-in route sets it, read from the
    ``Set-Cookie`` header of a sign-in answer built by that very function — so the check
    cannot drift from the code. (An upward import, on purpose and only here.)"""
    from starlette.requests import Request
    from starlette.responses import Response

    from novacron.security.api.login import set_session_cookie
    from novacron.security.models import WebSession
    from novacron.security.sessions import NewSession

    scheme, port = ("https", 443) if https else ("http", 80)
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "server": ("novacron.invalid", port),
        "path": "/api/v1/auth/login",
        "query_string": b"",
        "headers": [(b"host", b"novacron.invalid")],
    }
    response = Response()
    set_session_cookie(Request(scope), response, NewSession(WebSession(), "compliance-probe"))
    return parse_set_cookie(response.headers.get("set-cookie", ""))


def parse_set_cookie(header: str) -> CookieFlags:
    attributes = [part.strip() for part in header.split(";")[1:]]
    names = {a.split("=", 1)[0].strip().lower() for a in attributes}
    same_site = next(
        (
            a.split("=", 1)[1].strip().lower()
            for a in attributes
            if a.lower().startswith("samesite=")
        ),
        None,
    )
    return CookieFlags(secure="secure" in names, http_only="httponly" in names, same_site=same_site)


def _file_token_hash(path: Path) -> str | None:
    try:
        secret = path.read_text().strip()
    except OSError:
        return None
    return hash_token(secret) if secret else None


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")
