"""Generating a programme on close, and reading programmes, workstreams and phases."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.finance.money import same_currency
from novacron.corporate.integration import plan
from novacron.corporate.integration.models import (
    Milestone,
    Phase,
    Programme,
    SynergyLine,
    Task,
    TaskDependency,
    Workstream,
)
from novacron.corporate.integration.schemas import (
    PhaseOut,
    ProgrammeDetail,
    ProgrammeOut,
    SynergyLineIn,
    WorkstreamOut,
    WorkstreamUpdate,
)
from novacron.corporate.integration.service.common import child, find_programme

DEFAULT_CURRENCY = "USD"
_PLAN = TypeAdapter(list[SynergyLineIn])


def _synergy_lines(
    synergy_plan: list[dict[str, Any]], currency: str | None = None
) -> list[SynergyLineIn]:
    """The plan validated, with field paths like ``synergy_plan.1.run_rate``; its lines
    must share one currency (the programme's: ``currency`` when given)."""
    try:
        lines = _PLAN.validate_python(synergy_plan)
    except ValidationError as exc:
        errors = [
            {"loc": ["synergy_plan", *err["loc"]], "msg": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("invalid synergy_plan", errors=errors) from None
    tagged = [(f"synergy_plan.{i}.currency", ln.currency) for i, ln in enumerate(lines)]
    if currency is not None:
        tagged.insert(0, ("currency", currency))
    if tagged:
        same_currency(tagged)
    return lines


def generate_programme(
    session: Session,
    *,
    target_id: str,
    target_name: str,
    close_date: date,
    synergy_plan: list[dict[str, Any]],
    created_by: str,
    project_id: str,
    currency: str | None = None,
) -> Programme:
    """The default integration programme, in project ``project_id`` (the deal's), for a
    target that has just closed: nine workstreams, four phases dated from ``close_date``,
    milestones, tasks with their dependencies, and the synergy plan copied for
    realisation tracking. One programme per target in a project: a second call raises
    ``Conflict``. The programme's currency is ``currency`` (the deal's) when given, else
    its synergy lines', else USD."""
    if not target_id or len(target_id) > 64:
        raise Invalid("target_id is required", errors=[{"loc": ["target_id"], "msg": "1-64 chars"}])
    if not target_name or len(target_name) > 200:
        raise Invalid(
            "target_name is required", errors=[{"loc": ["target_name"], "msg": "1-200 chars"}]
        )
    lines = _synergy_lines(synergy_plan, currency)
    existing = session.scalar(
        select(Programme.id).where(
            Programme.project_id == project_id, Programme.target_id == target_id
        )
    )
    if existing:
        raise Conflict(f"target {target_id} already has integration programme {existing}")
    programme = Programme(
        id=new_id("prog"),
        project_id=project_id,
        target_id=target_id,
        target_name=target_name,
        name=f"{target_name} integration"[:200],
        close_date=close_date,
        currency=currency or (lines[0].currency if lines else DEFAULT_CURRENCY),
        created_by=created_by,
    )
    session.add(programme)
    try:
        session.flush()
    except IntegrityError:  # a concurrent close of the same target won the race
        raise Conflict(f"target {target_id} already has an integration programme") from None
    _lay_out(session, programme, plan.build_plan(close_date), created_by)
    for position, line in enumerate(lines):
        session.add(
            SynergyLine(
                id=new_id("syn"),
                programme_id=programme.id,
                position=position,
                category=line.category,
                name=line.name,
                run_rate=line.run_rate,
                currency=line.currency,
                phase_in=[str(share) for share in line.phase_in],
                one_off_cost=line.one_off_cost,
            )
        )
    session.flush()
    return programme


def _lay_out(s: Session, programme: Programme, layout: plan.Plan, created_by: str) -> None:
    pid = programme.id
    for position, (key, name, _role) in enumerate(plan.WORKSTREAMS):
        s.add(Workstream(id=new_id("ws"), programme_id=pid, key=key, name=name, position=position))
    for w in layout.phases:
        s.add(
            Phase(
                id=new_id("phase"),
                programme_id=pid,
                key=w.key,
                name=w.name,
                position=w.position,
                start_date=w.start,
                end_date=w.end,
            )
        )
    for m in layout.milestones:
        s.add(
            Milestone(
                id=new_id("ms"),
                programme_id=pid,
                key=m.key,
                title=m.title,
                phase=m.phase,
                workstream=m.workstream,
                owner=m.owner,
                due_date=m.due,
                status="pending",
                note="",
            )
        )
    ids = {t.key: new_id("task") for t in layout.tasks}
    for t in layout.tasks:
        s.add(
            Task(
                id=ids[t.key],
                programme_id=pid,
                key=t.key,
                title=t.title,
                workstream=t.workstream,
                phase=t.phase,
                owner=t.owner,
                start_date=t.start,
                due_date=t.due,
                status="not_started",
                percent_complete=0,
                created_by=created_by,
            )
        )
    s.flush()
    for t in layout.tasks:
        for dep in t.depends_on:
            s.add(
                TaskDependency(
                    id=new_id("dep"), programme_id=pid, task_id=ids[t.key], depends_on_id=ids[dep]
                )
            )


def list_programmes(
    s: Session, page: PageParams, *, project_id: str
) -> tuple[list[Programme], int]:
    stmt = select(Programme).where(Programme.project_id == project_id)
    return paginate(s, stmt.order_by(Programme.created_at, Programme.id), page)


def detail(s: Session, ref: str, *, project_id: str) -> ProgrammeDetail:
    programme = find_programme(s, ref, project_id=project_id)
    tasks = s.scalar(select(func.count()).where(Task.programme_id == programme.id)) or 0
    milestones = s.scalar(select(func.count()).where(Milestone.programme_id == programme.id)) or 0
    return ProgrammeDetail(
        **ProgrammeOut.model_validate(programme).model_dump(),
        workstreams=[WorkstreamOut.model_validate(w) for w in workstreams(s, programme)],
        phases=[PhaseOut.model_validate(p) for p in phases(s, programme)],
        tasks=tasks,
        milestones=milestones,
    )


def workstreams(s: Session, programme: Programme) -> list[Workstream]:
    stmt = select(Workstream).where(Workstream.programme_id == programme.id)
    return list(s.scalars(stmt.order_by(Workstream.position)))


def phases(s: Session, programme: Programme) -> list[Phase]:
    stmt = select(Phase).where(Phase.programme_id == programme.id)
    return list(s.scalars(stmt.order_by(Phase.position)))


def update_workstream(
    s: Session, ref: str, key: str, body: WorkstreamUpdate, *, project_id: str
) -> Workstream:
    """Name (or clear) a workstream's lead."""
    programme = find_programme(s, ref, project_id=project_id)
    for ws in workstreams(s, programme):
        if ws.key == key:
            ws.lead = body.lead or None
            return ws
    return child(s, Workstream, programme, key, "workstream")  # raises NotFound


def synergy_lines(s: Session, programme: Programme) -> list[SynergyLine]:
    stmt = select(SynergyLine).where(SynergyLine.programme_id == programme.id)
    return list(s.scalars(stmt.order_by(SynergyLine.position)))
