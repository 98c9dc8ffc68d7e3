"""Checks on each hypervisor host, from the facts its agent reports.

A host that did not report a fact gets ``skipped`` for the checks needing it;
NC-HST-004 fails the host itself when it reports nothing recent, so missing
evidence never looks like compliance.
"""

from __future__ import annotations

import re

from novacron.security.compliance.checks.base import (
    Check,
    CheckEnv,
    Verdict,
    failed,
    host_check,
    passed,
    skipped,
)
from novacron.security.compliance.facts import ComplianceContext, HostFacts
from novacron.security.compliance.model import CheckMeta, Framework, Severity, naive_utc

CIS, SOC2, ISO, NIST, PCI = (
    Framework.CIS,
    Framework.SOC2,
    Framework.ISO27001,
    Framework.NIST80053,
    Framework.PCIDSS,
)

_LIST_MAX = 10


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_MAX])
    more = len(items) - _LIST_MAX
    return shown + (f" and {more} more" if more > 0 else "")


def version_tuple(version: str) -> tuple[int, ...]:
    """The numeric release part (``0.1.0rc1`` → ``(0, 1, 0)``); trailing zeros dropped
    so ``1.2`` equals ``1.2.0``."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    if not match:
        raise ValueError(f"not a version: {version!r}")
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@host_check(
    CheckMeta(
        id="NC-AGT-002",
        title="Agent runs the server's version",
        severity=Severity.MEDIUM,
        description="Security fixes ship in both server and agent; an agent behind the "
        "server still has the holes its upgrade closes.",
        remediation="Upgrade the agent package on the host to the server's version and "
        "restart the agent (running VMs are re-attached, not restarted).",
        frameworks={
            CIS: ("2.2", "7.4"),
            SOC2: ("CC7.1",),
            ISO: ("A.8.8",),
            NIST: ("SI-2", "CM-2"),
            PCI: ("6.3.3",),
        },
        scope="host",
    )
)
def agent_version(host: HostFacts, ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    if not host.agent_version:
        return skipped("the agent did not report its version")
    server = ctx.server_version()
    agent_v, server_v = version_tuple(host.agent_version), version_tuple(server)
    if agent_v == server_v:
        return passed(f"agent {host.agent_version} matches server {server}")
    side = "behind" if agent_v < server_v else "ahead of"
    return failed(f"agent {host.agent_version} is {side} server {server}")


@host_check(
    CheckMeta(
        id="NC-HST-001",
        title="Host disks are encrypted at rest",
        severity=Severity.MEDIUM,
        description="VM disks, images and the agent's credentials live on the host; a "
        "disk that leaves the data centre (RMA, theft, disposal) must not leak them.",
        remediation="Put the root filesystem, the NovaCron data directory and swap on "
        "LUKS (dm-crypt) volumes, unlocked at boot by TPM or network-bound (Clevis/Tang) "
        "keys; reinstalling the host is usually the simplest way.",
        frameworks={
            CIS: ("3.11",),
            SOC2: ("CC6.1",),
            ISO: ("A.8.24",),
            NIST: ("SC-28", "SC-28(1)"),
            PCI: ("3.5.1",),
        },
        scope="host",
    )
)
def disk_encryption(host: HostFacts, ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    disks = host.disk_encryption
    if disks is None or not disks.paths:
        return skipped("disk encryption was not reported")
    if disks.unencrypted:
        shown = [f"{p.path} (on {p.device or '?'})" for p in disks.unencrypted]
        return failed(f"not encrypted: {_listing(shown)}")
    if disks.unknown:
        shown = [p.path for p in disks.unknown]
        return skipped(f"could not tell whether these are encrypted: {_listing(shown)}")
    shown = [f"{p.path} via {p.via}" if p.via else p.path for p in disks.paths]
    return passed(f"encrypted: {_listing(shown)}")


@host_check(
    CheckMeta(
        id="NC-HST-002",
        title="No unexpected listening ports",
        severity=Severity.MEDIUM,
        description="Every service listening beyond loopback is attack surface; a host "
        "should expose only SSH, the NovaCron agent and what the site allows.",
        remediation="Stop or uninstall the service, bind it to 127.0.0.1, or firewall it; "
        "if it is needed, add its port to the compliance port allowlist.",
        frameworks={
            CIS: ("4.4", "4.8"),
            SOC2: ("CC6.6",),
            ISO: ("A.8.20",),
            NIST: ("CM-7",),
            PCI: ("1.2.5", "2.2.4"),
        },
        scope="host",
    )
)
def open_ports(host: HostFacts, ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    if host.listening_ports is None:
        return skipped("listening ports were not reported")
    allowed = env.options.allowed_tcp_ports | set(host.expected_ports)
    exposed = sorted({p for p in host.listening_ports if not p.loopback})
    unexpected = [p for p in exposed if not (p.protocol == "tcp" and p.port in allowed)]
    if unexpected:
        return failed(f"unexpected: {_listing([str(p) for p in unexpected])}")
    ports = sorted({p.port for p in exposed})
    return passed(f"listening beyond loopback on allowed ports only: {ports or 'none'}")


@host_check(
    CheckMeta(
        id="NC-HST-003",
        title="No security updates pending",
        severity=Severity.HIGH,
        description="Published security updates are the vulnerabilities attackers know "
        "about first.",
        remediation="Install them (apt-get upgrade, or enable unattended-upgrades for the "
        "security suite); put the host in maintenance first if a reboot is needed.",
        frameworks={
            CIS: ("7.3",),
            SOC2: ("CC7.1",),
            ISO: ("A.8.8",),
            NIST: ("SI-2", "RA-5"),
            PCI: ("6.3.3",),
        },
        scope="host",
    )
)
def security_updates(host: HostFacts, ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    updates = host.pending_updates
    if updates is None:
        return skipped("pending updates were not reported")
    if updates.state == "unknown":
        return skipped(f"pending updates unknown: {updates.reason or 'no reason given'}")
    security = updates.security
    if security:
        names = [f"{u.package} {u.candidate}" for u in security]
        return failed(
            f"{len(security)} security update(s) pending ({updates.total} in all): "
            + _listing(names)
        )
    return passed(f"no security updates pending ({updates.total} other update(s))")


@host_check(
    CheckMeta(
        id="NC-HST-004",
        title="Host reports current compliance facts",
        severity=Severity.LOW,
        description="Checks on a host are only as good as its last report; a host "
        "that stopped reporting is unmonitored.",
        remediation="Check that the agent is running and can reach the server; the "
        "agent collects host facts at start and then periodically.",
        frameworks={
            CIS: ("1.1",),
            SOC2: ("CC4.1", "CC7.2"),
            ISO: ("A.8.16",),
            NIST: ("CA-7",),
            PCI: ("10.7.2",),
        },
        scope="host",
    )
)
def facts_fresh(host: HostFacts, ctx: ComplianceContext, env: CheckEnv) -> Verdict:
    if host.collected_at is None:
        return failed("the host has never reported compliance facts")
    age = env.now - naive_utc(host.collected_at)
    hours = age.total_seconds() / 3600
    limit = env.options.max_fact_age.total_seconds() / 3600
    if age > env.options.max_fact_age:
        return failed(f"last report {hours:.0f} h ago (limit {limit:.0f} h)")
    return passed(f"last report {max(hours, 0):.1f} h ago")


CHECKS: tuple[Check, ...] = (
    agent_version,
    disk_encryption,
    open_ports,
    security_updates,
    facts_fresh,
)
