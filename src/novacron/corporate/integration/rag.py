"""Red/amber/green for one task, computed from its dates and progress.

The rules, first match wins (``today`` is the as-of date):

1. done → green;
2. past its due date → red (overdue);
3. blocked → red when due within 7 days, else amber;
4. due within 7 days and under 80 % complete → amber;
5. start date passed but not started → amber (late start);
6. more than 25 points behind the straight-line schedule → amber;
7. otherwise green.

A manual override (with a reason) replaces the computed colour for display and roll-ups;
the computed colour stays visible beside it so an override can't hide a slip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RAGS = ("green", "amber", "red")
TASK_STATUSES = ("not_started", "in_progress", "blocked", "done")
DUE_SOON_DAYS = 7
DUE_SOON_MIN_PERCENT = 80
BEHIND_SCHEDULE_POINTS = 25


def worst(*colours: str) -> str:
    """The worst of some RAG colours (green when none)."""
    return max(colours, key=RAGS.index, default="green")


@dataclass(frozen=True, slots=True)
class TaskRag:
    rag: str
    """What roll-ups use: the override when set, else the computed colour."""
    computed: str
    reason: str


def expected_percent(start: date, due: date, today: date) -> float:
    """Straight-line schedule: how far along a task should be on ``today``."""
    if today < start:
        return 0.0
    span = (due - start).days + 1
    return min(100.0, 100.0 * ((today - start).days + 1) / span)


def computed_rag(status: str, percent: int, start: date, due: date, today: date) -> tuple[str, str]:
    """The colour the rules above give, and why."""
    if status == "done":
        return "green", "done"
    if today > due:
        return "red", f"overdue since {due.isoformat()}"
    days_left = (due - today).days
    if status == "blocked":
        return ("red" if days_left <= DUE_SOON_DAYS else "amber"), "blocked"
    if days_left <= DUE_SOON_DAYS and percent < DUE_SOON_MIN_PERCENT:
        return "amber", f"due in {days_left} day(s) at {percent}%"
    if status == "not_started" and today > start:
        return "amber", f"should have started on {start.isoformat()}"
    expected = expected_percent(start, due, today)
    if expected - percent > BEHIND_SCHEDULE_POINTS:
        return "amber", f"{percent}% done, {expected:.0f}% expected by now"
    return "green", "on track"


def task_rag(
    status: str,
    percent: int,
    start: date,
    due: date,
    today: date,
    override: str | None = None,
    override_reason: str | None = None,
) -> TaskRag:
    colour, why = computed_rag(status, percent, start, due, today)
    if override is None:
        return TaskRag(colour, colour, why)
    return TaskRag(override, colour, f"manual override: {override_reason or 'no reason given'}")
