"""Roll-ups of a programme: computed from tasks, milestones and governance, never typed in.

A group (one workstream, one phase, or the whole programme) gets:

- tasks done / total and **weighted % complete** (each task weighs its planned duration in
  days, a done task counts 100 %);
- milestones hit / missed (a pending milestone past its due date counts as missed);
- open escalations and open risks;
- a **RAG**, the worst of these rules:

  red    any red task on the critical path; a quarter or more of the open tasks red;
         an open critical escalation;
  amber  any red task; a quarter or more of the open tasks amber; a missed milestone;
         an open high-severity escalation;
  green  otherwise (also when the group has no tasks yet).

The programme as a whole also turns amber when synergy realisation is under 80 % of plan
to date (red under 50 %) and when ARR retention falls under 90 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from novacron.corporate.finance.money import percent
from novacron.corporate.integration.rag import worst

SHARE_THRESHOLD = 0.25
SYNERGY_AMBER_PCT = 80.0
SYNERGY_RED_PCT = 50.0
ARR_AMBER_PCT = 90.0


@dataclass(frozen=True, slots=True)
class TaskFacts:
    id: str
    title: str
    workstream: str
    phase: str
    status: str
    percent: int
    start: date
    due: date
    rag: str
    critical: bool = False

    @property
    def weight(self) -> int:
        return max((self.due - self.start).days + 1, 1)


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    workstream: str
    phase: str
    status: str
    """pending, hit or missed."""
    due: date

    def missed(self, today: date) -> bool:
        return self.status == "missed" or (self.status == "pending" and self.due < today)


@dataclass(frozen=True, slots=True)
class EscalationFacts:
    workstream: str | None
    severity: str
    open: bool


@dataclass(frozen=True, slots=True)
class RiskFacts:
    workstream: str | None
    open: bool


@dataclass(slots=True)
class Rollup:
    tasks_total: int = 0
    tasks_done: int = 0
    tasks_blocked: int = 0
    percent_complete: float = 0.0
    rag_counts: dict[str, int] = field(default_factory=dict)
    milestones_total: int = 0
    milestones_hit: int = 0
    milestones_missed: int = 0
    open_escalations: int = 0
    open_risks: int = 0
    rag: str = "green"
    rag_reasons: list[str] = field(default_factory=list)


def weighted_percent(tasks: Sequence[TaskFacts]) -> float:
    """Duration-weighted % complete (done = 100)."""
    weight = sum(t.weight for t in tasks)
    if not weight:
        return 0.0
    done = sum(t.weight * (100 if t.status == "done" else t.percent) for t in tasks)
    return round(done / weight, 2)


def _task_rules(tasks: Sequence[TaskFacts]) -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = []
    open_tasks = [t for t in tasks if t.status != "done"]
    red = [t for t in open_tasks if t.rag == "red"]
    amber = [t for t in open_tasks if t.rag == "amber"]
    for task in (t for t in red if t.critical):
        rules.append(("red", f"critical-path task {task.title!r} is red"))
    if open_tasks and len(red) / len(open_tasks) >= SHARE_THRESHOLD:
        rules.append(("red", f"{len(red)} of {len(open_tasks)} open tasks are red"))
    elif red:
        rules.append(("amber", f"{len(red)} task(s) red"))
    if open_tasks and len(amber) / len(open_tasks) >= SHARE_THRESHOLD:
        rules.append(("amber", f"{len(amber)} of {len(open_tasks)} open tasks are amber"))
    return rules


def rollup(
    tasks: Sequence[TaskFacts],
    milestones: Sequence[MilestoneFacts],
    escalations: Sequence[EscalationFacts],
    risks: Sequence[RiskFacts],
    today: date,
) -> Rollup:
    """One group's roll-up (the caller picks which facts belong to the group)."""
    result = Rollup(
        tasks_total=len(tasks),
        tasks_done=sum(t.status == "done" for t in tasks),
        tasks_blocked=sum(t.status == "blocked" for t in tasks),
        percent_complete=weighted_percent(tasks),
        rag_counts={c: sum(t.rag == c for t in tasks) for c in ("green", "amber", "red")},
        milestones_total=len(milestones),
        milestones_hit=sum(m.status == "hit" for m in milestones),
        milestones_missed=sum(m.missed(today) for m in milestones),
        open_escalations=sum(e.open for e in escalations),
        open_risks=sum(r.open for r in risks),
    )
    rules = _task_rules(tasks)
    if result.milestones_missed:
        rules.append(("amber", f"{result.milestones_missed} milestone(s) missed"))
    for severity, colour in (("critical", "red"), ("high", "amber")):
        count = sum(e.open and e.severity == severity for e in escalations)
        if count:
            rules.append((colour, f"{count} open {severity} escalation(s)"))
    apply_rules(result, rules)
    return result


def apply_rules(result: Rollup, rules: Iterable[tuple[str, str]]) -> None:
    """Fold (colour, reason) findings into the roll-up: worst colour, every reason kept."""
    for colour, reason in rules:
        result.rag = worst(result.rag, colour)
        result.rag_reasons.append(reason)


def programme_rules(
    realisation_pct: float | None, arr_retention_pct: float | None
) -> list[tuple[str, str]]:
    """What synergies and retention add to the programme's overall RAG."""
    rules: list[tuple[str, str]] = []
    if realisation_pct is not None and realisation_pct < SYNERGY_AMBER_PCT:
        colour = "red" if realisation_pct < SYNERGY_RED_PCT else "amber"
        rules.append((colour, f"synergy realisation {realisation_pct:g}% of plan to date"))
    if arr_retention_pct is not None and arr_retention_pct < ARR_AMBER_PCT:
        rules.append(("amber", f"ARR retention {arr_retention_pct:g}%"))
    return rules


# -- retention -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Retention:
    employees_total: int
    employees_retained: int
    employees_left: int
    high_flight_risk: int
    """Retained key employees still rated high flight risk."""
    headcount_retention_pct: float | None
    customers_total: int
    customers_retained: int
    customers_at_risk: int
    customers_churned: int
    logo_retention_pct: float | None
    arr_total: Decimal
    arr_retained: Decimal
    """ARR of customers not churned (at-risk ones still count: they still pay)."""
    arr_at_risk: Decimal
    arr_retention_pct: float | None


def retention(
    employees: Iterable[tuple[str, str]], customers: Iterable[tuple[str, Decimal]]
) -> Retention:
    """Rates from key employees ``(status, flight_risk)`` and customers ``(status, arr)``:
    headcount-weighted for people, ARR-weighted (and by logo) for customers."""
    people = list(employees)
    kept = sum(status == "retained" for status, _ in people)
    accounts = list(customers)
    arr_total = sum((arr for _, arr in accounts), start=Decimal(0))
    churned_arr = sum((arr for s, arr in accounts if s == "churned"), start=Decimal(0))
    churned = sum(s == "churned" for s, _ in accounts)
    return Retention(
        employees_total=len(people),
        employees_retained=kept,
        employees_left=len(people) - kept,
        high_flight_risk=sum(s == "retained" and r == "high" for s, r in people),
        headcount_retention_pct=percent(kept, len(people)),
        customers_total=len(accounts),
        customers_retained=sum(s == "retained" for s, _ in accounts),
        customers_at_risk=sum(s == "at_risk" for s, _ in accounts),
        customers_churned=churned,
        logo_retention_pct=percent(len(accounts) - churned, len(accounts)),
        arr_total=arr_total,
        arr_retained=arr_total - churned_arr,
        arr_at_risk=sum((arr for s, arr in accounts if s == "at_risk"), start=Decimal(0)),
        arr_retention_pct=percent(arr_total - churned_arr, arr_total),
    )
