"""Tasks, their dependencies (a DAG) and milestones.

RAG, blockers and the critical path are computed on read from dates, progress and the
dependency graph (``rag.py``, ``dag.py``); writes that touch the graph lock the programme
row first so two concurrent edits can't close a cycle between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.integration import dag, rag
from novacron.corporate.integration.models import Milestone, Programme, Task, TaskDependency
from novacron.corporate.integration.schemas import (
    CriticalPathOut,
    DependencyIn,
    MilestoneOut,
    MilestoneUpdate,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)
from novacron.corporate.integration.service.common import child, find_programme, invalid


@dataclass
class TaskGraph:
    """One programme's tasks with their dependency edges and critical path."""

    tasks: dict[str, Task]
    deps: dict[str, list[str]]
    path: dag.CriticalPath

    @property
    def done(self) -> set[str]:
        return {tid for tid, t in self.tasks.items() if t.status == "done"}

    def view(self, task: Task, today: date) -> TaskOut:
        colour = rag.task_rag(
            task.status,
            task.percent_complete,
            task.start_date,
            task.due_date,
            today,
            task.rag_override,
            task.rag_override_reason,
        )
        return TaskOut(
            id=task.id,
            key=task.key,
            title=task.title,
            workstream=task.workstream,
            phase=task.phase,
            owner=task.owner,
            start_date=task.start_date,
            due_date=task.due_date,
            status=task.status,
            percent_complete=task.percent_complete,
            rag=colour.rag,
            rag_computed=colour.computed,
            rag_reason=colour.reason,
            rag_override=task.rag_override,
            rag_override_reason=task.rag_override_reason,
            depends_on=sorted(self.deps.get(task.id, [])),
            blocked_by=dag.blockers(self.deps, task.id, self.done),
            critical=task.id in self.path.tasks,
        )


def duration(task: Task) -> int:
    return (task.due_date - task.start_date).days + 1


def load_graph(s: Session, programme: Programme) -> TaskGraph:
    rows = s.scalars(
        select(Task)
        .where(Task.programme_id == programme.id)
        .order_by(Task.start_date, Task.due_date, Task.id)
    )
    tasks = {t.id: t for t in rows}
    deps: dict[str, list[str]] = {tid: [] for tid in tasks}
    edges = s.execute(
        select(TaskDependency.task_id, TaskDependency.depends_on_id).where(
            TaskDependency.programme_id == programme.id
        )
    )
    for task_id, depends_on in edges:
        deps[task_id].append(depends_on)
    path = dag.critical_path(deps, {tid: duration(t) for tid, t in tasks.items()})
    return TaskGraph(tasks, deps, path)


@dataclass(frozen=True)
class TaskFilter:
    workstream: str | None = None
    phase: str | None = None
    status: str | None = None
    owner: str | None = None
    rag: str | None = None
    critical: bool | None = None

    def keeps(self, out: TaskOut) -> bool:
        wanted = {
            "workstream": self.workstream,
            "phase": self.phase,
            "status": self.status,
            "owner": self.owner,
            "rag": self.rag,
            "critical": self.critical,
        }
        return all(v is None or getattr(out, k) == v for k, v in wanted.items())


def list_tasks(
    s: Session, ref: str, page: PageParams, filt: TaskFilter, today: date, *, project_id: str
) -> tuple[list[TaskOut], int]:
    """A page of tasks with computed RAG (filtering on RAG needs it computed first; a
    programme holds tens to hundreds of tasks, so this happens in memory)."""
    graph = load_graph(s, find_programme(s, ref, project_id=project_id))
    views = [v for v in (graph.view(t, today) for t in graph.tasks.values()) if filt.keeps(v)]
    return views[page.offset : page.offset + page.limit], len(views)


def get_task(s: Session, ref: str, task_id: str, today: date, *, project_id: str) -> TaskOut:
    programme = find_programme(s, ref, project_id=project_id)
    task = child(s, Task, programme, task_id, "task")
    return load_graph(s, programme).view(task, today)


def _check_dates(start: date, due: date) -> None:
    if due < start:
        raise invalid("due_date", f"due date {due} is before the start date {start}")


def create_task(
    s: Session, ref: str, body: TaskCreate, who: str, today: date, *, project_id: str
) -> TaskOut:
    programme = find_programme(s, ref, project_id=project_id, lock=True)
    _check_dates(body.start_date, body.due_date)
    for i, dep in enumerate(body.depends_on):
        found = s.get(Task, dep)
        if found is None or found.programme_id != programme.id:
            raise invalid(f"depends_on.{i}", f"no task {dep!r} in this programme")
    task = Task(
        id=new_id("task"),
        programme_id=programme.id,
        title=body.title,
        workstream=body.workstream,
        phase=body.phase,
        owner=body.owner or who,
        start_date=body.start_date,
        due_date=body.due_date,
        status="not_started",
        percent_complete=0,
        created_by=who,
    )
    s.add(task)
    s.flush()
    for dep in dict.fromkeys(body.depends_on):
        s.add(
            TaskDependency(
                id=new_id("dep"), programme_id=programme.id, task_id=task.id, depends_on_id=dep
            )
        )
    s.flush()
    return load_graph(s, programme).view(task, today)


def update_task(
    s: Session, ref: str, task_id: str, body: TaskUpdate, today: date, *, project_id: str
) -> TaskOut:
    """Progress, dates, owner, status and the RAG override. ``done`` needs every
    dependency done first (``InvalidState`` naming them)."""
    programme = find_programme(s, ref, project_id=project_id, lock=True)
    task = child(s, Task, programme, task_id, "task")
    given = body.model_fields_set
    for field in ("title", "owner", "start_date", "due_date"):
        if field in given and getattr(body, field) is not None:
            setattr(task, field, getattr(body, field))
    _check_dates(task.start_date, task.due_date)
    if body.percent_complete is not None:
        task.percent_complete = body.percent_complete
        if task.status == "not_started" and body.percent_complete > 0 and body.status is None:
            task.status = "in_progress"
    if body.status is not None:
        _set_status(s, programme, task, body.status)
    if "rag_override" in given:
        _set_override(task, body)
    elif "rag_override_reason" in given and task.rag_override is not None:
        task.rag_override_reason = body.rag_override_reason
    s.flush()
    return load_graph(s, programme).view(task, today)


def _set_status(s: Session, programme: Programme, task: Task, status: str) -> None:
    if status == "done":
        graph = load_graph(s, programme)
        pending = [d for d in graph.deps.get(task.id, []) if graph.tasks[d].status != "done"]
        if pending:
            names = ", ".join(f"{graph.tasks[d].title!r} ({d})" for d in pending)
            raise InvalidState(
                f"task {task.title!r} can't be done before its dependencies: {names}"
            )
        task.percent_complete = 100
    elif task.status == "done" and task.percent_complete == 100:
        task.percent_complete = 90  # reopened: no longer complete
    task.status = status


def _set_override(task: Task, body: TaskUpdate) -> None:
    if body.rag_override is None:
        task.rag_override = task.rag_override_reason = None
        return
    reason = (body.rag_override_reason or "").strip()
    if not reason:
        raise invalid("rag_override_reason", "a manual RAG override needs a reason")
    task.rag_override, task.rag_override_reason = body.rag_override, reason


def add_dependency(
    s: Session, ref: str, task_id: str, body: DependencyIn, today: date, *, project_id: str
) -> TaskOut:
    """``task_id`` now waits for ``body.depends_on``; refused with ``Invalid`` (naming the
    dependency and the cycle) when that would close a cycle."""
    programme = find_programme(s, ref, project_id=project_id, lock=True)
    task = child(s, Task, programme, task_id, "task")
    dep = s.get(Task, body.depends_on)
    if dep is None or dep.programme_id != programme.id:
        raise invalid("depends_on", f"no task {body.depends_on!r} in this programme")
    graph = load_graph(s, programme)
    if dep.id in graph.deps.get(task.id, []):
        raise Conflict(f"task {task.id} already depends on {dep.id}")
    cycle = dag.cycle_if_added(graph.deps, task.id, dep.id)
    if cycle is not None:
        chain = " → ".join(graph.tasks[t].title for t in cycle)
        raise Invalid(
            f"depending on {dep.id} ({dep.title!r}) would close a cycle: {chain}",
            errors=[{"loc": ["depends_on"], "msg": f"closes the cycle {' → '.join(cycle)}"}],
        )
    if task.status == "done" and dep.status != "done":
        raise InvalidState(
            f"task {task.title!r} is done; it can't wait for unfinished {dep.title!r}"
        )
    s.add(
        TaskDependency(
            id=new_id("dep"), programme_id=programme.id, task_id=task.id, depends_on_id=dep.id
        )
    )
    s.flush()
    return load_graph(s, programme).view(task, today)


def remove_dependency(
    s: Session, ref: str, task_id: str, depends_on: str, *, project_id: str
) -> None:
    programme = find_programme(s, ref, project_id=project_id, lock=True)
    edge = s.scalars(
        select(TaskDependency).where(
            TaskDependency.programme_id == programme.id,
            TaskDependency.task_id == task_id,
            TaskDependency.depends_on_id == depends_on,
        )
    ).first()
    if edge is None:
        raise NotFound(f"task {task_id} does not depend on {depends_on}")
    s.delete(edge)


def critical_path(s: Session, ref: str, today: date, *, project_id: str) -> CriticalPathOut:
    graph = load_graph(s, find_programme(s, ref, project_id=project_id))
    return CriticalPathOut(
        length_days=graph.path.length_days,
        tasks=[graph.view(graph.tasks[t], today) for t in graph.path.tasks],
    )


# -- milestones ------------------------------------------------------------------------------


def milestone_view(m: Milestone, today: date) -> MilestoneOut:
    """The milestone with ``missed`` computed: marked missed, or pending past its due date."""
    return MilestoneOut(
        id=m.id,
        key=m.key,
        title=m.title,
        phase=m.phase,
        workstream=m.workstream,
        owner=m.owner,
        due_date=m.due_date,
        status=m.status,
        completed_on=m.completed_on,
        note=m.note,
        missed=m.status == "missed" or (m.status == "pending" and m.due_date < today),
    )


def list_milestones(
    s: Session,
    ref: str,
    page: PageParams,
    today: date,
    *,
    project_id: str,
    phase: str | None = None,
    workstream: str | None = None,
    status: str | None = None,
) -> tuple[list[MilestoneOut], int]:
    programme = find_programme(s, ref, project_id=project_id)
    stmt = select(Milestone).where(Milestone.programme_id == programme.id)
    for column, value in (
        (Milestone.phase, phase),
        (Milestone.workstream, workstream),
        (Milestone.status, status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = paginate(s, stmt.order_by(Milestone.due_date, Milestone.id), page)
    return [milestone_view(m, today) for m in rows], total


def update_milestone(
    s: Session, ref: str, milestone_id: str, body: MilestoneUpdate, today: date, *, project_id: str
) -> MilestoneOut:
    """Mark a milestone hit (on ``completed_on``, default today), missed, or pending again."""
    programme = find_programme(s, ref, project_id=project_id)
    m = child(s, Milestone, programme, milestone_id, "milestone")
    for field in ("owner", "due_date", "note"):
        value = getattr(body, field)
        if value is not None:
            setattr(m, field, value)
    if body.status is not None:
        m.status = body.status
        m.completed_on = (body.completed_on or today) if body.status == "hit" else None
    elif body.completed_on is not None:
        if m.status != "hit":
            raise invalid("completed_on", "only a milestone that was hit has a completion date")
        m.completed_on = body.completed_on
    s.flush()
    return milestone_view(m, today)
