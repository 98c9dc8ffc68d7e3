"""``novacron host``: list, show, maintenance on/off, drain and undrain, fence."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from novacron.compute.cli.common import LIMIT, NO_WAIT, OFFSET, _finish, one_of
from novacron.compute.cli.migration import TLS_OPTION
from novacron.core.cli_support import (
    Column,
    fmt_age,
    fmt_mib,
    get_context,
    handle_errors,
    message,
    render,
    seg,
)

host_app = typer.Typer(help="Hypervisor hosts: list, inspect, maintenance, drain.")


def _vcpus(host: dict[str, Any]) -> str:
    """Allocated/total vCPUs and the overcommit ratio, e.g. ``6/16×4``."""
    ratio = host.get("cpu_allocation_ratio")
    shown = f"{ratio:g}" if isinstance(ratio, int | float) else str(ratio)
    return f"{host.get('alloc_vcpus')}/{host.get('vcpus')}\N{MULTIPLICATION SIGN}{shown}"


HOST_STATES = ("up", "down", "maintenance")

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


class OnOff(StrEnum):
    on = "on"
    off = "off"


@host_app.command("list")
@handle_errors
def host_list(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None,
        "--state",
        callback=one_of(HOST_STATES, "a host state"),
        help="up, down or maintenance",
    ),
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


@host_app.command("drain")
@handle_errors
def host_drain(
    ctx: typer.Context,
    host: str = typer.Argument(..., help="Host name or id"),
    parallel: int = typer.Option(2, "--parallel", min=1, max=64, help="Migrations at a time"),
    postcopy: bool = typer.Option(
        True, "--postcopy/--no-postcopy", help="Allow post-copy switchovers"
    ),
    bandwidth: float | None = typer.Option(
        None, "--bandwidth", help="The link's rate in MiB/s when known"
    ),
    tls: bool = TLS_OPTION,
    no_wait: bool = NO_WAIT,
) -> None:
    """Live-migrate every running VM off a host and leave it in maintenance."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"parallel": parallel, "allow_postcopy": postcopy}
    if bandwidth is not None:
        body["bandwidth_mib_s"] = bandwidth
    if tls:
        body["tls"] = True
    with cli.client() as api:
        operation = api.post(f"/hosts/{seg(host)}/drain", json=body)
        final = _finish(cli, api, operation, no_wait, None)
        if final is not None:
            result = final.get("result") or {}
            stay = result.get("not_running") or []
            text = f"drained {host}: {len(result.get('migrated') or [])} VM(s) moved" + (
                f", {len(stay)} not running stay ({', '.join(stay)})" if stay else ""
            )
            message(cli, text, final)


@host_app.command("undrain")
@handle_errors
def host_undrain(
    ctx: typer.Context,
    host: str = typer.Argument(..., help="Host name or id"),
    bring_back: bool = typer.Option(
        False, "--bring-back", help="Migrate back the VMs the last drain moved away"
    ),
    no_wait: bool = NO_WAIT,
) -> None:
    """Take a drained host out of maintenance."""
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"/hosts/{seg(host)}/undrain", json={"bring_back": bring_back})
        _finish(cli, api, operation, no_wait, f"/hosts/{seg(host)}")


@host_app.command("fence")
@handle_errors
def host_fence(
    ctx: typer.Context,
    host: str = typer.Argument(..., help="Host name or id"),
    reason: str = typer.Option(..., "--reason", help="How it was powered off, e.g. 'BMC off'"),
) -> None:
    """Confirm a down host is powered off: its HA VMs may then restart elsewhere."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.post(f"/hosts/{seg(host)}/fence", json={"reason": reason}))
