"""The programme summary: every roll-up computed from the rows, as of a date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.corporate.integration import rollup
from novacron.corporate.integration.models import Escalation, Milestone, Programme, Risk
from novacron.corporate.integration.report_schemas import (
    PhaseRollupOut,
    RealisationOut,
    RetentionRatesOut,
    RollupOut,
    SummaryOut,
    WorkstreamRollupOut,
)
from novacron.corporate.integration.service.common import find_programme
from novacron.corporate.integration.service.programmes import phases, workstreams
from novacron.corporate.integration.service.tasks import load_graph
from novacron.corporate.integration.service.value import realisation_report, retention_rates


def _facts(
    s: Session, programme: Programme, today: date
) -> tuple[
    list[rollup.TaskFacts],
    list[rollup.MilestoneFacts],
    list[rollup.EscalationFacts],
    list[rollup.RiskFacts],
    list[str],
    int,
]:
    graph = load_graph(s, programme)
    tasks = []
    for task in graph.tasks.values():
        view = graph.view(task, today)
        tasks.append(
            rollup.TaskFacts(
                task.id,
                task.title,
                task.workstream,
                task.phase,
                task.status,
                task.percent_complete,
                task.start_date,
                task.due_date,
                view.rag,
                view.critical,
            )
        )
    pid = programme.id
    milestones = [
        rollup.MilestoneFacts(m.workstream, m.phase, m.status, m.due_date)
        for m in s.scalars(select(Milestone).where(Milestone.programme_id == pid))
    ]
    escalations = [
        rollup.EscalationFacts(e.workstream, e.severity, e.status == "open")
        for e in s.scalars(select(Escalation).where(Escalation.programme_id == pid))
    ]
    risks = [
        rollup.RiskFacts(r.workstream, r.status != "closed")
        for r in s.scalars(select(Risk).where(Risk.programme_id == pid))
    ]
    return tasks, milestones, escalations, risks, graph.path.tasks, graph.path.length_days


def summary(s: Session, ref: str, today: date, *, project_id: str) -> SummaryOut:
    """Per workstream, per phase and overall: progress, RAG, milestones, escalations;
    plus synergy realisation and retention rates. Nothing here is stored."""
    programme = find_programme(s, ref, project_id=project_id)
    tasks, milestones, escalations, risks, path, path_days = _facts(s, programme, today)

    def group(key: str, attr: str) -> rollup.Rollup:
        return rollup.rollup(
            [t for t in tasks if getattr(t, attr) == key],
            [m for m in milestones if getattr(m, attr) == key],
            [e for e in escalations if attr == "workstream" and e.workstream == key],
            [r for r in risks if attr == "workstream" and r.workstream == key],
            today,
        )

    ws_out = [
        WorkstreamRollupOut(
            key=w.key,
            name=w.name,
            lead=w.lead,
            **RollupOut.model_validate(group(w.key, "workstream")).model_dump(),
        )
        for w in workstreams(s, programme)
    ]
    phase_rows = phases(s, programme)
    phase_out = [
        PhaseRollupOut(
            key=p.key,
            name=p.name,
            start_date=p.start_date,
            end_date=p.end_date,
            **RollupOut.model_validate(group(p.key, "phase")).model_dump(),
        )
        for p in phase_rows
    ]
    report = realisation_report(s, programme, today)
    rates = retention_rates(s, programme)
    overall = rollup.rollup(tasks, milestones, escalations, risks, today)
    rollup.apply_rules(overall, rollup.programme_rules(report.overall.pct, rates.arr_retention_pct))
    current = next((p.key for p in phase_rows if p.start_date <= today <= p.end_date), None)
    return SummaryOut(
        programme_id=programme.id,
        name=programme.name,
        target_id=programme.target_id,
        close_date=programme.close_date,
        as_of=today,
        currency=programme.currency,
        current_phase=current,
        overall=RollupOut.model_validate(overall),
        workstreams=ws_out,
        phases=phase_out,
        synergies={
            "overall": RealisationOut.model_validate(report.overall),
            **{k: RealisationOut.model_validate(v) for k, v in report.by_category.items()},
        },
        retention=RetentionRatesOut.model_validate(rates),
        critical_path=path,
        critical_path_days=path_days,
    )
