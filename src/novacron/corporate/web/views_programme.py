"""View model of an integration programme's page, read through the integration services.

Every roll-up shown (progress, RAG, realisation, retention) is the one the API computes
(``summary``, ``synergies``, ``retention``): the page adds no arithmetic of its own, only
the shapes its charts want.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from novacron.core.pagination import PageParams
from novacron.corporate.integration.models import Escalation
from novacron.corporate.integration.schemas import EscalationOut, ProgrammeOut
from novacron.corporate.integration.service import governance, programmes, summary, tasks, value
from novacron.corporate.integration.service.common import find_programme
from novacron.corporate.web import charts

MAX_ROWS = 500
"""Tasks and milestones shown on the page (a programme holds tens to hundreds)."""


def programmes_list(session: Session, *, project_id: str) -> list[ProgrammeOut]:
    rows, _ = programmes.list_programmes(
        session, PageParams(limit=MAX_ROWS, offset=0), project_id=project_id
    )
    return [ProgrammeOut.model_validate(p) for p in rows]


def programme_context(
    session: Session, ref: str, today: date, *, project_id: str
) -> dict[str, Any]:
    programme = find_programme(session, ref, project_id=project_id)
    roll = summary.summary(session, programme.id, today, project_id=project_id)
    task_items, task_total = tasks.list_tasks(
        session,
        programme.id,
        PageParams(limit=MAX_ROWS, offset=0),
        tasks.TaskFilter(),
        today,
        project_id=project_id,
    )
    milestones, milestone_total = tasks.list_milestones(
        session, programme.id, PageParams(limit=MAX_ROWS, offset=0), today, project_id=project_id
    )
    escalation_rows, _ = governance.list_escalations(
        session, programme.id, PageParams(limit=MAX_ROWS, offset=0), project_id=project_id
    )
    synergy = value.synergies(session, programme.id, today, project_id=project_id)
    phases = [
        {
            "key": p.key,
            "name": p.name,
            "start_date": p.start_date,
            "end_date": p.end_date,
            "rag": p.rag,
        }
        for p in roll.phases
    ]
    return {
        "programme": ProgrammeOut.model_validate(programme),
        "summary": roll,
        "tasks": task_items,
        "task_total": task_total,
        "milestones": milestones,
        "milestone_total": milestone_total,
        "escalations": [_escalation(e) for e in escalation_rows],
        "synergies": synergy,
        "retention": value.retention(session, programme.id, project_id=project_id),
        "workstream_names": {w.key: w.name for w in roll.workstreams},
        "phase_names": {p.key: p.name for p in roll.phases},
        "timeline_fig": charts.timeline(phases, today) if phases else None,
        "realisation_fig": charts.realisation(
            [p.model_dump() for p in synergy.series], synergy.currency
        )
        if synergy.series
        else None,
        "today": today,
    }


def _escalation(row: Escalation) -> EscalationOut:
    return EscalationOut.model_validate(row)
