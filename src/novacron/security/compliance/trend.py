"""How compliance moves between runs: pass rate, failures by severity, new and
resolved findings.

The pass rate is ``passed / (passed + failed)``: muted findings are accepted risks,
errors and skips say nothing either way, so none of them counts. A finding is
identified across runs by (check id, resource). "New" failures fail now and did
not fail in the previous run; "resolved" ones failed then and pass now (a finding
that disappears, say its host was removed, is neither).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from novacron.security.compliance.model import SEVERITIES, CheckMeta, Finding, Severity, Status


@dataclass(frozen=True)
class FindingSummary:
    """The part of a finding a run keeps for trends (what the runs table stores)."""

    check_id: str
    resource: str
    status: Status
    severity: Severity

    @property
    def key(self) -> tuple[str, str]:
        return (self.check_id, self.resource)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started_at: datetime
    findings: Sequence[FindingSummary]


@dataclass(frozen=True)
class RunTrend:
    run_id: str
    started_at: datetime
    counts: Mapping[Status, int]
    pass_rate: float | None
    """Between 0 and 1; ``None`` when nothing passed or failed."""
    failures_by_severity: Mapping[Severity, int]
    new_failures: tuple[tuple[str, str], ...]
    resolved: tuple[tuple[str, str], ...]


def summarize(findings: Iterable[Finding], metas: Mapping[str, CheckMeta]) -> list[FindingSummary]:
    """Findings → summaries, taking each check's severity from its metadata."""
    return [
        FindingSummary(
            f.check_id,
            f.resource,
            f.status,
            metas[f.check_id].severity if f.check_id in metas else Severity.INFO,
        )
        for f in findings
    ]


def pass_rate(findings: Iterable[FindingSummary]) -> float | None:
    counts = Counter(f.status for f in findings)
    judged = counts[Status.PASS] + counts[Status.FAIL]
    return counts[Status.PASS] / judged if judged else None


def compute_trend(runs: Iterable[RunRecord]) -> list[RunTrend]:
    """One ``RunTrend`` per run, oldest first; the first run's failures are all new."""
    ordered = sorted(runs, key=lambda r: (r.started_at, r.run_id))
    trends = []
    previous_failing: set[tuple[str, str]] = set()
    for run in ordered:
        counts = Counter(f.status for f in run.findings)
        failing = {f.key for f in run.findings if f.status is Status.FAIL}
        passing = {f.key for f in run.findings if f.status is Status.PASS}
        by_severity = Counter(f.severity for f in run.findings if f.status is Status.FAIL)
        trends.append(
            RunTrend(
                run_id=run.run_id,
                started_at=run.started_at,
                counts={s: counts.get(s, 0) for s in Status},
                pass_rate=pass_rate(run.findings),
                failures_by_severity={s: by_severity.get(s, 0) for s in SEVERITIES},
                new_failures=tuple(sorted(failing - previous_failing)),
                resolved=tuple(sorted(previous_failing & passing)),
            )
        )
        previous_failing = failing
    return trends
