"""Compliance: checks over platform and host facts, mutes, reports and trends.

    model       Severity, Status, Framework, CheckMeta, Finding
    facts       the facts checks read; ComplianceContext (server implements it), StaticContext
    checks      the built-in checks, Registry, run_checks(context) -> list[Finding]
    host_facts  Linux fact collectors for the agent (lsblk, psutil, apt-get) + pure parsers
    mutes       accepted risks with reason and expiry; apply_mutes; MuteStore
    reports     HTML, CSV, OCSF (class 2003) and SARIF 2.1.0 from a ReportRun
    trend       pass rate, failures by severity, new/resolved between runs
    schedule    Schedule: every N m/h/d or daily HH:MM UTC → next run time

The modules above are pure: no database, HTTP or settings. The server's side:

    facts_codec       HostFacts ⇄ JSON (the agent's report, the host_facts table)
    models            tables: compliance_runs, compliance_findings, compliance_mutes, host_facts
    platform_context  PlatformContext: the ComplianceContext of a running platform
    service           runs (evaluate, store, list, trend, report), SqlMuteStore, host facts
    scheduler         scheduled runs (compliance_schedule), one replica per due slot
    schemas           Pydantic types of the API (security/api/compliance_routes.py)

They are not imported here, so the agent (which needs host_facts) loads no server code.
A typical run::

    findings = apply_mutes(run_checks(ctx, options=opts), mute_store.list(), now)
    html = render_html(ReportRun(run_id, started, findings, default_registry().metas, version))
"""

from __future__ import annotations

from novacron.security.compliance.checks import (
    BUILTIN_CHECKS,
    Check,
    CheckOptions,
    Registry,
    default_registry,
    run_checks,
)
from novacron.security.compliance.facts import (
    AdminAccount,
    AuditChainStatus,
    ComplianceContext,
    CookieFlags,
    DefaultCredential,
    DiskEncryption,
    HostFacts,
    ListeningPort,
    PasswordPolicy,
    PathEncryption,
    PendingUpdate,
    PendingUpdates,
    StaticContext,
    TlsFacts,
    TokenInfo,
)
from novacron.security.compliance.model import (
    FRAMEWORKS,
    PLATFORM,
    SEVERITIES,
    CheckMeta,
    Finding,
    Framework,
    Outcome,
    Severity,
    Status,
)
from novacron.security.compliance.mutes import (
    InMemoryMuteStore,
    Mute,
    MuteStore,
    apply_mutes,
    new_mute,
)
from novacron.security.compliance.schedule import Schedule
from novacron.security.compliance.trend import (
    FindingSummary,
    RunRecord,
    RunTrend,
    compute_trend,
    pass_rate,
    summarize,
)

__all__ = [
    "BUILTIN_CHECKS",
    "FRAMEWORKS",
    "PLATFORM",
    "SEVERITIES",
    "AdminAccount",
    "AuditChainStatus",
    "Check",
    "CheckMeta",
    "CheckOptions",
    "ComplianceContext",
    "CookieFlags",
    "DefaultCredential",
    "DiskEncryption",
    "Finding",
    "FindingSummary",
    "Framework",
    "HostFacts",
    "InMemoryMuteStore",
    "ListeningPort",
    "Mute",
    "MuteStore",
    "Outcome",
    "PasswordPolicy",
    "PathEncryption",
    "PendingUpdate",
    "PendingUpdates",
    "Registry",
    "RunRecord",
    "RunTrend",
    "Schedule",
    "Severity",
    "StaticContext",
    "Status",
    "TlsFacts",
    "TokenInfo",
    "apply_mutes",
    "compute_trend",
    "default_registry",
    "new_mute",
    "pass_rate",
    "run_checks",
    "summarize",
]
