"""What every report format shares: the run being reported and its summaries."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from novacron.core.errors import Invalid
from novacron.security.compliance.model import (
    FRAMEWORKS,
    SEVERITIES,
    CheckMeta,
    Finding,
    Framework,
    Severity,
    Status,
)

PRODUCT = "NovaCron"
VENDOR = "NovaCron project"
TOOL = "NovaCron compliance"
INFO_URI = "https://novacron.dev"

# Worst first: the order findings are listed and a control's status is decided.
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.MUTED, Status.SKIPPED, Status.PASS)


@dataclass(frozen=True)
class ReportRun:
    """One compliance run and the metadata of the checks that produced it."""

    run_id: str
    started_at: datetime
    findings: Sequence[Finding]
    checks: Mapping[str, CheckMeta]
    product_version: str
    finished_at: datetime | None = None
    title: str = "Compliance report"

    def __post_init__(self) -> None:
        unknown = sorted({f.check_id for f in self.findings} - set(self.checks))
        if unknown:
            raise Invalid(f"findings reference unknown checks: {', '.join(unknown)}")

    def meta(self, finding: Finding) -> CheckMeta:
        return self.checks[finding.check_id]

    def ordered(self) -> list[Finding]:
        """Failures first, then by severity, check id and resource."""
        return sorted(
            self.findings,
            key=lambda f: (
                STATUS_ORDER.index(f.status),
                self.meta(f).severity.rank,
                f.check_id,
                f.resource,
            ),
        )


def status_counts(findings: Sequence[Finding]) -> dict[Status, int]:
    counts = Counter(f.status for f in findings)
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


def severity_summary(run: ReportRun) -> dict[Severity, dict[Status, int]]:
    """Severity → status → count (every cell present, zeros included)."""
    table: dict[Severity, dict[Status, int]] = {
        s: dict.fromkeys(STATUS_ORDER, 0) for s in SEVERITIES
    }
    for f in run.findings:
        table[run.meta(f).severity][f.status] += 1
    return table


@dataclass(frozen=True)
class ControlSummary:
    control_id: str
    status: Status
    """The worst status among the findings mapped to it."""
    check_ids: tuple[str, ...]
    counts: Mapping[Status, int]


@dataclass(frozen=True)
class FrameworkSummary:
    framework: Framework
    controls: tuple[ControlSummary, ...]
    counts: Mapping[Status, int] = field(default_factory=dict)
    """Controls per status."""

    @property
    def controls_passing(self) -> int:
        return sum(1 for c in self.controls if c.status is Status.PASS)


def _control_sort_key(control_id: str) -> tuple[object, ...]:
    # "A.8.5" before "A.8.24", "CC6.1" before "CC6.10", "SC-8" before "SC-8(1)".
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", control_id))


def framework_summary(run: ReportRun) -> list[FrameworkSummary]:
    """Per framework, each mapped control with the worst status of its findings."""
    out = []
    for framework in FRAMEWORKS:
        by_control: dict[str, list[Finding]] = {}
        checks_by_control: dict[str, set[str]] = {}
        for meta in run.checks.values():
            for control in meta.controls(framework):
                checks_by_control.setdefault(control, set()).add(meta.id)
                by_control.setdefault(control, [])
        for f in run.findings:
            for control in run.meta(f).controls(framework):
                by_control[control].append(f)
        controls = []
        for control in sorted(by_control, key=_control_sort_key):
            found = by_control[control]
            worst = min((STATUS_ORDER.index(f.status) for f in found), default=None)
            controls.append(
                ControlSummary(
                    control_id=control,
                    status=STATUS_ORDER[worst] if worst is not None else Status.SKIPPED,
                    check_ids=tuple(sorted(checks_by_control[control])),
                    counts=status_counts(found),
                )
            )
        tally = Counter(c.status for c in controls)
        out.append(
            FrameworkSummary(framework, tuple(controls), {s: tally.get(s, 0) for s in STATUS_ORDER})
        )
    return out


def mapping_text(meta: CheckMeta) -> str:
    """``NIST SP 800-53 Rev. 5: SC-8, SC-13; PCI DSS v4.0: 4.2.1`` (CSV, HTML)."""
    return "; ".join(
        f"{fw.value}: {', '.join(meta.controls(fw))}" for fw in FRAMEWORKS if meta.controls(fw)
    )
