"""``novacron vm migrate``: live-migrate a running VM, with a progress bar that shows
bytes sent and left, the link's rate, the dirty rate, the round and expected downtime."""

from __future__ import annotations

from typing import Any

import typer

from novacron.compute.cli.common import NO_WAIT, _finish
from novacron.core.cli_support import get_context, handle_errors, message, seg

VM_ARG = typer.Argument(..., help="VM name or id")
TLS_OPTION = typer.Option(
    False,
    "--tls",
    help="Encrypt memory and disk streams (TLS, both ends verified): for links between sites",
)
MIB = 1024 * 1024


@handle_errors
def vm_migrate(
    ctx: typer.Context,
    vm: str = VM_ARG,
    to: str | None = typer.Option(None, "--to", help="Destination host (default: scheduler)"),
    downtime_ms: float = typer.Option(50.0, "--downtime-ms", help="Downtime objective"),
    time_bound: float | None = typer.Option(
        None, "--time-bound", help="Seconds to finish within (default 2x RAM/link)"
    ),
    postcopy: bool = typer.Option(
        True,
        "--postcopy/--no-postcopy",
        help="Allow a post-copy switch (finishes any migration; the VM is at risk meanwhile)",
    ),
    bandwidth: float | None = typer.Option(
        None, "--bandwidth", help="The link's rate in MiB/s when known (a WAN link)"
    ),
    policy: str = typer.Option(
        "adaptive", "--policy", help="adaptive, or qemu-default (QEMU's own settings)"
    ),
    timeout: float = typer.Option(1800, "--timeout", help="Roll back after this many seconds"),
    tls: bool = TLS_OPTION,
    no_wait: bool = NO_WAIT,
) -> None:
    """Live-migrate a running VM to another host; it keeps running throughout."""
    body: dict[str, Any] = {
        "downtime_ms": downtime_ms,
        "allow_postcopy": postcopy,
        "policy": policy,
        "timeout_s": timeout,
    }
    if tls:
        body["tls"] = True
    for key, value in (
        ("to_host", to),
        ("time_bound_s", time_bound),
        ("bandwidth_mib_s", bandwidth),
    ):
        if value is not None:
            body[key] = value
    cli = get_context(ctx)
    with cli.client() as api:
        operation = api.post(f"/vms/{seg(vm)}/migrate", json=body)
        final = _finish(cli, api, operation, no_wait, then_get=None)
        if final is None:
            return
        result = final.get("result") or {}
        message(cli, summary(result), result)


def summary(result: dict[str, Any]) -> str:
    """``moved qa → qb in 3.2 s: downtime 12 ms, 95 MiB sent (precopy)``."""
    downtime = result.get("downtime_ms")
    took = float(result.get("total_s") or 0)
    return (
        f"moved {result.get('from')} → {result.get('to')} in {took:.1f} s: "
        f"downtime {f'{float(downtime):.0f} ms' if downtime is not None else 'unknown'}, "
        f"{int(result.get('bytes') or 0) / MIB:.0f} MiB sent ({result.get('mode', 'precopy')})"
    )
