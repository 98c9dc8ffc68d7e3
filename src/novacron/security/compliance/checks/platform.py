"""Checks on the control plane: transport security, identities, audit log.

Framework mappings name real controls (CIS Controls v8 safeguards, SOC 2 trust
services criteria, ISO/IEC 27001:2022 Annex A, NIST SP 800-53 Rev. 5, PCI DSS
v4.0 requirements); a mapping says which control the check gives evidence for,
not that passing it satisfies the whole control.
"""

from __future__ import annotations

from collections.abc import Iterable

from novacron.security.compliance.checks.base import (
    Check,
    CheckEnv,
    Verdict,
    failed,
    passed,
    platform_check,
    skipped,
)
from novacron.security.compliance.facts import ComplianceContext, PasswordPolicy
from novacron.security.compliance.model import (
    PLATFORM,
    CheckMeta,
    Framework,
    Outcome,
    Severity,
    Status,
)

CIS, SOC2, ISO, NIST, PCI = (
    Framework.CIS,
    Framework.SOC2,
    Framework.ISO27001,
    Framework.NIST80053,
    Framework.PCIDSS,
)

MODERN_TLS = ("TLSv1.2", "TLSv1.3")

OWASP_ARGON2ID: tuple[tuple[int, int], ...] = (
    (47104, 1),
    (19456, 2),
    (12288, 3),
    (9216, 4),
    (7168, 5),
)
"""OWASP Password Storage Cheat Sheet: equivalent argon2id minimums as
(memory KiB, iterations), each with parallelism 1. A configuration is strong
enough when it meets one row on both memory and iterations."""


@platform_check(
    CheckMeta(
        id="NC-TLS-001",
        title="API and web UI are served over TLS",
        severity=Severity.HIGH,
        description="Bearer tokens, session cookies and VM console traffic cross the "
        "network; without TLS anyone on the path can read and replay them.",
        remediation="Serve NovaCron over HTTPS: NOVACRON_TLS=1 (novacron up --tls) with "
        "NovaCron's own CA, or NOVACRON_TLS_CERT_FILE/NOVACRON_TLS_KEY_FILE with yours (or "
        "terminate TLS at a reverse proxy and set NOVACRON_PUBLIC_URL to the https:// "
        "address agents and users should use).",
        frameworks={
            CIS: ("3.10",),
            SOC2: ("CC6.7",),
            ISO: ("A.8.24",),
            NIST: ("SC-8", "SC-8(1)", "SC-13"),
            PCI: ("4.2.1", "2.2.7"),
        },
    )
)
def tls_enabled(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    if ctx.tls().enabled:
        return passed("the API is served over HTTPS")
    return failed("the API is served over plain HTTP")


@platform_check(
    CheckMeta(
        id="NC-TLS-002",
        title="Only TLS 1.2 or newer is accepted",
        severity=Severity.MEDIUM,
        description="SSL 3.0, TLS 1.0 and TLS 1.1 have known weaknesses (RFC 8996 "
        "deprecates them); a server that still accepts them can be downgraded.",
        remediation="Set the server's minimum TLS version to TLSv1.2 (TLSv1.3 where all "
        "clients support it), including on any terminating proxy.",
        frameworks={
            CIS: ("3.10",),
            SOC2: ("CC6.7",),
            ISO: ("A.8.24",),
            NIST: ("SC-8(1)", "SC-13"),
            PCI: ("4.2.1",),
        },
    )
)
def tls_min_version(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    tls = ctx.tls()
    if not tls.enabled:
        return skipped("TLS is not enabled (see NC-TLS-001)")
    if tls.min_version is None:
        return skipped("the minimum TLS version was not reported")
    if tls.min_version in MODERN_TLS:
        return passed(f"minimum protocol version is {tls.min_version}")
    return failed(f"minimum protocol version is {tls.min_version}; TLSv1.2 is required")


@platform_check(
    CheckMeta(
        id="NC-TLS-003",
        title="Server certificate is valid and not about to expire",
        severity=Severity.HIGH,
        description="An expired certificate breaks agents and clients, and teaches users "
        "to click through warnings.",
        remediation="Renew the server certificate (automate it, e.g. with ACME) and "
        "reload the server before the current one expires.",
        frameworks={
            CIS: ("3.10",),
            SOC2: ("CC6.7",),
            ISO: ("A.8.24",),
            NIST: ("SC-12", "SC-17"),
            PCI: ("4.2.1",),
        },
    )
)
def certificate_expiry(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    tls = ctx.tls()
    if not tls.enabled:
        return skipped("TLS is not enabled (see NC-TLS-001)")
    expires = tls.certificate_expires_at
    if expires is None:
        return skipped("the certificate expiry date was not reported")
    left = expires - env.now
    stamp = expires.strftime("%Y-%m-%d %H:%M UTC")
    if left.total_seconds() <= 0:
        return failed(f"the certificate expired on {stamp}")
    if left < env.options.certificate_warning:
        return failed(f"the certificate expires on {stamp}, in {left.days} days")
    return passed(f"the certificate is valid until {stamp} ({left.days} days)")


@platform_check(
    CheckMeta(
        id="NC-AGT-001",
        title="Agents authenticate with mutual TLS",
        severity=Severity.HIGH,
        description="The server drives every hypervisor through its agent; with "
        "client certificates on both sides neither can be impersonated on the network.",
        remediation="Issue each agent a client certificate from the NovaCron CA and "
        "require client certificates on the agent and server endpoints.",
        frameworks={
            CIS: ("3.10",),
            SOC2: ("CC6.1", "CC6.7"),
            ISO: ("A.8.5", "A.8.24"),
            NIST: ("IA-3", "SC-8", "SC-23"),
            PCI: ("4.2.1", "8.3.2"),
        },
    )
)
def agents_mtls(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    if ctx.agents_use_mtls():
        return passed("server and agents authenticate each other with certificates")
    return failed("agents are not authenticated with client certificates")


@platform_check(
    CheckMeta(
        id="NC-IAM-001",
        title="Administrators use multi-factor authentication",
        severity=Severity.HIGH,
        description="An administrator can run, move and delete every VM; a stolen "
        "password alone must not be enough.",
        remediation="Have the administrator enrol a second factor (TOTP or WebAuthn) "
        "under their profile, or remove the admin role from the account.",
        frameworks={
            CIS: ("6.5",),
            SOC2: ("CC6.1",),
            ISO: ("A.8.5",),
            NIST: ("IA-2(1)",),
            PCI: ("8.4.1",),
        },
    )
)
def admins_use_mfa(ctx: ComplianceContext, env: CheckEnv) -> Iterable[Outcome]:
    # One finding per admin, so a break-glass account can be muted on its own.
    admins = sorted(ctx.admins(), key=lambda a: a.username)
    if not admins:
        return [Outcome(PLATFORM, Status.SKIPPED, "there are no administrator accounts")]
    out = []
    for admin in admins:
        resource = f"user:{admin.username}"
        if admin.disabled:
            out.append(Outcome(resource, Status.SKIPPED, "the account is disabled"))
        elif admin.mfa_enabled:
            out.append(Outcome(resource, Status.PASS, "a second factor is enrolled"))
        else:
            out.append(Outcome(resource, Status.FAIL, "administrator without a second factor"))
    return out


@platform_check(
    CheckMeta(
        id="NC-IAM-002",
        title="No default credentials remain",
        severity=Severity.CRITICAL,
        description="The installer creates an initial admin password and bootstrap "
        "tokens; left unchanged they are the first thing an attacker tries and they "
        "often sit in files and shell histories.",
        remediation="Change the bootstrap administrator's password, rotate the "
        "bootstrap admin token and the agent enrolment secret, and delete the "
        "files the installer wrote them to.",
        frameworks={
            CIS: ("4.7",),
            SOC2: ("CC6.1",),
            ISO: ("A.5.17",),
            NIST: ("IA-5",),
            PCI: ("2.2.2", "8.3.5"),
        },
    )
)
def no_default_credentials(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    found = ctx.default_credentials()
    if not found:
        return passed("no initial password or bootstrap secret is still in use")
    listed = "; ".join(f"{c.subject}: {c.detail}" for c in found)
    return failed(f"{len(found)} default credential(s) in use: {listed}")


def password_policy_problems(policy: PasswordPolicy, min_length: int) -> list[str]:
    """Everything wrong with a policy, empty when it is fine (pure, for the UI too)."""
    problems = []
    if policy.min_length < min_length:
        problems.append(f"minimum length {policy.min_length} < {min_length}")
    if policy.max_length is not None and policy.max_length < 64:
        problems.append(f"maximum length {policy.max_length} < 64 (NIST SP 800-63B)")
    if policy.argon2_variant.lower() != "argon2id":
        problems.append(f"hash is {policy.argon2_variant}, not argon2id")
    if policy.parallelism < 1:
        problems.append(f"parallelism {policy.parallelism} < 1")
    if not argon2_meets_owasp(policy.memory_kib, policy.time_cost):
        problems.append(
            f"Argon2 m={policy.memory_kib} KiB, t={policy.time_cost} is below OWASP "
            "(m=19456 KiB/t=2, m=47104 KiB/t=1 or an equivalent)"
        )
    return problems


def argon2_meets_owasp(memory_kib: int, time_cost: int) -> bool:
    return any(memory_kib >= m and time_cost >= t for m, t in OWASP_ARGON2ID)


@platform_check(
    CheckMeta(
        id="NC-IAM-003",
        title="Password policy and hashing meet current guidance",
        severity=Severity.MEDIUM,
        description="Short passwords fall to guessing; weak hashing parameters make a "
        "leaked user table cheap to crack.",
        remediation="Require passwords of at least 12 characters (15 where passwords are "
        "the only factor), allow at least 64, and hash with argon2id at m=19456 KiB, "
        "t=2, p=1 or stronger; existing hashes are upgraded at next login.",
        frameworks={
            CIS: ("5.2",),
            SOC2: ("CC6.1",),
            ISO: ("A.5.17", "A.8.5"),
            NIST: ("IA-5(1)",),
            PCI: ("8.3.6", "8.3.2"),
        },
    )
)
def password_policy(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    policy = ctx.password_policy()
    problems = password_policy_problems(policy, env.options.min_password_length)
    summary = (
        f"min length {policy.min_length}, {policy.argon2_variant} "
        f"m={policy.memory_kib} KiB t={policy.time_cost} p={policy.parallelism}"
    )
    if problems:
        return failed(f"{summary}: " + "; ".join(problems))
    return passed(summary)


@platform_check(
    CheckMeta(
        id="NC-IAM-004",
        title="No idle API tokens",
        severity=Severity.LOW,
        description="Tokens nobody uses are forgotten in scripts and files, and nobody "
        "notices when someone else starts using them.",
        remediation="Revoke tokens that have not been used for 90 days (novacron token "
        "revoke); issue new ones when they are needed again, with an expiry.",
        frameworks={
            CIS: ("5.3",),
            SOC2: ("CC6.2",),
            ISO: ("A.5.18",),
            NIST: ("AC-2(3)",),
            PCI: ("8.2.6",),
        },
    )
)
def no_idle_tokens(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    cutoff = env.now - env.options.token_max_idle
    active = [
        t
        for t in ctx.api_tokens()
        if t.revoked_at is None and (t.expires_at is None or t.expires_at > env.now)
    ]
    idle = sorted(
        (t for t in active if (t.last_used_at or t.created_at) < cutoff), key=lambda t: t.name
    )
    days = env.options.token_max_idle.days
    if not idle:
        return passed(f"{len(active)} active token(s), all used within {days} days")
    names = ", ".join(
        f"{t.name} (last used {t.last_used_at.date().isoformat()})"
        if t.last_used_at
        else f"{t.name} (never used)"
        for t in idle
    )
    return failed(f"{len(idle)} of {len(active)} active token(s) idle for {days}+ days: {names}")


@platform_check(
    CheckMeta(
        id="NC-SES-001",
        title="Session cookie is Secure, HttpOnly and SameSite",
        severity=Severity.MEDIUM,
        description="Without Secure the cookie leaks over HTTP; without HttpOnly any "
        "injected script can read it; without SameSite other sites can ride on it.",
        remediation="Set the session cookie with Secure, HttpOnly and SameSite=Lax (or "
        "Strict); Secure requires serving over HTTPS (NC-TLS-001).",
        frameworks={
            CIS: ("3.10",),
            SOC2: ("CC6.1",),
            ISO: ("A.8.26",),
            NIST: ("SC-23",),
            PCI: ("6.2.4",),
        },
    )
)
def session_cookie(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    cookie = ctx.session_cookie()
    same_site = (cookie.same_site or "").lower()
    missing = [
        name
        for name, ok in (
            ("Secure", cookie.secure),
            ("HttpOnly", cookie.http_only),
            ("SameSite=Lax/Strict", same_site in ("lax", "strict")),
        )
        if not ok
    ]
    shown = f"Secure={cookie.secure}, HttpOnly={cookie.http_only}, SameSite={cookie.same_site}"
    if missing:
        return failed(f"{shown}; missing: {', '.join(missing)}")
    return passed(shown)


@platform_check(
    CheckMeta(
        id="NC-LOG-001",
        title="Audit log hash chain is intact",
        severity=Severity.CRITICAL,
        description="Every audit record carries the hash of the one before it; a break "
        "means records were altered or deleted after they were written.",
        remediation="Treat a break as a security incident: preserve the database, compare "
        "against backups and the exported audit stream to find what changed at the "
        "reported record, then start a new chain segment recorded with the finding.",
        frameworks={
            CIS: ("8.2",),
            SOC2: ("CC7.2",),
            ISO: ("A.8.15",),
            NIST: ("AU-9", "AU-9(3)"),
            PCI: ("10.3.2", "10.3.4"),
        },
    )
)
def audit_chain(ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    status = ctx.audit_chain()
    if status.ok:
        return passed(f"{status.records_checked} audit record(s) verified")
    where = f" at record {status.broken_at}" if status.broken_at is not None else ""
    why = f": {status.reason}" if status.reason else ""
    return failed(f"chain broken{where} ({status.records_checked} checked){why}")


CHECKS: tuple[Check, ...] = (
    tls_enabled,
    tls_min_version,
    certificate_expiry,
    agents_mtls,
    admins_use_mfa,
    no_default_credentials,
    password_policy,
    no_idle_tokens,
    session_cookie,
    audit_chain,
)
