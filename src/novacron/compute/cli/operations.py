"""``novacron op``: list, show, wait for and cancel operations."""

from __future__ import annotations

import typer

from novacron.compute.cli.common import LIMIT, OFFSET, one_of
from novacron.core.cli_support import (
    Column,
    OperationFailed,
    fmt_time,
    get_context,
    handle_errors,
    render,
    seg,
    wait_operation,
)

op_app = typer.Typer(help="Operations: every change to the fleet, with progress.")


def _truncate(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


OP_STATES = ("pending", "running", "succeeded", "failed", "cancelled")

OP_COLUMNS: list[Column] = [
    ("id", "id"),
    ("kind", "kind"),
    ("target", "target_id"),
    ("state", "state"),
    ("progress", lambda op: f"{op.get('progress', 0)}%"),
    ("error", lambda op: _truncate(op.get("error") or "", 60) or None),
    ("created", lambda op: fmt_time(op.get("created_at"))),
]


@op_app.command("list")
@handle_errors
def op_list(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None,
        "--state",
        callback=one_of(OP_STATES, "an operation state"),
        help=", ".join(OP_STATES),
    ),
    kind: str | None = typer.Option(None, "--kind", help="e.g. vm.create"),
    target: str | None = typer.Option(None, "--target", help="Target id"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List operations, newest first."""
    cli = get_context(ctx)
    params = {"state": state, "kind": kind, "target": target, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get("/operations", params=params), OP_COLUMNS, empty="no operations")


OP_ARG = typer.Argument(..., help="Operation id")


@op_app.command("show")
@handle_errors
def op_show(ctx: typer.Context, op_id: str = OP_ARG) -> None:
    """Show one operation with its steps."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/operations/{seg(op_id)}"))


@op_app.command("wait")
@handle_errors
def op_wait(ctx: typer.Context, op_id: str = OP_ARG) -> None:
    """Wait for an operation to end; exit 1 if it failed."""
    cli = get_context(ctx)
    with cli.client() as api:
        final = wait_operation(api, op_id, show_progress=not cli.json, raise_on_failure=False)
        render(cli, final)
    if final.get("state") != "succeeded":
        raise OperationFailed(final)


@op_app.command("cancel")
@handle_errors
def op_cancel(ctx: typer.Context, op_id: str = OP_ARG) -> None:
    """Cancel a pending operation."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"/operations/{seg(op_id)}/cancel"))
