"""Compliance use cases: run the checks and keep the run, list runs and their trend,
render reports, manage mutes, store the facts agents report.

A run is three short transactions so no lock is held while checks read the platform:
start (the run row, ``running``), evaluate (a read-only session: ``PlatformContext``
plus the active mutes), finish (findings and summary, ``done``). A run whose evaluation
raised is marked ``failed`` with the reason; one interrupted by a crash stays
``running`` and is simply not counted in trends.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from novacron import __version__
from novacron.compute.models import Agent
from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.database import Database, db_now
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.security.audit.log import AuditEntry, append
from novacron.security.compliance.checks import CheckOptions, Registry, default_registry
from novacron.security.compliance.facts import HostFacts
from novacron.security.compliance.facts_codec import host_facts_to_json
from novacron.security.compliance.model import (
    SEVERITIES,
    CheckMeta,
    Finding,
    Severity,
    Status,
    naive_utc,
)
from novacron.security.compliance.models import (
    ComplianceFinding,
    ComplianceMute,
    ComplianceRun,
    HostFactsRecord,
)
from novacron.security.compliance.mutes import Mute, apply_mutes, new_mute
from novacron.security.compliance.platform_context import PlatformContext
from novacron.security.compliance.reports import FORMATS, ReportRun
from novacron.security.compliance.trend import (
    FindingSummary,
    RunRecord,
    RunTrend,
    compute_trend,
    pass_rate,
    summarize,
)

log = logging.getLogger("novacron.compliance")

MANUAL, SCHEDULE = "manual", "schedule"
RUNNING, DONE, FAILED = "running", "done", "failed"
REPORT_EXTENSIONS = {"html": "html", "csv": "csv", "ocsf": "ocsf.json", "sarif": "sarif"}


@cache
def registry() -> Registry:
    """The checks every run evaluates (built once; nothing adds to it at run time)."""
    return default_registry()


def check_metas() -> dict[str, CheckMeta]:
    return registry().metas


def check_options(settings: Settings) -> CheckOptions:
    return CheckOptions(allowed_tcp_ports=frozenset(settings.compliance_allowed_ports))


# -- runs -------------------------------------------------------------------------------


def start_run(
    session: Session, trigger: str, requested_by: str, now: datetime | None = None
) -> ComplianceRun:
    if trigger not in (MANUAL, SCHEDULE):
        raise ValueError(f"unknown trigger {trigger!r}")
    run = ComplianceRun(
        id=new_id("crun"),
        started_at=naive_utc(now) if now else db_now(session),
        finished_at=None,
        trigger=trigger,
        requested_by=requested_by[:128],
        status=RUNNING,
        summary={},
    )
    session.add(run)
    session.flush()
    return run


def evaluate(db: Database, settings: Settings, now: datetime) -> list[Finding]:
    """Every check against the platform as it is now, with the active mutes applied."""
    with db.read() as s:
        context = PlatformContext(s, settings, now=now)
        findings = registry().run(context, options=check_options(settings), now=now)
        mutes = SqlMuteStore(s).list(now=now)
    return apply_mutes(findings, mutes, now)


def execute_run(db: Database, settings: Settings, run: ComplianceRun) -> ComplianceRun:
    """Evaluate and store the findings of a started run; returns it finished."""
    try:
        findings = evaluate(db, settings, run.started_at)
    except Exception as exc:
        with db.session() as s:
            failed = _lock_run(s, run.id)
            failed.status, failed.finished_at = FAILED, utcnow()
            failed.summary = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
        raise
    with db.session() as s:
        return finish_run(s, run.id, findings)


def run_compliance(
    db: Database,
    settings: Settings,
    *,
    requested_by: str,
    trigger: str = MANUAL,
    now: datetime | None = None,
) -> ComplianceRun:
    """Start, evaluate and store a run (synchronous: host facts are pre-collected, so
    the slowest part is verifying the audit chain)."""
    with db.session() as s:
        run = start_run(s, trigger, requested_by, now)
    return execute_run(db, settings, run)


def finish_run(
    session: Session, run_id: str, findings: Sequence[Finding], now: datetime | None = None
) -> ComplianceRun:
    run = _lock_run(session, run_id)
    metas = check_metas()
    rows = [
        {
            "run_id": run_id,
            "check_id": f.check_id,
            "status": f.status.value,
            "severity": metas[f.check_id].severity.value,
            "resource": f.resource[:256],
            "evidence": f.evidence,
            "observed_at": naive_utc(f.observed_at),
            "mute_reason": f.mute_reason,
            "muted_status": f.muted_status.value if f.muted_status else None,
        }
        for f in findings
    ]
    if rows:
        session.execute(insert(ComplianceFinding), rows)
    run.status, run.finished_at = DONE, naive_utc(now) if now else utcnow()
    run.summary = summary_of(summarize(findings, metas))
    session.flush()
    return run


def _lock_run(session: Session, run_id: str) -> ComplianceRun:
    run = session.get(ComplianceRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"no compliance run {run_id}")
    return run


def summary_of(findings: Sequence[FindingSummary]) -> dict[str, Any]:
    counts = Counter(f.status for f in findings)
    failing = Counter(f.severity for f in findings if f.status is Status.FAIL)
    return {
        "findings": len(findings),
        "counts": {s.value: counts.get(s, 0) for s in Status},
        "pass_rate": pass_rate(findings),
        "failures_by_severity": {s.value: failing.get(s, 0) for s in SEVERITIES},
    }


def get_run(session: Session, run_id: str) -> ComplianceRun:
    run = session.get(ComplianceRun, run_id)
    if run is None:
        raise NotFound(f"no compliance run {run_id}")
    return run


def list_runs(session: Session, params: PageParams) -> tuple[list[ComplianceRun], int]:
    stmt = select(ComplianceRun).order_by(ComplianceRun.started_at.desc(), ComplianceRun.id.desc())
    return paginate(session, stmt, params)


def run_findings(
    session: Session,
    run_id: str,
    *,
    status: str | None = None,
    check_id: str | None = None,
) -> list[ComplianceFinding]:
    """A run's findings in the order the checks ran (the registry's order)."""
    get_run(session, run_id)
    stmt = select(ComplianceFinding).where(ComplianceFinding.run_id == run_id)
    if status is not None:
        stmt = stmt.where(ComplianceFinding.status == status)
    if check_id is not None:
        stmt = stmt.where(ComplianceFinding.check_id == check_id)
    return list(session.scalars(stmt.order_by(ComplianceFinding.id)))


def to_finding(row: ComplianceFinding) -> Finding:
    return Finding(
        check_id=row.check_id,
        status=Status(row.status),
        resource=row.resource,
        evidence=row.evidence,
        observed_at=row.observed_at,
        mute_reason=row.mute_reason,
        muted_status=Status(row.muted_status) if row.muted_status else None,
    )


def run_trend(session: Session, runs: int = 30) -> list[RunTrend]:
    """Pass rate, failures and new/resolved findings of the last ``runs`` finished runs,
    oldest first."""
    latest = list(
        session.scalars(
            select(ComplianceRun)
            .where(ComplianceRun.status == DONE)
            .order_by(ComplianceRun.started_at.desc(), ComplianceRun.id.desc())
            .limit(runs)
        )
    )
    by_run: dict[str, list[FindingSummary]] = defaultdict(list)
    if latest:
        rows = session.execute(
            select(
                ComplianceFinding.run_id,
                ComplianceFinding.check_id,
                ComplianceFinding.resource,
                ComplianceFinding.status,
                ComplianceFinding.severity,
            ).where(ComplianceFinding.run_id.in_([r.id for r in latest]))
        )
        for run_id, check_id, resource, status, severity in rows:
            by_run[run_id].append(
                FindingSummary(check_id, resource, Status(status), Severity(severity))
            )
    return compute_trend(RunRecord(r.id, r.started_at, by_run[r.id]) for r in latest)


# -- reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    media_type: str
    filename: str
    body: str


def render_report(session: Session, run_id: str, fmt: str) -> Report:
    if fmt not in FORMATS:
        raise Invalid(
            f"unknown report format {fmt!r} (available: {', '.join(FORMATS)})",
            errors=[{"loc": ["query", "format"], "msg": f"must be one of {', '.join(FORMATS)}"}],
        )
    run = get_run(session, run_id)
    if run.status != DONE:
        raise Conflict(f"compliance run {run_id} is {run.status}: there is nothing to report")
    metas = check_metas()
    # A check a later version dropped has no metadata to report it with.
    findings = [to_finding(r) for r in run_findings(session, run_id) if r.check_id in metas]
    report = ReportRun(
        run_id=run.id,
        started_at=run.started_at,
        findings=findings,
        checks=metas,
        product_version=__version__,
        finished_at=run.finished_at,
        title="NovaCron compliance report",
    )
    media_type, render = FORMATS[fmt]
    return Report(
        media_type, f"novacron-compliance-{run.id}.{REPORT_EXTENSIONS[fmt]}", render(report)
    )


# -- mutes ------------------------------------------------------------------------------


def _to_mute(row: ComplianceMute) -> Mute:
    return Mute(
        id=row.id,
        check_id=row.check_id,
        resource_pattern=row.resource_pattern,
        reason=row.reason,
        expires_at=row.expires_at,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class SqlMuteStore:
    """``MuteStore`` over the ``compliance_mutes`` table, in the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, mute: Mute) -> None:
        self.session.add(
            ComplianceMute(
                id=mute.id,
                check_id=mute.check_id,
                resource_pattern=mute.resource_pattern,
                reason=mute.reason,
                expires_at=mute.expires_at,
                created_by=mute.created_by,
                created_at=mute.created_at,
            )
        )
        self.session.flush()

    def get(self, mute_id: str) -> Mute:
        row = self.session.get(ComplianceMute, mute_id)
        if row is None:
            raise NotFound(f"no mute {mute_id}")
        return _to_mute(row)

    def delete(self, mute_id: str) -> None:
        self.get(mute_id)
        self.session.execute(delete(ComplianceMute).where(ComplianceMute.id == mute_id))

    def list(self, *, include_expired: bool = False, now: datetime | None = None) -> list[Mute]:
        stmt = select(ComplianceMute).order_by(
            ComplianceMute.check_id, ComplianceMute.created_at, ComplianceMute.id
        )
        if not include_expired:
            stmt = stmt.where(ComplianceMute.expires_at > (naive_utc(now) if now else utcnow()))
        return [_to_mute(r) for r in self.session.scalars(stmt)]


def create_mute(
    session: Session,
    *,
    check_id: str,
    resource_pattern: str,
    reason: str,
    expires_at: datetime,
    created_by: str,
    now: datetime | None = None,
) -> Mute:
    """Validate (known check, a reason, an expiry in the future) and store a mute."""
    mute = new_mute(
        check_id,
        resource_pattern,
        reason,
        expires_at,
        created_by,
        now=now,
        known_checks=check_metas().keys(),
    )
    SqlMuteStore(session).add(mute)
    return mute


# -- host facts -------------------------------------------------------------------------


def record_host_facts(
    session: Session, agent: Agent, facts: HostFacts, now: datetime | None = None
) -> HostFactsRecord:
    """Keep ``facts`` as the agent's latest report, under the agent's name (never the
    name the body claims: one agent cannot report for another's machine)."""
    now = naive_utc(now) if now else utcnow()
    collected = naive_utc(facts.collected_at) if facts.collected_at else now
    # A report "from the future" (the agent's clock is ahead) would look fresh forever.
    collected = min(collected, now)
    facts = replace(facts, name=agent.name, collected_at=collected)
    row = session.get(HostFactsRecord, agent.id, with_for_update=True)
    if row is None:
        row = HostFactsRecord(agent_id=agent.id)
        session.add(row)
    row.host_name = agent.name
    row.facts = host_facts_to_json(facts)
    row.collected_at, row.received_at = collected, now
    session.flush()
    return row


def audit_scheduled_run(session: Session, run: ComplianceRun) -> None:
    """Scheduled runs have no request to audit: record them like the routes do."""
    append(
        session,
        AuditEntry(
            actor="scheduler",
            actor_kind="system",
            action="compliance.run",
            target=f"compliance-run:{run.id}",
            detail={"trigger": run.trigger, "status": run.status, **_counts(run)},
        ),
    )


def _counts(run: ComplianceRun) -> dict[str, Any]:
    counts = (run.summary or {}).get("counts") or {}
    return {"failed": counts.get("fail", 0), "passed": counts.get("pass", 0)}
