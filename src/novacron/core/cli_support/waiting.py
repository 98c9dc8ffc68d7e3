"""Operations: wait for one to end, with a progress bar on stderr.

Every change to the fleet answers with an operation; ``wait_operation`` polls
``GET /operations/{id}`` until it is ``succeeded``, ``failed`` or ``cancelled``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from novacron.core.cli_support.client import ApiClient, seg
from novacron.core.cli_support.errors import fail
from novacron.core.cli_support.formatting import _step_name
from novacron.core.cli_support.output import _console
from novacron.core.errors import NovaCronError

TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
POLL_INTERVAL_S = 0.3


class OperationFailed(NovaCronError):
    """An operation the CLI waited for ended ``failed`` or ``cancelled``."""

    def __init__(self, operation: dict[str, Any], hint: str = "") -> None:
        kind = operation.get("kind") or "operation"
        if operation.get("state") == "cancelled":
            message = f"{kind} was cancelled"
        else:
            message = f"{kind} failed: {operation.get('error') or 'no error recorded'}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
        self.operation = operation


def current_step(operation: dict[str, Any]) -> str:
    """What the operation is doing: its own status line (e.g. a migration's bytes and
    rates) while it runs, else the step being worked on, else its kind."""
    line = (operation.get("result") or {}).get("status_line")
    if line and operation.get("state") == "running":
        return str(line)
    steps = [s for s in operation.get("steps") or [] if isinstance(s, dict)]
    for step in steps:
        if step.get("state") == "running":
            return _step_name(step)
    for step in steps:
        if step.get("state") in (None, "pending"):
            return _step_name(step)
    if steps:
        return _step_name(steps[-1])
    return str(operation.get("kind") or "operation")


def _poll(client: ApiClient, op_id: str, interval: float) -> Iterator[dict[str, Any]]:
    while True:
        operation: dict[str, Any] = client.get(f"/operations/{seg(op_id)}")
        yield operation
        if operation.get("state") in TERMINAL_STATES:
            return
        time.sleep(interval)


def wait_operation(
    client: ApiClient,
    op_id: str,
    show_progress: bool,
    *,
    interval: float = POLL_INTERVAL_S,
    raise_on_failure: bool = True,
) -> dict[str, Any]:
    """Poll ``GET /operations/{id}`` until it ends; a progress bar on stderr when asked and
    stderr is a terminal. Raises ``OperationFailed`` if it failed or was cancelled."""
    final: dict[str, Any] = {}
    console = _console(stderr=True)
    try:
        if show_progress and console.is_terminal:
            progress = Progress(
                TextColumn("[bold]{task.fields[kind]}[/]"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            with progress:
                task = progress.add_task("waiting", total=100, kind="operation")
                for operation in _poll(client, op_id, interval):
                    final = operation
                    progress.update(
                        task,
                        completed=int(operation.get("progress") or 0),
                        description=current_step(operation),
                        kind=str(operation.get("kind") or "operation"),
                    )
                if final.get("state") == "succeeded":
                    progress.update(task, completed=100, description="done")
                else:
                    progress.update(task, description=str(final.get("state")))
        else:
            for operation in _poll(client, op_id, interval):
                final = operation
    except KeyboardInterrupt:
        fail(
            f"stopped waiting; operation {op_id} goes on (novacron op wait {op_id})",
            130,
        )
    if raise_on_failure and final.get("state") in ("failed", "cancelled"):
        raise OperationFailed(final)
    return final
