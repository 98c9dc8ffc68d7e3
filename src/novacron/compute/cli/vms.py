"""``novacron vm``: create, list, show, power actions, delete; console, resize, clone,
statistics, restart policy; ``vm snapshot …`` lives in ``snapshots.py``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from novacron.compute.cli import console
from novacron.compute.cli.common import LIMIT, NO_WAIT, OFFSET, _finish, one_of
from novacron.compute.cli.image_files import fmt_bytes
from novacron.compute.cli.migration import vm_migrate
from novacron.compute.cli.snapshots import snapshot_app
from novacron.compute.cli.vm_spec import (
    RESTART_POLICIES,
    cloud_init_body,
    network_body,
    render_vm,
)
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

vm_app = typer.Typer(
    help="Virtual machines: create, list, power actions, console, snapshots, resize, delete."
)
vm_app.add_typer(snapshot_app, name="snapshot")
vm_app.command("migrate")(vm_migrate)

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


RESTART_OPTION = typer.Option(
    None,
    "--restart",
    callback=one_of(RESTART_POLICIES, "a restart policy"),
    metavar="POLICY",
    help="never (the default), on-failure (restart after a crash) or always (also after "
    "the guest powers off)",
)


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
    restart: str | None = RESTART_OPTION,
    ha: bool = typer.Option(
        False, "--ha", help="Restart it on another host if its host fails (shared storage)"
    ),
    port: list[str] | None = typer.Option(
        None,
        "--port",
        metavar="[ADDR:]HOST:GUEST[/udp]",
        help="Forward a host port to the guest, user-mode networking (repeat)",
    ),
    bridge: str | None = typer.Option(
        None, "--bridge", metavar="NAME", help="Attach to this host bridge instead of user-mode NAT"
    ),
    ssh_key: list[str] | None = typer.Option(
        None, "--ssh-key", metavar="FILE_OR_KEY", help="Authorize an SSH public key (cloud-init)"
    ),
    user_data: Path | None = typer.Option(
        None, "--user-data", metavar="FILE", help="cloud-init user-data file"
    ),
    hostname: str | None = typer.Option(None, "--hostname", help="Guest hostname (cloud-init)"),
    kernel_args: str | None = typer.Option(
        None, "--kernel-args", help="Appended to a kernel image's command line"
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
    optional = {
        "ha": ha or None,
        "disk_gib": disk,
        "image": image,
        "host": host,
        "group": group,
        "restart_policy": restart,
        "network": network_body(port, bridge),
        "cloud_init": cloud_init_body(ssh_key, user_data, hostname),
        "kernel_args": kernel_args,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
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
        render_vm(cli, api.get(f"/vms/{seg(final['target_id'])}"))


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
    """Show one VM: its spec, state, restart policy, network and port forwards, fault."""
    cli = get_context(ctx)
    with cli.client() as api:
        render_vm(cli, api.get(f"/vms/{seg(vm)}"))


def _vm_action(ctx: typer.Context, vm: str, action: str, no_wait: bool, body: Any = None) -> None:
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"/vms/{seg(vm)}/{action}", json=body)
        if _finish(cli, api, operation, no_wait, then_get=None) is not None:
            render_vm(cli, api.get(f"/vms/{seg(operation.get('target_id') or vm)}"))


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


# -- beyond power: console, resize, clone, statistics, settings ---------------------------------


@vm_app.command("console")
@handle_errors
def vm_console(
    ctx: typer.Context,
    vm: str = VM_ARG,
    no_follow: bool = typer.Option(False, "--no-follow", help="Print what is there and exit"),
    tail: int | None = typer.Option(
        None, "--tail", min=0, metavar="BYTES", help="Start BYTES from the end (default: the start)"
    ),
) -> None:
    """Print a VM's serial console and follow it live; Ctrl-C leaves (exit code 130)."""
    cli = get_context(ctx)
    output = console.JsonOutput(lines=not no_follow) if cli.json else console.RawOutput()
    try:
        with cli.client() as api:
            after = console.start_offset(api, vm, tail, output)
            if not no_follow:
                after = console.follow(api, vm, after, output)
        output.close(after)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except BrokenPipeError:  # `| head`: the reader has seen enough
        console.silence_stdout()


@vm_app.command("resize")
@handle_errors
def vm_resize(
    ctx: typer.Context,
    vm: str = VM_ARG,
    vcpus: int | None = typer.Option(None, "--vcpus", help="Virtual CPUs (VM stopped)"),
    memory: int | None = typer.Option(None, "--memory", help="Memory in MiB (VM stopped)"),
    disk: int | None = typer.Option(None, "--disk", help="Disk in GiB; grows only, even running"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Change a VM's vCPUs and memory (stopped) or grow its disk; prints the VM."""
    changes = {"vcpus": vcpus, "memory_mib": memory, "disk_gib": disk}
    body = {key: value for key, value in changes.items() if value is not None}
    if not body:
        raise NovaCronError("nothing to change: give --vcpus, --memory or --disk")
    _vm_action(ctx, vm, "resize", no_wait, body=body)


@vm_app.command("clone")
@handle_errors
def vm_clone(
    ctx: typer.Context,
    vm: str = VM_ARG,
    new_name: str = typer.Argument(..., help="Name of the new VM"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Copy a stopped VM (its disk too) to a new, stopped VM on the same host; prints it."""
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"/vms/{seg(vm)}/clone", json={"name": new_name})
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            clone_id = (final.get("result") or {}).get("clone_id") or new_name
            render_vm(cli, api.get(f"/vms/{seg(clone_id)}"))


def _stats_for_table(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if key.endswith("_bytes") and isinstance(value, int):
            out[key] = fmt_bytes(value)
        elif key == "at" and isinstance(value, int | float):
            out[key] = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
        else:
            out[key] = value
    return out


@vm_app.command("stats")
@handle_errors
def vm_stats(ctx: typer.Context, vm: str = VM_ARG) -> None:
    """A running VM's statistics, read from its host now (CPU time, memory, disk I/O)."""
    cli = get_context(ctx)
    with cli.client() as api:
        stats = api.get(f"/vms/{seg(vm)}/stats")
    render(cli, stats if cli.json or not isinstance(stats, dict) else _stats_for_table(stats))


@vm_app.command("set")
@handle_errors
def vm_set(
    ctx: typer.Context,
    vm: str = VM_ARG,
    restart: str | None = RESTART_OPTION,
    ha: bool | None = typer.Option(
        None, "--ha/--no-ha", help="Restart it on another host when its host fails"
    ),
) -> None:
    """Change a VM's settings (restart policy, HA); prints the VM."""
    body: dict[str, Any] = {}
    if restart is not None:
        body["restart_policy"] = restart
    if ha is not None:
        body["ha"] = ha
    if not body:
        raise NovaCronError("nothing to change: give --restart POLICY or --ha/--no-ha")
    cli = get_context(ctx)
    with cli.client() as api:
        render_vm(cli, api.request("PATCH", f"/vms/{seg(vm)}", json=body))
