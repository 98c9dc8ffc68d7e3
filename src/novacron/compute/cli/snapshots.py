"""``novacron vm snapshot``: create, list, revert to and delete a VM's snapshots.

A snapshot of a running or paused VM saves its RAM too (reverting resumes it where it
was); a stopped VM's snapshot is of its disk only."""

from __future__ import annotations

import sys
from typing import Any

import typer

from novacron.compute.cli.common import NO_WAIT, _finish
from novacron.compute.cli.image_files import fmt_bytes
from novacron.compute.cli.vm_spec import render_vm
from novacron.core.cli_support import (
    ApiClient,
    Column,
    fmt_time,
    get_context,
    handle_errors,
    message,
    render,
    seg,
)
from novacron.core.errors import NovaCronError

snapshot_app = typer.Typer(help="VM snapshots: create, list, revert, delete.")

VM_ARG = typer.Argument(..., help="VM name or id")
SNAP_ARG = typer.Argument(..., help="Snapshot name")


SNAPSHOT_COLUMNS: list[Column] = [
    ("name", "name"),
    ("power state", "power_state"),
    ("ram", lambda s: fmt_bytes(int(s["vm_state_bytes"])) if s.get("vm_state_bytes") else "no"),
    ("created", lambda s: fmt_time(s.get("created_at"))),
    ("id", "id"),
]


def _snapshots_path(vm: str) -> str:
    return f"/vms/{seg(vm)}/snapshots"


def _find(api: ApiClient, vm: str, name: str) -> dict[str, Any] | None:
    for snap in api.get(_snapshots_path(vm)) or []:
        if isinstance(snap, dict) and snap.get("name") == name:
            return snap
    return None


@snapshot_app.command("create")
@handle_errors
def snapshot_create(
    ctx: typer.Context, vm: str = VM_ARG, snapshot: str = SNAP_ARG, no_wait: bool = NO_WAIT
) -> None:
    """Snapshot a VM (with its RAM when it runs); waits, then prints the snapshot."""
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(_snapshots_path(vm), json={"name": snapshot})
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            render(cli, _find(api, vm, snapshot) or final)


@snapshot_app.command("list")
@handle_errors
def snapshot_list(ctx: typer.Context, vm: str = VM_ARG) -> None:
    """List a VM's snapshots, oldest first."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(_snapshots_path(vm)), SNAPSHOT_COLUMNS, empty="no snapshots")


@snapshot_app.command("revert")
@handle_errors
def snapshot_revert(
    ctx: typer.Context, vm: str = VM_ARG, snapshot: str = SNAP_ARG, no_wait: bool = NO_WAIT
) -> None:
    """Return a VM to a snapshot (its disk, and its RAM if saved); prints the VM."""
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"{_snapshots_path(vm)}/{seg(snapshot)}/revert")
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            render_vm(cli, api.get(f"/vms/{seg(final.get('target_id') or vm)}"))


@snapshot_app.command("delete")
@handle_errors
def snapshot_delete(
    ctx: typer.Context,
    vm: str = VM_ARG,
    snapshot: str = SNAP_ARG,
    yes: bool = typer.Option(False, "--yes", "-y", help="Don't ask for confirmation"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Delete a snapshot. Asks first when run interactively, unless --yes."""
    cli = get_context(ctx)
    if (
        not yes
        and sys.stdin.isatty()
        and not typer.confirm(f"Delete snapshot {snapshot} of VM {vm}?", err=True)
    ):
        raise NovaCronError("aborted: nothing deleted")
    with cli.client() as api:
        operation = api.delete(f"{_snapshots_path(vm)}/{seg(snapshot)}")
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            message(cli, f"deleted snapshot {snapshot} of VM {vm}", final)
