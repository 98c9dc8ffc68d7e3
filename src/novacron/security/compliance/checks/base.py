"""The check engine: checks as small typed units, a registry, and ``run_checks``.

A check is metadata plus a function. Platform checks get the context and return
a ``Verdict`` (one finding on ``platform``) or ``Outcome``s (one per resource,
e.g. per admin); host checks get one ``HostFacts`` at a time and return a
``Verdict`` for that host. Whatever a check raises becomes an ``error`` finding
carrying the reason — one broken fact or check never stops a run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, NotFound, NovaCronError
from novacron.security.compliance.facts import (
    AdminAccount,
    AuditChainStatus,
    ComplianceContext,
    CookieFlags,
    DefaultCredential,
    HostFacts,
    PasswordPolicy,
    TlsFacts,
    TokenInfo,
)
from novacron.security.compliance.model import (
    PLATFORM,
    CheckMeta,
    Finding,
    Outcome,
    Status,
    naive_utc,
)


@dataclass(frozen=True)
class CheckOptions:
    """Site policy the checks apply; the server builds it from settings."""

    allowed_tcp_ports: frozenset[int] = frozenset({22, 8080})
    """Ports any host may listen on beyond loopback (plus each host's ``expected_ports``)."""
    min_password_length: int = 12
    """PCI DSS 8.3.6 asks for 12; NIST 800-63B for 15 when a password is the only factor."""
    certificate_warning: timedelta = timedelta(days=30)
    token_max_idle: timedelta = timedelta(days=90)
    """PCI DSS 8.2.6: inactive accounts removed or disabled within 90 days."""
    max_fact_age: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class CheckEnv:
    options: CheckOptions
    now: datetime


@dataclass(frozen=True)
class Verdict:
    status: Status
    evidence: str


def passed(evidence: str) -> Verdict:
    return Verdict(Status.PASS, evidence)


def failed(evidence: str) -> Verdict:
    return Verdict(Status.FAIL, evidence)


def skipped(evidence: str) -> Verdict:
    return Verdict(Status.SKIPPED, evidence)


PlatformFn = Callable[[ComplianceContext, CheckEnv], "Verdict | Iterable[Outcome]"]
HostFn = Callable[[HostFacts, ComplianceContext, CheckEnv], Verdict]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    platform_fn: PlatformFn | None = None
    host_fn: HostFn | None = None

    def __post_init__(self) -> None:
        if (self.platform_fn is None) == (self.host_fn is None):
            raise ValueError(f"check {self.meta.id} needs exactly one of platform_fn/host_fn")

    @property
    def id(self) -> str:
        return self.meta.id

    def run(self, ctx: ComplianceContext, env: CheckEnv) -> list[Finding]:
        """Every finding this check makes; never raises."""
        if self.host_fn is not None:
            return self._run_hosts(self.host_fn, ctx, env)
        assert self.platform_fn is not None
        try:
            result = self.platform_fn(ctx, env)
            outcomes = (
                [Outcome(PLATFORM, result.status, result.evidence)]
                if isinstance(result, Verdict)
                else list(result)
            )
            return [self._finding(o, env) for o in outcomes]
        except Exception as exc:
            return [self._error(PLATFORM, exc, env.now)]

    def _run_hosts(self, fn: HostFn, ctx: ComplianceContext, env: CheckEnv) -> list[Finding]:
        try:
            hosts = sorted(ctx.hosts(), key=lambda h: h.name)
        except Exception as exc:
            return [self._error(PLATFORM, exc, env.now)]
        findings = []
        for host in hosts:
            observed = naive_utc(host.collected_at) if host.collected_at else env.now
            try:
                verdict = fn(host, ctx, env)
                findings.append(
                    self._finding(
                        Outcome(host.name, verdict.status, verdict.evidence), env, observed
                    )
                )
            except Exception as exc:
                findings.append(self._error(host.name, exc, observed))
        return findings

    def _finding(self, o: Outcome, env: CheckEnv, observed: datetime | None = None) -> Finding:
        if not isinstance(o, Outcome) or o.status not in _CHECK_STATUSES:
            raise TypeError(f"check returned {o!r}, not a pass/fail/skipped Outcome")
        when = o.observed_at or observed or env.now
        return Finding(self.id, o.status, o.resource, o.evidence, naive_utc(when))

    def _error(self, resource: str, exc: Exception, when: datetime) -> Finding:
        return Finding(self.id, Status.ERROR, resource, f"check failed: {_reason(exc)}", when)


_CHECK_STATUSES = frozenset({Status.PASS, Status.FAIL, Status.SKIPPED})


def _reason(exc: Exception) -> str:
    text = exc.detail if isinstance(exc, NovaCronError) else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def platform_check(meta: CheckMeta) -> Callable[[PlatformFn], Check]:
    def wrap(fn: PlatformFn) -> Check:
        return Check(meta, platform_fn=fn)

    return wrap


def host_check(meta: CheckMeta) -> Callable[[HostFn], Check]:
    if meta.scope != "host":
        raise ValueError(f"check {meta.id}: host checks need scope='host'")

    def wrap(fn: HostFn) -> Check:
        return Check(meta, host_fn=fn)

    return wrap


@dataclass
class Registry:
    """Checks by id, in the order they were added (which is the report order)."""

    _checks: dict[str, Check] = field(default_factory=dict)

    @classmethod
    def of(cls, checks: Iterable[Check]) -> Registry:
        registry = cls()
        for check in checks:
            registry.add(check)
        return registry

    def add(self, check: Check) -> None:
        if check.id in self._checks:
            raise Conflict(f"check {check.id} is already registered")
        self._checks[check.id] = check

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise NotFound(f"no compliance check {check_id}") from None

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    @property
    def metas(self) -> dict[str, CheckMeta]:
        return {c.id: c.meta for c in self}

    def run(
        self,
        context: ComplianceContext,
        *,
        options: CheckOptions | None = None,
        now: datetime | None = None,
        only: Collection[str] | None = None,
    ) -> list[Finding]:
        if only is not None:
            for check_id in only:
                self.get(check_id)  # unknown ids are an error, not silently nothing
        env = CheckEnv(options or CheckOptions(), naive_utc(now) if now else utcnow())
        cached = CachedContext(context)
        findings: list[Finding] = []
        for check in self:
            if only is None or check.id in only:
                findings.extend(check.run(cached, env))
        return findings


T = TypeVar("T")


class CachedContext:
    """Reads each fact once per run so every check sees the same snapshot (and a
    slow fact, like verifying the whole audit chain, is paid for once).
    A fact that raised raises again for every check that asks for it."""

    def __init__(self, inner: ComplianceContext) -> None:
        self._inner = inner
        self._memo: dict[str, tuple[bool, Any]] = {}

    def _read(self, name: str, read: Callable[[], T]) -> T:
        if name not in self._memo:
            try:
                self._memo[name] = (True, read())
            except Exception as exc:
                self._memo[name] = (False, exc)
        ok, value = self._memo[name]
        if not ok:
            raise value
        return value

    def server_version(self) -> str:
        return self._read("server_version", self._inner.server_version)

    def tls(self) -> TlsFacts:
        return self._read("tls", self._inner.tls)

    def agents_use_mtls(self) -> bool:
        return self._read("agents_use_mtls", self._inner.agents_use_mtls)

    def admins(self) -> Sequence[AdminAccount]:
        return self._read("admins", self._inner.admins)

    def audit_chain(self) -> AuditChainStatus:
        return self._read("audit_chain", self._inner.audit_chain)

    def default_credentials(self) -> Sequence[DefaultCredential]:
        return self._read("default_credentials", self._inner.default_credentials)

    def password_policy(self) -> PasswordPolicy:
        return self._read("password_policy", self._inner.password_policy)

    def session_cookie(self) -> CookieFlags:
        return self._read("session_cookie", self._inner.session_cookie)

    def api_tokens(self) -> Sequence[TokenInfo]:
        return self._read("api_tokens", self._inner.api_tokens)

    def hosts(self) -> Sequence[HostFacts]:
        return self._read("hosts", self._inner.hosts)
