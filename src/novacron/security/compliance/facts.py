"""The facts checks read, and the ``ComplianceContext`` that supplies them.

The server implements ``ComplianceContext`` against the real platform (settings,
users, audit log, hosts' last reports); ``StaticContext`` is the in-memory twin for
tests and for evaluating a saved snapshot. Each fact has its own method so a fact
that cannot be read fails only the checks that need it.

Host facts are collected on each host by ``host_facts.collect_host_facts`` (the
agent) and reported to the server; ``None`` in a field means "not reported".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, TypeVar


@dataclass(frozen=True)
class TlsFacts:
    enabled: bool
    """The API and UI are served over HTTPS (directly or by a terminating proxy)."""
    min_version: str | None = None
    """Lowest protocol accepted, as OpenSSL names it: ``TLSv1.2``, ``TLSv1.3``."""
    certificate_expires_at: datetime | None = None


@dataclass(frozen=True)
class AdminAccount:
    username: str
    mfa_enabled: bool
    disabled: bool = False


@dataclass(frozen=True)
class AuditChainStatus:
    ok: bool
    records_checked: int
    broken_at: int | None = None
    """Sequence number of the first record whose hash does not chain."""
    reason: str | None = None


@dataclass(frozen=True)
class DefaultCredential:
    """A credential still as the installer made it."""

    subject: str
    """Who it belongs to: ``user:admin``, ``token:bootstrap``, ``enrolment-secret``."""
    detail: str
    """Why it counts as default: "initial password never changed", "never rotated"."""


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    argon2_variant: str
    """``argon2id``, ``argon2i`` or ``argon2d`` (the hash's ``$argon2id$`` prefix)."""
    memory_kib: int
    time_cost: int
    parallelism: int
    max_length: int | None = None
    """Longest accepted password; ``None`` when there is no limit."""


@dataclass(frozen=True)
class CookieFlags:
    secure: bool
    http_only: bool
    same_site: str | None
    """``strict``, ``lax``, ``none`` or ``None`` when the attribute is absent."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    kind: str
    """``user``, ``agent`` or ``enrolment`` (``security.models.ApiToken.kind``)."""
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    owner: str | None = None


# --- per-host facts -------------------------------------------------------------------


@dataclass(frozen=True)
class PathEncryption:
    path: str
    """A path that matters (``/``, ``/var/lib/novacron``…) or ``[SWAP]``."""
    mountpoint: str | None
    device: str | None
    encrypted: bool | None
    """``None`` when the path's filesystem is not a block device lsblk knows."""
    via: str | None = None
    """The encrypting layer, e.g. ``nvme0n1p3 (crypto_LUKS)``."""


@dataclass(frozen=True)
class DiskEncryption:
    paths: tuple[PathEncryption, ...]

    @property
    def unencrypted(self) -> tuple[PathEncryption, ...]:
        return tuple(p for p in self.paths if p.encrypted is False)

    @property
    def unknown(self) -> tuple[PathEncryption, ...]:
        return tuple(p for p in self.paths if p.encrypted is None)


@dataclass(frozen=True, order=True)
class ListeningPort:
    protocol: str
    address: str
    port: int
    process: str | None = None
    pid: int | None = None

    @property
    def loopback(self) -> bool:
        """Reachable only from the host itself, so not an open port."""
        try:
            ip = ipaddress.ip_address(self.address.split("%", 1)[0])
        except ValueError:
            return self.address == "localhost"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_loopback
        return ip.is_loopback

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        name = f" ({self.process})" if self.process else ""
        return f"{host}:{self.port}/{self.protocol}{name}"


@dataclass(frozen=True)
class PendingUpdate:
    package: str
    current: str | None
    candidate: str
    suites: tuple[str, ...]
    security: bool


@dataclass(frozen=True)
class PendingUpdates:
    state: Literal["known", "unknown"]
    updates: tuple[PendingUpdate, ...] = ()
    reason: str | None = None
    """Why the state is unknown (no apt, command failed…)."""
    manager: str | None = "apt"

    @property
    def total(self) -> int:
        return len(self.updates)

    @property
    def security(self) -> tuple[PendingUpdate, ...]:
        return tuple(u for u in self.updates if u.security)


@dataclass(frozen=True)
class HostFacts:
    name: str
    agent_version: str | None = None
    collected_at: datetime | None = None
    disk_encryption: DiskEncryption | None = None
    listening_ports: tuple[ListeningPort, ...] | None = None
    pending_updates: PendingUpdates | None = None
    expected_ports: tuple[int, ...] = ()
    """Ports NovaCron itself opens on this host (the agent's API), always allowed."""


# --- the context ------------------------------------------------------------------------

T = TypeVar("T")


class ComplianceContext(Protocol):
    """Read-only access to the facts of one platform; any method may raise."""

    def server_version(self) -> str: ...

    def tls(self) -> TlsFacts: ...

    def agents_use_mtls(self) -> bool: ...

    def admins(self) -> Sequence[AdminAccount]: ...

    def audit_chain(self) -> AuditChainStatus: ...

    def default_credentials(self) -> Sequence[DefaultCredential]: ...

    def password_policy(self) -> PasswordPolicy: ...

    def session_cookie(self) -> CookieFlags: ...

    def api_tokens(self) -> Sequence[TokenInfo]: ...

    def hosts(self) -> Sequence[HostFacts]: ...


def _get(value: T | BaseException) -> T:
    if isinstance(value, BaseException):
        raise value
    return value


@dataclass
class StaticContext:
    """A ``ComplianceContext`` over plain values (tests, saved snapshots).

    Set a field to an exception instance to make its method raise it.
    """

    version: str
    tls_facts: TlsFacts | BaseException
    mtls: bool | BaseException
    admin_accounts: Sequence[AdminAccount] | BaseException
    audit: AuditChainStatus | BaseException
    defaults: Sequence[DefaultCredential] | BaseException
    passwords: PasswordPolicy | BaseException
    cookie: CookieFlags | BaseException
    tokens: Sequence[TokenInfo] | BaseException = ()
    host_facts: Sequence[HostFacts] | BaseException = field(default_factory=list)

    def server_version(self) -> str:
        return self.version

    def tls(self) -> TlsFacts:
        return _get(self.tls_facts)

    def agents_use_mtls(self) -> bool:
        return _get(self.mtls)

    def admins(self) -> Sequence[AdminAccount]:
        return _get(self.admin_accounts)

    def audit_chain(self) -> AuditChainStatus:
        return _get(self.audit)

    def default_credentials(self) -> Sequence[DefaultCredential]:
        return _get(self.defaults)

    def password_policy(self) -> PasswordPolicy:
        return _get(self.passwords)

    def session_cookie(self) -> CookieFlags:
        return _get(self.cookie)

    def api_tokens(self) -> Sequence[TokenInfo]:
        return _get(self.tokens)

    def hosts(self) -> Sequence[HostFacts]:
        return _get(self.host_facts)
