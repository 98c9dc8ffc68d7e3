"""``novacron vm``: create, list, show, power actions, delete."""

from __future__ import annotations

import sys
from typing import Any

import typer

from novacron.compute.cli.common import LIMIT, NO_WAIT, OFFSET, _finish, one_of
from novacron.compute.states import ALL_STATES
from novacron.core.cli_support import (
    Column,
    OperationFailed,
    fmt_mib,
    fmt_time,
    get_context,
    handle_errors,
    message,
    parse_key_values,
    render,
    seg,
    wait_operation,
)
from novacron.core.errors import NovaCronError

vm_app = typer.Typer(help="Virtual machines: create, list, power actions, delete.")

VM_STATES = tuple(sorted(ALL_STATES))

VM_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("state", "state"),
    ("vcpus", "vcpus"),
    ("memory", lambda vm: fmt_mib(vm.get("memory_mib"))),
    ("host", "host_name"),
    ("created", lambda vm: fmt_time(vm.get("created_at"))),
]


@vm_app.command("create")
@handle_errors
def vm_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique VM name"),
    vcpus: int = typer.Option(..., "--vcpus", help="Virtual CPUs"),
    memory: int = typer.Option(..., "--memory", help="Memory in MiB"),
    disk: int | None = typer.Option(None, "--disk", help="Disk in GiB (server default: 10)"),
    image: str | None = typer.Option(None, "--image", help="Image name or id"),
    host: str | None = typer.Option(None, "--host", help="Force this host (name or id)"),
    group: str | None = typer.Option(None, "--group", help="Placement group name or id"),
    label: list[str] | None = typer.Option(None, "--label", help="VM label KEY=VALUE (repeat)"),
    host_label: list[str] | None = typer.Option(
        None, "--host-label", help="Only hosts with label KEY=VALUE (repeat)"
    ),
    trait: list[str] | None = typer.Option(
        None, "--trait", help="Required host capability (repeat)"
    ),
    no_wait: bool = NO_WAIT,
) -> None:
    """Create a VM; waits until it runs, then prints it."""
    cli = get_context(ctx)
    body: dict[str, Any] = {
        "name": name,
        "vcpus": vcpus,
        "memory_mib": memory,
        "labels": parse_key_values(label, "--label"),
        "host_labels": parse_key_values(host_label, "--host-label"),
        "traits": list(trait or []),
    }
    for key, value in (("disk_gib", disk), ("image", image), ("host", host), ("group", group)):
        if value is not None:
            body[key] = value
    with cli.client() as api:
        operation = api.post("/vms", json=body)
        if no_wait:
            render(cli, operation)
            return
        try:
            final = wait_operation(api, operation["id"], show_progress=not cli.json)
        except OperationFailed as exc:
            # Like Nova, the VM stays (in error) so its fault can be read; say so.
            raise OperationFailed(
                exc.operation,
                hint=f"VM {name} is kept in state error; remove it with: novacron vm delete {name}",
            ) from None
        render(cli, api.get(f"/vms/{seg(final['target_id'])}"))


@vm_app.command("list")
@handle_errors
def vm_list(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None,
        "--state",
        callback=one_of(VM_STATES, "a VM state"),
        help="Only VMs in this state: " + ", ".join(VM_STATES),
    ),
    host: str | None = typer.Option(None, "--host", help="Only VMs on this host"),
    name: str | None = typer.Option(None, "--name", help="Only VMs with this name"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List VMs."""
    cli = get_context(ctx)
    params = {"state": state, "host": host, "name": name, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get("/vms", params=params), VM_COLUMNS, empty="no VMs")


@vm_app.command("show")
@handle_errors
def vm_show(ctx: typer.Context, vm: str = typer.Argument(..., help="VM name or id")) -> None:
    """Show one VM."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/vms/{seg(vm)}"))


def _vm_action(ctx: typer.Context, vm: str, action: str, no_wait: bool, body: Any = None) -> None:
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"/vms/{seg(vm)}/{action}", json=body)
        _finish(cli, api, operation, no_wait, f"/vms/{seg(operation.get('target_id') or vm)}")


VM_ARG = typer.Argument(..., help="VM name or id")


def _stdin_is_tty() -> bool:
    """Whether someone can answer a question (``vm delete`` asks first only then)."""
    return sys.stdin.isatty()


@vm_app.command("start")
@handle_errors
def vm_start(ctx: typer.Context, vm: str = VM_ARG, no_wait: bool = NO_WAIT) -> None:
    """Start a stopped VM."""
    _vm_action(ctx, vm, "start", no_wait)


@vm_app.command("stop")
@handle_errors
def vm_stop(
    ctx: typer.Context,
    vm: str = VM_ARG,
    force: bool = typer.Option(False, "--force", help="Power off at once (no ACPI shutdown)"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Stop a VM (ACPI shutdown, or power off with --force)."""
    _vm_action(ctx, vm, "stop", no_wait, body={"force": force})


@vm_app.command("reboot")
@handle_errors
def vm_reboot(ctx: typer.Context, vm: str = VM_ARG, no_wait: bool = NO_WAIT) -> None:
    """Reboot a running VM."""
    _vm_action(ctx, vm, "reboot", no_wait)


@vm_app.command("pause")
@handle_errors
def vm_pause(ctx: typer.Context, vm: str = VM_ARG, no_wait: bool = NO_WAIT) -> None:
    """Pause a running VM."""
    _vm_action(ctx, vm, "pause", no_wait)


@vm_app.command("resume")
@handle_errors
def vm_resume(ctx: typer.Context, vm: str = VM_ARG, no_wait: bool = NO_WAIT) -> None:
    """Resume a paused VM."""
    _vm_action(ctx, vm, "resume", no_wait)


@vm_app.command("delete")
@handle_errors
def vm_delete(
    ctx: typer.Context,
    vm: str = VM_ARG,
    yes: bool = typer.Option(False, "--yes", "-y", help="Don't ask for confirmation"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Delete a VM and its disks. Asks first when run interactively, unless --yes."""
    cli = get_context(ctx)
    # The prompt goes to stderr: stdout stays the command's output (JSON with -o json).
    if (
        not yes
        and _stdin_is_tty()
        and not typer.confirm(f"Delete VM {vm} and its disks?", err=True)
    ):
        raise NovaCronError("aborted: nothing deleted")
    with cli.client() as api:
        operation = api.delete(f"/vms/{seg(vm)}")
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            message(cli, f"deleted VM {vm}", final)
