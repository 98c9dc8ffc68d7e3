"""``novacron vm | host | op | image | group``: the compute slice's CLI, a client of its API.

Every action that changes the fleet answers with an operation; the command waits for it
with a progress bar (stderr) unless ``--no-wait``, then prints the resulting object.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer

from novacron.core.cli_support import (
    ApiClient,
    CLIContext,
    Column,
    OperationFailed,
    fmt_age,
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
host_app = typer.Typer(help="Hypervisor hosts: list, inspect, maintenance.")
op_app = typer.Typer(help="Operations: every change to the fleet, with progress.")
image_app = typer.Typer(help="Images VMs boot from.")
group_app = typer.Typer(help="Placement groups (affinity / anti-affinity).")


def register(app: typer.Typer) -> None:
    app.add_typer(vm_app, name="vm")
    app.add_typer(host_app, name="host")
    app.add_typer(op_app, name="op")
    app.add_typer(image_app, name="image")
    app.add_typer(group_app, name="group")


# -- Columns ----------------------------------------------------------------------------------


def _vcpus(host: dict[str, Any]) -> str:
    """Allocated/total vCPUs and the overcommit ratio, e.g. ``6/16×4``."""
    ratio = host.get("cpu_allocation_ratio")
    shown = f"{ratio:g}" if isinstance(ratio, int | float) else str(ratio)
    return f"{host.get('alloc_vcpus')}/{host.get('vcpus')}\N{MULTIPLICATION SIGN}{shown}"


VM_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("state", "state"),
    ("vcpus", "vcpus"),
    ("memory", lambda vm: fmt_mib(vm.get("memory_mib"))),
    ("host", "host_name"),
    ("created", lambda vm: fmt_time(vm.get("created_at"))),
]

HOST_COLUMNS: list[Column] = [
    ("name", "name"),
    ("state", "state"),
    ("vcpus", _vcpus),
    (
        "memory",
        lambda h: f"{fmt_mib(h.get('alloc_memory_mib'))}/{fmt_mib(h.get('memory_mib'))}",
    ),
    ("vms", "vm_count"),
    ("last heartbeat", lambda h: fmt_age(h.get("last_heartbeat_at"))),
]

OP_COLUMNS: list[Column] = [
    ("id", "id"),
    ("kind", "kind"),
    ("target", "target_id"),
    ("state", "state"),
    ("progress", lambda op: f"{op.get('progress', 0)}%"),
    ("error", lambda op: _truncate(op.get("error") or "", 60) or None),
    ("created", lambda op: fmt_time(op.get("created_at"))),
]

IMAGE_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("os", "os"),
    ("format", "format"),
    ("size", lambda i: f"{i.get('size_gib')} GiB"),
    ("min disk", lambda i: f"{i.get('min_disk_gib')} GiB"),
    ("created", lambda i: fmt_time(i.get("created_at"))),
]

GROUP_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("policy", "policy"),
    ("strict", "strict"),
    ("members", lambda g: len(g.get("members") or [])),
    ("created", lambda g: fmt_time(g.get("created_at"))),
]


def _truncate(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- Shared options ---------------------------------------------------------------------------

NO_WAIT = typer.Option(False, "--no-wait", help="Print the operation and return at once")
LIMIT = typer.Option(100, "--limit", help="Items per page")
OFFSET = typer.Option(0, "--offset", help="Items to skip")


def _finish(
    cli: CLIContext,
    api: ApiClient,
    operation: dict[str, Any],
    no_wait: bool,
    then_get: str | None,
) -> dict[str, Any] | None:
    """Print the operation (``--no-wait``), or wait for it and print ``GET then_get``.

    Returns the final operation, or None with ``--no-wait``."""
    if no_wait:
        render(cli, operation)
        return None
    final = wait_operation(api, operation["id"], show_progress=not cli.json)
    if then_get is not None:
        render(cli, api.get(then_get))
    return final


# -- vm ---------------------------------------------------------------------------------------


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
        final = wait_operation(api, operation["id"], show_progress=not cli.json)
        render(cli, api.get(f"/vms/{seg(final['target_id'])}"))


@vm_app.command("list")
@handle_errors
def vm_list(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help="Only VMs in this state"),
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
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete VM {vm} and its disks?"):
        raise NovaCronError("aborted: nothing deleted")
    with cli.client() as api:
        operation = api.delete(f"/vms/{seg(vm)}")
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is not None:
            if cli.json:
                render(cli, final)
            else:
                message(cli, f"deleted VM {vm}")


# -- host -------------------------------------------------------------------------------------


class OnOff(StrEnum):
    on = "on"
    off = "off"


@host_app.command("list")
@handle_errors
def host_list(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help="up, down or maintenance"),
    limit: int = LIMIT,
    offset: int = OFFSET,
) -> None:
    """List hosts with their allocation."""
    cli = get_context(ctx)
    params = {"state": state, "limit": limit, "offset": offset}
    with cli.client() as api:
        render(cli, api.get("/hosts", params=params), HOST_COLUMNS, empty="no hosts")


@host_app.command("show")
@handle_errors
def host_show(ctx: typer.Context, host: str = typer.Argument(..., help="Host name or id")) -> None:
    """Show one host."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/hosts/{seg(host)}"))


@host_app.command("maintenance")
@handle_errors
def host_maintenance(
    ctx: typer.Context,
    mode: OnOff = typer.Argument(..., help="on or off"),
    host: str = typer.Argument(..., help="Host name or id"),
    reason: str = typer.Option("", "--reason", help="Why (shown with the host)"),
    no_wait: bool = NO_WAIT,
) -> None:
    """Put a host into maintenance (no new VMs) or take it out."""
    cli = get_context(ctx)
    body = {"enabled": mode is OnOff.on, "reason": reason}
    with cli.client() as api:
        operation = api.post(f"/hosts/{seg(host)}/maintenance", json=body)
        _finish(cli, api, operation, no_wait, f"/hosts/{seg(host)}")


# -- op ---------------------------------------------------------------------------------------


@op_app.command("list")
@handle_errors
def op_list(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help="pending, running, succeeded, …"),
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


# -- image ------------------------------------------------------------------------------------


@image_app.command("list")
@handle_errors
def image_list(ctx: typer.Context, limit: int = LIMIT, offset: int = OFFSET) -> None:
    """List images."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/images", params={"limit": limit, "offset": offset})
        render(cli, page, IMAGE_COLUMNS, empty="no images")


@image_app.command("show")
@handle_errors
def image_show(ctx: typer.Context, image: str = typer.Argument(..., help="Name or id")) -> None:
    """Show one image."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/images/{seg(image)}"))


@image_app.command("create")
@handle_errors
def image_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique image name"),
    os_name: str | None = typer.Option(None, "--os", help="Guest OS (default: linux)"),
    fmt: str | None = typer.Option(None, "--format", help="qcow2 (default) or raw"),
    size: int | None = typer.Option(None, "--size", help="Size in GiB"),
    min_disk: int | None = typer.Option(None, "--min-disk", help="Smallest VM disk in GiB"),
    source: str | None = typer.Option(None, "--source", help="Where the image comes from"),
) -> None:
    """Register an image."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"name": name}
    options = (
        ("os", os_name),
        ("format", fmt),
        ("size_gib", size),
        ("min_disk_gib", min_disk),
        ("source", source),
    )
    body.update({key: value for key, value in options if value is not None})
    with cli.client() as api:
        render(cli, api.post("/images", json=body))


@image_app.command("delete")
@handle_errors
def image_delete(ctx: typer.Context, image: str = typer.Argument(..., help="Name or id")) -> None:
    """Delete an image no VM uses."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/images/{seg(image)}")
    message(cli, f"deleted image {image}")


# -- group ------------------------------------------------------------------------------------


class Policy(StrEnum):
    affinity = "affinity"
    anti_affinity = "anti-affinity"


@group_app.command("list")
@handle_errors
def group_list(ctx: typer.Context, limit: int = LIMIT, offset: int = OFFSET) -> None:
    """List placement groups."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/placement-groups", params={"limit": limit, "offset": offset})
        render(cli, page, GROUP_COLUMNS, empty="no placement groups")


@group_app.command("create")
@handle_errors
def group_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique group name"),
    policy: Policy = typer.Option(..., "--policy", help="affinity or anti-affinity"),
    soft: bool = typer.Option(False, "--soft", help="A preference, not a hard rule"),
) -> None:
    """Create a placement group."""
    cli = get_context(ctx)
    body = {"name": name, "policy": policy.value, "strict": not soft}
    with cli.client() as api:
        render(cli, api.post("/placement-groups", json=body))


@group_app.command("delete")
@handle_errors
def group_delete(ctx: typer.Context, group: str = typer.Argument(..., help="Name or id")) -> None:
    """Delete a placement group with no members."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/placement-groups/{seg(group)}")
    message(cli, f"deleted placement group {group}")
