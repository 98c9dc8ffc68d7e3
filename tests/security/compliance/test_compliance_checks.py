"""Each built-in check passes on a compliant platform and fails on the fact it guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from novacron.core.errors import Conflict, NotFound
from novacron.security.compliance import (
    BUILTIN_CHECKS,
    FRAMEWORKS,
    AdminAccount,
    AuditChainStatus,
    CheckMeta,
    CheckOptions,
    CookieFlags,
    DefaultCredential,
    DiskEncryption,
    Finding,
    Framework,
    HostFacts,
    ListeningPort,
    PasswordPolicy,
    PathEncryption,
    PendingUpdate,
    PendingUpdates,
    Registry,
    Severity,
    StaticContext,
    Status,
    TlsFacts,
    TokenInfo,
    default_registry,
    run_checks,
)
from novacron.security.compliance.checks import failed, host_check, passed, platform_check
from novacron.security.compliance.checks.hosts import version_tuple
from novacron.security.compliance.checks.platform import argon2_meets_owasp

MakeContext = Callable[..., StaticContext]
MakeHost = Callable[..., HostFacts]


def run(ctx: StaticContext, now: datetime, **kw: Any) -> list[Finding]:
    return run_checks(ctx, now=now, **kw)


def one(ctx: StaticContext, check_id: str, now: datetime, resource: str | None = None) -> Finding:
    found = [f for f in run(ctx, now, only=[check_id]) if resource in (None, f.resource)]
    assert len(found) == 1, found
    return found[0]


def statuses(findings: list[Finding]) -> dict[tuple[str, str], Status]:
    return {f.key: f.status for f in findings}


# --- the compliant baseline ---------------------------------------------------------


def test_compliant_platform_passes_every_check(make_context: MakeContext, now: datetime) -> None:
    findings = run(make_context(), now)
    assert {f.check_id for f in findings} == {c.id for c in BUILTIN_CHECKS}
    not_passing = [f for f in findings if f.status is not Status.PASS]
    assert not_passing == []
    # Host checks report one finding per host, platform checks one (MFA: one per admin).
    assert statuses(findings)[("NC-HST-001", "hv2")] is Status.PASS
    assert statuses(findings)[("NC-IAM-001", "user:bob")] is Status.PASS
    assert statuses(findings)[("NC-TLS-001", "platform")] is Status.PASS


def test_every_check_maps_to_every_framework_with_real_looking_ids() -> None:
    ids = [c.id for c in BUILTIN_CHECKS]
    assert len(ids) == len(set(ids))
    for check in BUILTIN_CHECKS:
        meta = check.meta
        assert meta.remediation and meta.description
        for fw in FRAMEWORKS:
            assert meta.controls(fw), f"{meta.id} has no {fw} mapping"
        assert all(c.startswith("A.") for c in meta.controls(Framework.ISO27001))
        assert all(c.startswith("CC") for c in meta.controls(Framework.SOC2))
    tls = default_registry().get("NC-TLS-001").meta
    assert {"SC-8", "SC-13"} <= set(tls.controls(Framework.NIST80053))
    assert "4.2.1" in tls.controls(Framework.PCIDSS)
    assert tls.controls(Framework.ISO27001) == ("A.8.24",)
    assert tls.controls(Framework.SOC2) == ("CC6.7",)
    assert tls.controls(Framework.CIS) == ("3.10",)


# --- platform checks ----------------------------------------------------------------


def test_tls_off_fails_and_dependent_checks_skip(make_context: MakeContext, now: datetime) -> None:
    ctx = make_context(tls_facts=TlsFacts(False))
    found = statuses(run(ctx, now))
    assert found[("NC-TLS-001", "platform")] is Status.FAIL
    assert found[("NC-TLS-002", "platform")] is Status.SKIPPED
    assert found[("NC-TLS-003", "platform")] is Status.SKIPPED


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("TLSv1.3", Status.PASS),
        ("TLSv1.2", Status.PASS),
        ("TLSv1.1", Status.FAIL),
        ("TLSv1", Status.FAIL),
    ],
)
def test_tls_minimum_version(
    make_context: MakeContext, now: datetime, version: str, status: Status
) -> None:
    ctx = make_context(tls_facts=TlsFacts(True, version, now + timedelta(days=90)))
    assert one(ctx, "NC-TLS-002", now).status is status


@pytest.mark.parametrize(
    ("days_left", "status", "words"),
    [
        (90, Status.PASS, "valid until"),
        (10, Status.FAIL, "in 10 days"),
        (-1, Status.FAIL, "expired"),
    ],
)
def test_certificate_expiry(
    make_context: MakeContext, now: datetime, days_left: int, status: Status, words: str
) -> None:
    ctx = make_context(tls_facts=TlsFacts(True, "TLSv1.3", now + timedelta(days=days_left)))
    finding = one(ctx, "NC-TLS-003", now)
    assert finding.status is status
    assert words in finding.evidence


def test_certificate_warning_window_is_an_option(make_context: MakeContext, now: datetime) -> None:
    ctx = make_context(tls_facts=TlsFacts(True, "TLSv1.3", now + timedelta(days=50)))
    assert one(ctx, "NC-TLS-003", now).status is Status.PASS
    strict = run(
        ctx, now, only=["NC-TLS-003"], options=CheckOptions(certificate_warning=timedelta(days=60))
    )
    assert strict[0].status is Status.FAIL


def test_agents_without_mtls_fail(make_context: MakeContext, now: datetime) -> None:
    assert one(make_context(mtls=False), "NC-AGT-001", now).status is Status.FAIL


def test_admin_without_mfa_fails_alone(make_context: MakeContext, now: datetime) -> None:
    ctx = make_context(
        admin_accounts=[
            AdminAccount("alice", True),
            AdminAccount("mallory", False),
            AdminAccount("olduser", False, disabled=True),
        ]
    )
    found = statuses(run(ctx, now, only=["NC-IAM-001"]))
    assert found == {
        ("NC-IAM-001", "user:alice"): Status.PASS,
        ("NC-IAM-001", "user:mallory"): Status.FAIL,
        ("NC-IAM-001", "user:olduser"): Status.SKIPPED,
    }


def test_no_admins_is_skipped_not_passed(make_context: MakeContext, now: datetime) -> None:
    assert one(make_context(admin_accounts=[]), "NC-IAM-001", now).status is Status.SKIPPED


def test_audit_chain_break_names_the_record(make_context: MakeContext, now: datetime) -> None:
    ctx = make_context(audit=AuditChainStatus(False, 812, broken_at=811, reason="hash mismatch"))
    finding = one(ctx, "NC-LOG-001", now)
    assert finding.status is Status.FAIL
    assert finding.evidence == "chain broken at record 811 (812 checked): hash mismatch"
    assert "1234 audit record(s) verified" in one(make_context(), "NC-LOG-001", now).evidence


def test_default_credentials_fail_and_are_listed(make_context: MakeContext, now: datetime) -> None:
    ctx = make_context(
        defaults=[
            DefaultCredential("user:admin", "initial password never changed"),
            DefaultCredential("token:bootstrap", "issued at install, never rotated"),
        ]
    )
    finding = one(ctx, "NC-IAM-002", now)
    assert finding.status is Status.FAIL
    assert "user:admin: initial password never changed" in finding.evidence
    assert "token:bootstrap" in finding.evidence
    assert default_registry().get("NC-IAM-002").meta.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("policy", "status", "problem"),
    [
        (PasswordPolicy(12, "argon2id", 47104, 1, 1), Status.PASS, None),
        (PasswordPolicy(15, "argon2id", 65536, 3, 4), Status.PASS, None),  # argon2-cffi default
        (PasswordPolicy(12, "argon2id", 12288, 3, 1), Status.PASS, None),  # OWASP equivalent row
        (PasswordPolicy(8, "argon2id", 19456, 2, 1), Status.FAIL, "minimum length 8 < 12"),
        (PasswordPolicy(12, "argon2id", 19456, 1, 1), Status.FAIL, "below OWASP"),
        (PasswordPolicy(12, "argon2id", 16384, 2, 1), Status.FAIL, "below OWASP"),
        (PasswordPolicy(12, "argon2i", 65536, 3, 1), Status.FAIL, "not argon2id"),
        (
            PasswordPolicy(12, "argon2id", 19456, 2, 1, max_length=32),
            Status.FAIL,
            "maximum length 32",
        ),
    ],
)
def test_password_policy(
    make_context: MakeContext,
    now: datetime,
    policy: PasswordPolicy,
    status: Status,
    problem: str | None,
) -> None:
    finding = one(make_context(passwords=policy), "NC-IAM-003", now)
    assert finding.status is status
    if problem:
        assert problem in finding.evidence


def test_owasp_argon2_table() -> None:
    assert argon2_meets_owasp(19456, 2)
    assert argon2_meets_owasp(47104, 1)
    assert not argon2_meets_owasp(47103, 1)
    assert not argon2_meets_owasp(19455, 2)
    assert not argon2_meets_owasp(7167, 10)


def test_idle_tokens(make_context: MakeContext, now: datetime) -> None:
    old = now - timedelta(days=200)
    tokens = [
        TokenInfo("ci", "user", old, now - timedelta(days=1)),
        TokenInfo("forgotten", "user", old, now - timedelta(days=91)),
        TokenInfo("never", "user", old),
        TokenInfo("revoked", "user", old, revoked_at=now - timedelta(days=5)),
        TokenInfo("expired", "user", old, expires_at=now - timedelta(days=1)),
        TokenInfo("fresh", "user", now - timedelta(days=3)),
    ]
    finding = one(make_context(tokens=tokens), "NC-IAM-004", now)
    assert finding.status is Status.FAIL
    assert finding.evidence.startswith("2 of 4 active token(s) idle for 90+ days")
    assert "forgotten (last used" in finding.evidence and "never (never used)" in finding.evidence
    assert "revoked" not in finding.evidence and "expired" not in finding.evidence


@pytest.mark.parametrize(
    ("cookie", "missing"),
    [
        (CookieFlags(False, True, "Lax"), "Secure"),
        (CookieFlags(True, False, "Strict"), "HttpOnly"),
        (CookieFlags(True, True, None), "SameSite"),
        (CookieFlags(True, True, "None"), "SameSite"),
    ],
)
def test_session_cookie_flags(
    make_context: MakeContext, now: datetime, cookie: CookieFlags, missing: str
) -> None:
    finding = one(make_context(cookie=cookie), "NC-SES-001", now)
    assert finding.status is Status.FAIL
    assert "missing: " + missing in finding.evidence


# --- host checks --------------------------------------------------------------------


def host_finding(ctx: StaticContext, check_id: str, now: datetime, host: str = "hv1") -> Finding:
    return one(ctx, check_id, now, resource=host)


@pytest.mark.parametrize(
    ("agent", "status", "words"),
    [
        ("0.1.0", Status.PASS, "matches"),
        ("0.1", Status.PASS, "matches"),
        ("0.0.9", Status.FAIL, "behind"),
        ("0.2.0", Status.FAIL, "ahead of"),
        (None, Status.SKIPPED, "did not report"),
    ],
)
def test_agent_version(
    make_context: MakeContext,
    make_host: MakeHost,
    now: datetime,
    agent: str | None,
    status: Status,
    words: str,
) -> None:
    ctx = make_context(host_facts=[make_host("hv1", agent_version=agent)])
    finding = host_finding(ctx, "NC-AGT-002", now)
    assert (finding.status, words in finding.evidence) == (status, True)


def test_version_tuple() -> None:
    assert version_tuple("0.10.0") > version_tuple("0.9.3")
    assert version_tuple("v1.2.0rc1") == (1, 2)
    with pytest.raises(ValueError):
        version_tuple("unknown")


def test_disk_encryption(make_context: MakeContext, make_host: MakeHost, now: datetime) -> None:
    plain = DiskEncryption(
        (
            PathEncryption("/", "/", "vg-root", True, "sda3 (crypto_LUKS)"),
            PathEncryption("/var/lib/novacron", "/srv", "sdb1", False),
        )
    )
    ctx = make_context(host_facts=[make_host("hv1", disk_encryption=plain), make_host("hv2")])
    findings = statuses(run(ctx, now, only=["NC-HST-001"]))
    assert findings == {("NC-HST-001", "hv1"): Status.FAIL, ("NC-HST-001", "hv2"): Status.PASS}
    assert "/var/lib/novacron (on sdb1)" in host_finding(ctx, "NC-HST-001", now).evidence
    unknown = DiskEncryption((PathEncryption("/", None, None, None),))
    ctx = make_context(host_facts=[make_host("hv1", disk_encryption=unknown)])
    assert host_finding(ctx, "NC-HST-001", now).status is Status.SKIPPED
    ctx = make_context(host_facts=[make_host("hv1", disk_encryption=None)])
    assert host_finding(ctx, "NC-HST-001", now).status is Status.SKIPPED


def test_unexpected_ports(make_context: MakeContext, make_host: MakeHost, now: datetime) -> None:
    ports = (
        ListeningPort("tcp", "0.0.0.0", 22, "sshd"),
        ListeningPort("tcp", "::", 3306, "mariadbd"),
        ListeningPort("tcp", "127.0.0.1", 6379, "redis-server"),  # loopback: not open
        ListeningPort("tcp", "::1", 6379, "redis-server"),
        ListeningPort("tcp", "::ffff:127.0.0.1", 8125, "statsd"),
        ListeningPort("tcp", "0.0.0.0", 9443, "novacron-agent"),  # the host's expected port
    )
    ctx = make_context(host_facts=[make_host("hv1", listening_ports=ports)])
    finding = host_finding(ctx, "NC-HST-002", now)
    assert finding.status is Status.FAIL
    assert finding.evidence == "unexpected: [::]:3306/tcp (mariadbd)"
    allowed = CheckOptions(allowed_tcp_ports=frozenset({22, 3306}))
    again = run(ctx, now, only=["NC-HST-002"], options=allowed)
    assert again[0].status is Status.PASS


def test_security_updates(make_context: MakeContext, make_host: MakeHost, now: datetime) -> None:
    sec = PendingUpdate("libssl3", "3.0.19-1", "3.0.22-1", ("Debian-Security:12/x-security",), True)
    other = PendingUpdate("bash", "5.2.15-2+b8", "5.2.15-2+b13", ("Debian:12.15/oldstable",), False)
    cases = {
        "hv1": (PendingUpdates("known", (sec, other)), Status.FAIL),
        "hv2": (PendingUpdates("known", (other,)), Status.PASS),
        "hv3": (PendingUpdates("unknown", reason="apt-get not found"), Status.SKIPPED),
    }
    hosts = [make_host(name, pending_updates=u) for name, (u, _) in cases.items()]
    findings = run(make_context(host_facts=hosts), now, only=["NC-HST-003"])
    assert {f.resource: f.status for f in findings} == {n: s for n, (_, s) in cases.items()}
    failing = next(f for f in findings if f.resource == "hv1")
    assert failing.evidence == "1 security update(s) pending (2 in all): libssl3 3.0.22-1"


def test_stale_or_missing_host_facts(
    make_context: MakeContext, make_host: MakeHost, now: datetime
) -> None:
    hosts = [
        make_host("fresh"),
        make_host("stale", collected_at=now - timedelta(hours=30)),
        make_host("silent", collected_at=None),
    ]
    findings = run(make_context(host_facts=hosts), now, only=["NC-HST-004"])
    assert {f.resource: f.status for f in findings} == {
        "fresh": Status.PASS,
        "stale": Status.FAIL,
        "silent": Status.FAIL,
    }


def test_host_findings_are_observed_when_the_host_reported(
    make_context: MakeContext, make_host: MakeHost, now: datetime
) -> None:
    reported = now - timedelta(hours=3)
    ctx = make_context(host_facts=[make_host("hv1", collected_at=reported)])
    assert host_finding(ctx, "NC-HST-003", now).observed_at == reported
    assert one(ctx, "NC-TLS-001", now).observed_at == now


# --- isolation and the registry -------------------------------------------------------


def test_a_fact_that_raises_errors_only_its_checks(
    make_context: MakeContext, now: datetime
) -> None:
    ctx = make_context(tls_facts=RuntimeError("certificate file unreadable"))
    findings = run(ctx, now)
    errors = {f.check_id: f for f in findings if f.status is Status.ERROR}
    assert set(errors) == {"NC-TLS-001", "NC-TLS-002", "NC-TLS-003"}
    assert (
        errors["NC-TLS-001"].evidence == "check failed: RuntimeError: certificate file unreadable"
    )
    assert all(f.status is Status.PASS for f in findings if f.check_id not in errors)


def test_hosts_that_raise_error_every_host_check_once(
    make_context: MakeContext, now: datetime
) -> None:
    findings = run(make_context(host_facts=ConnectionError("db gone")), now)
    host_ids = {c.id for c in BUILTIN_CHECKS if c.meta.scope == "host"}
    errors = [f for f in findings if f.status is Status.ERROR]
    assert {f.check_id for f in errors} == host_ids
    assert all(f.resource == "platform" for f in errors)


def test_a_broken_host_check_errors_one_host_only(
    make_host: MakeHost, make_context: MakeContext, now: datetime
) -> None:
    meta = CheckMeta(
        id="SITE-HST-001",
        title="Hostname is lowercase",
        severity=Severity.LOW,
        description="Inventory tools disagree about case.",
        remediation="Rename the host.",
        frameworks={Framework.CIS: ("1.1",)},
        scope="host",
    )

    @host_check(meta)
    def lowercase(host: HostFacts, ctx: object, env: object) -> Any:
        if host.name == "boom":
            raise KeyError("hostname")
        return passed("ok") if host.name.islower() else failed("uppercase")

    registry = Registry.of([lowercase])
    ctx = make_context(host_facts=[make_host("boom"), make_host("hv1"), make_host("HV2")])
    found = {f.resource: (f.status, f.evidence) for f in registry.run(ctx, now=now)}
    assert found == {
        "boom": (Status.ERROR, "check failed: KeyError: 'hostname'"),
        "hv1": (Status.PASS, "ok"),
        "HV2": (Status.FAIL, "uppercase"),
    }


def test_a_check_returning_garbage_is_an_error(make_context: MakeContext, now: datetime) -> None:
    meta = CheckMeta("SITE-001", "Bad", Severity.INFO, "d", "r", {Framework.CIS: ("1.1",)})

    @platform_check(meta)
    def bad(ctx: object, env: object) -> Any:
        return ["not an outcome"]

    findings = Registry.of([bad]).run(make_context(), now=now)
    assert [f.status for f in findings] == [Status.ERROR]
    assert "TypeError" in findings[0].evidence


def test_each_fact_is_read_once_per_run(make_context: MakeContext, now: datetime) -> None:
    calls: dict[str, int] = {}

    class Counting(StaticContext):
        def tls(self) -> TlsFacts:
            calls["tls"] = calls.get("tls", 0) + 1
            return super().tls()

        def hosts(self) -> list[HostFacts]:
            calls["hosts"] = calls.get("hosts", 0) + 1
            return list(super().hosts())

    base = make_context()
    ctx = Counting(**{k: getattr(base, k) for k in base.__dataclass_fields__})
    run(ctx, now)
    assert calls == {"tls": 1, "hosts": 1}


def test_registry_rejects_duplicates_and_unknown_ids(
    make_context: MakeContext, now: datetime
) -> None:
    registry = default_registry()
    with pytest.raises(Conflict):
        registry.add(registry.get("NC-TLS-001"))
    with pytest.raises(NotFound):
        registry.get("NC-NOPE-001")
    with pytest.raises(NotFound):
        registry.run(make_context(), now=now, only=["NC-NOPE-001"])
    assert len(registry) == len(BUILTIN_CHECKS)
