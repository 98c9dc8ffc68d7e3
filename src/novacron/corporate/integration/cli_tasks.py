"""``novacron corporate tasks``: list, add, update, depend, undepend."""

from __future__ import annotations

import typer

from novacron.core.cli_support import (
    Column,
    get_context,
    handle_errors,
    message,
    render,
    seg,
)
from novacron.corporate.integration.cli_common import (
    AS_OF,
    LIMIT,
    OFFSET,
    PROGRAMME,
    base,
    given,
)

tasks_app = typer.Typer(
    help="Integration tasks: progress, RAG, dependencies.", no_args_is_help=True
)

TASK_COLUMNS: list[Column] = [
    ("title", "title"),
    ("workstream", "workstream"),
    ("phase", "phase"),
    ("owner", "owner"),
    ("due", "due_date"),
    ("status", "status"),
    ("%", "percent_complete"),
    ("rag", lambda t: t["rag"] + ("*" if t.get("rag_override") else "")),
    ("critical", "critical"),
    ("blocked by", lambda t: len(t.get("blocked_by") or []) or ""),
    ("id", "id"),
]
TASK = typer.Argument(..., help="Task id")


@tasks_app.command("list")
@handle_errors
def tasks_list(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    workstream: str | None = typer.Option(None, "--workstream"),
    phase: str | None = typer.Option(None, "--phase"),
    status: str | None = typer.Option(None, "--status"),
    owner: str | None = typer.Option(None, "--owner"),
    rag: str | None = typer.Option(None, "--rag", help="green, amber or red"),
    critical: bool | None = typer.Option(
        None, "--critical/--not-critical", help="On (or off) the critical path"
    ),
    as_of: str | None = AS_OF,
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List tasks with their computed RAG (* marks a manual override)."""
    cli = get_context(ctx)
    params = {
        "workstream": workstream,
        "phase": phase,
        "status": status,
        "owner": owner,
        "rag": rag,
        "critical": None if critical is None else str(critical).lower(),
        "as_of": as_of,
        "limit": limit,
        "offset": offset,
    }
    with cli.client() as api:
        render(
            cli, api.get(f"{base(programme)}/tasks", params=params), TASK_COLUMNS, empty="no tasks"
        )


@tasks_app.command("add")
@handle_errors
def tasks_add(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    title: str = typer.Option(..., "--title"),
    workstream: str = typer.Option(..., "--workstream"),
    phase: str = typer.Option(..., "--phase"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    due: str = typer.Option(..., "--due", help="YYYY-MM-DD"),
    owner: str | None = typer.Option(None, "--owner", help="Default: you"),
    depends_on: list[str] = typer.Option([], "--depends-on", help="Task id (repeatable)"),
) -> None:
    """Add a task to a programme."""
    cli = get_context(ctx)
    body = given(
        title=title,
        workstream=workstream,
        phase=phase,
        start_date=start,
        due_date=due,
        owner=owner,
        depends_on=list(depends_on),
    )
    with cli.client() as api:
        task = api.post(f"{base(programme)}/tasks", json=body)
    message(cli, f"added task {task['id']} ({task['rag']})", task)


@tasks_app.command("update")
@handle_errors
def tasks_update(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    task: str = TASK,
    status: str | None = typer.Option(
        None, "--status", help="not_started, in_progress, blocked, done"
    ),
    percent: int | None = typer.Option(None, "--percent", help="% complete (0-100)"),
    owner: str | None = typer.Option(None, "--owner"),
    title: str | None = typer.Option(None, "--title"),
    start: str | None = typer.Option(None, "--start", help="YYYY-MM-DD"),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD"),
    rag: str | None = typer.Option(None, "--rag", help="Manual RAG override (needs --reason)"),
    reason: str | None = typer.Option(None, "--reason", help="Why the RAG is overridden"),
    clear_rag: bool = typer.Option(False, "--clear-rag", help="Back to the computed RAG"),
) -> None:
    """Record progress, change dates or owner, or override the RAG."""
    cli = get_context(ctx)
    body = given(
        status=status,
        percent_complete=percent,
        owner=owner,
        title=title,
        start_date=start,
        due_date=due,
        rag_override=rag,
        rag_override_reason=reason,
    )
    if clear_rag:
        body["rag_override"] = None
    with cli.client() as api:
        out = api.request("PATCH", f"{base(programme)}/tasks/{seg(task)}", json=body)
    message(
        cli, f"task {out['id']}: {out['status']}, {out['percent_complete']}%, {out['rag']}", out
    )


@tasks_app.command("depend")
@handle_errors
def tasks_depend(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    task: str = TASK,
    depends_on: str = typer.Argument(..., help="The task it waits for"),
) -> None:
    """Make TASK wait for DEPENDS_ON (refused if it closes a cycle)."""
    cli = get_context(ctx)
    with cli.client() as api:
        out = api.post(
            f"{base(programme)}/tasks/{seg(task)}/dependencies", json={"depends_on": depends_on}
        )
    message(cli, f"task {task} now depends on {depends_on}", out)


@tasks_app.command("undepend")
@handle_errors
def tasks_undepend(
    ctx: typer.Context,
    programme: str = PROGRAMME,
    task: str = TASK,
    depends_on: str = typer.Argument(..., help="The task it no longer waits for"),
) -> None:
    """Remove a dependency."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"{base(programme)}/tasks/{seg(task)}/dependencies/{seg(depends_on)}")
    message(
        cli,
        f"task {task} no longer depends on {depends_on}",
        {"task": task, "depends_on": depends_on},
    )
