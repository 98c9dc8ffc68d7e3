"""The built-in checks and the engine that runs them.

NC-TLS-001  API and web UI are served over TLS
NC-TLS-002  only TLS 1.2 or newer is accepted
NC-TLS-003  server certificate valid and not about to expire
NC-AGT-001  agents authenticate with mutual TLS
NC-AGT-002  agent runs the server's version                    (per host)
NC-IAM-001  administrators use MFA                             (per admin)
NC-IAM-002  no default credentials remain
NC-IAM-003  password policy and Argon2 parameters (OWASP)
NC-IAM-004  no idle API tokens
NC-SES-001  session cookie Secure, HttpOnly, SameSite
NC-LOG-001  audit log hash chain intact
NC-HST-001  disks encrypted at rest                            (per host)
NC-HST-002  no unexpected listening ports                      (per host)
NC-HST-003  no security updates pending                        (per host)
NC-HST-004  host reports current compliance facts              (per host)
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from novacron.security.compliance.checks import hosts, platform
from novacron.security.compliance.checks.base import (
    CachedContext,
    Check,
    CheckEnv,
    CheckOptions,
    Registry,
    Verdict,
    failed,
    host_check,
    passed,
    platform_check,
    skipped,
)
from novacron.security.compliance.facts import ComplianceContext
from novacron.security.compliance.model import Finding

BUILTIN_CHECKS: tuple[Check, ...] = platform.CHECKS + hosts.CHECKS


def default_registry() -> Registry:
    """A fresh registry of the built-in checks (add site checks to it freely)."""
    return Registry.of(BUILTIN_CHECKS)


def run_checks(
    context: ComplianceContext,
    registry: Registry | None = None,
    *,
    options: CheckOptions | None = None,
    now: datetime | None = None,
    only: Collection[str] | None = None,
) -> list[Finding]:
    """Run every check (or those in ``only``) against ``context``; never raises for a
    failing check — its findings say ``error`` with the reason."""
    return (registry or default_registry()).run(context, options=options, now=now, only=only)


__all__ = [
    "BUILTIN_CHECKS",
    "CachedContext",
    "Check",
    "CheckEnv",
    "CheckOptions",
    "Registry",
    "Verdict",
    "default_registry",
    "failed",
    "host_check",
    "passed",
    "platform_check",
    "run_checks",
    "skipped",
]
