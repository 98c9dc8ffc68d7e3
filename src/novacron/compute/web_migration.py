"""View models of live migration and host drain for the compute pages (``web.py``).

The VM page's migration panel renders the VM's latest ``vm.migrate`` operation: while it
runs, its ``result["migration"]`` (the progress the handler relays from the source, twice
a second) and its ``policy: …`` steps (the adaptive policy's decisions with their
reasons); when it ends, what it took (``result``: from, to, total_s, downtime_ms, bytes,
mode) or why it was rolled back. The host page shows a running ``host.drain``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.compute import operations, states
from novacron.compute.models import Host, Operation
from novacron.compute.schemas import OperationOut, VMOut

MIB = 1024 * 1024
MAX_DESTINATIONS = 500
POLICY_PREFIX = "policy: "
#: A decision taken during the stream: "at 12.3 s: <reason>" (see migration/handler.py).
DECISION_AT = re.compile(r"^at ([0-9.]+ s): (.*)$", re.DOTALL)
ACTIVE = ("pending", "running")


# -- formatting -----------------------------------------------------------------------------


def fmt_bytes(n: float | None) -> str:
    """1.5 GiB, 230 MiB, 12 KiB: binary units like the rest of the UI."""
    if n is None:
        return "—"
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1024)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{n:.0f} B"


def fmt_rate(bps: float | None) -> str:
    return "—" if bps is None else f"{fmt_bytes(bps)}/s"


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    minutes, seconds = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    return f"{minutes // 60} h {minutes % 60} min"


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else fmt_seconds(ms / 1000)


# -- figures and policy decisions -----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number of a migration; ``raw`` (bytes, ms, …) goes into ``data-value``."""

    key: str
    label: str
    text: str
    raw: float | str | None = None


@dataclass(frozen=True)
class PolicyStep:
    choice: str
    reason: str
    at: str
    """When the policy decided during the stream ("12.3 s" of migration time); "" for
    the plan made before it."""


def live_figures(m: dict[str, Any]) -> list[Figure]:
    """The figures of a migration's progress report (``result["migration"]``)."""
    sent = float(m.get("transferred_bytes") or 0)
    left = float(m.get("remaining_bytes") or 0)
    link, dirty = m.get("bandwidth_bps"), m.get("dirty_rate_bps")
    expected = m.get("expected_downtime_ms")
    figures = [
        Figure("sent", "Sent", fmt_bytes(sent), sent),
        Figure("left", "Left", fmt_bytes(left), left),
        Figure("link", "Link rate", fmt_rate(link), link),
        Figure("dirty", "Dirty rate", fmt_rate(dirty), dirty),
        Figure("round", "Round", str(m.get("iteration") or 0), m.get("iteration") or 0),
        Figure("expected-downtime", "Expected downtime", fmt_ms(expected or None), expected),
        Figure("mode", "Mode", str(m.get("mode") or "precopy"), m.get("mode")),
        Figure("elapsed", "Elapsed", fmt_seconds(m.get("elapsed_s")), m.get("elapsed_s")),
    ]
    disk_total = m.get("disk_total_bytes") or 0
    if disk_total:
        disk = m.get("disk_transferred_bytes") or 0
        text = f"{fmt_bytes(disk)} of {fmt_bytes(disk_total)}"
        figures.append(Figure("disk", "Disk", text, disk))
    return figures


def summary_figures(result: dict[str, Any]) -> list[Figure]:
    """What a finished migration took (``result`` of a succeeded ``vm.migrate``)."""
    total, downtime, sent = result.get("total_s"), result.get("downtime_ms"), result.get("bytes")
    return [
        Figure("route", "Route", f"{result.get('from', '?')} → {result.get('to', '?')}"),
        Figure("total", "Total time", fmt_seconds(total), total),
        Figure("downtime", "Downtime", fmt_ms(downtime), downtime),
        Figure("bytes", "Transferred", fmt_bytes(sent), sent),
        Figure("mode", "Mode", str(result.get("mode") or "—"), result.get("mode")),
    ]


def op_figures(op: OperationOut) -> list[Figure]:
    """A ``vm.migrate`` operation's numbers: what it took when done, else its last report."""
    if op.kind != "vm.migrate":
        return []
    if op.state == "succeeded" and "to" in op.result:
        return summary_figures(op.result)
    live = op.result.get("migration")
    return live_figures(live) if isinstance(live, dict) else []


def policy_steps(op: OperationOut) -> list[PolicyStep]:
    """The ``policy: <choice>`` steps: the plan's decisions, then the stream's."""
    out = []
    for step in op.steps:
        name = str(step.get("name", ""))
        if not name.startswith(POLICY_PREFIX):
            continue
        detail = str(step.get("detail") or "")
        at = DECISION_AT.match(detail)
        choice = name.removeprefix(POLICY_PREFIX)
        out.append(
            PolicyStep(choice, at.group(2), at.group(1)) if at else PolicyStep(choice, detail, "")
        )
    return out


# -- the VM page's migration panel ----------------------------------------------------------


@dataclass(frozen=True)
class MigrationView:
    """The latest ``vm.migrate`` operation of a VM, ready to render."""

    op: OperationOut
    source: str
    dest: str
    """"" until the operation has chosen its destination."""
    active: bool
    cancelling: bool
    phase: str
    """The source's migration status (setup, storage, memory, postcopy …) while it runs."""
    percent: float | None
    """Sent / (sent + left), in %; None before the first progress report."""
    sent_text: str
    status_line: str
    figures: list[Figure]
    summary: list[Figure]
    policy: list[PolicyStep]


@dataclass(frozen=True)
class Destination:
    name: str
    note: str
    """Why the scheduler would refuse it ("" when it may be chosen)."""


def migration_view(session: Session, op: Operation, vm: VMOut) -> MigrationView:
    out = OperationOut.model_validate(op)
    params, result = out.params, out.result
    source_id = params.get("source_host_id")
    dest_id = params.get("dest_host_id") or params.get("to_host_id")
    ids = [str(x) for x in (source_id, dest_id) if x]
    names: dict[str, str] = {
        host_id: name
        for host_id, name in session.execute(select(Host.id, Host.name).where(Host.id.in_(ids)))
    }
    source = result.get("from") or names.get(str(source_id)) or vm.host_name or "?"
    dest = result.get("to") or names.get(str(dest_id)) or ""
    live: dict[str, Any] = result.get("migration") or {}
    active = out.state in ACTIVE
    sent = float(live.get("transferred_bytes") or 0)
    left = float(live.get("remaining_bytes") or 0)
    phase: str = out.state
    if active and live:
        phase = str(live.get("status") or out.state)
    elif active:
        phase = "waiting for a worker" if out.state == "pending" else "preparing"
    return MigrationView(
        op=out,
        source=str(source),
        dest=str(dest),
        active=active,
        cancelling=active and out.cancel_requested_at is not None,
        phase=phase,
        percent=100 * sent / (sent + left) if live and sent + left > 0 else None,
        sent_text=f"{fmt_bytes(sent)} sent, {fmt_bytes(left)} left" if live else "",
        status_line=str(result.get("status_line") or ""),
        figures=live_figures(live) if live else [],
        summary=summary_figures(result) if out.state == "succeeded" else [],
        policy=policy_steps(out),
    )


def _refusal(host: Host, source: Host) -> str:
    if host.state != "up":
        return host.state
    if "live-migration" not in (host.capabilities or []):
        return "no live migration"
    return f"{host.driver} driver" if host.driver != source.driver else ""


def migration_context(session: Session, vm: VMOut) -> dict[str, Any]:
    """The Migrate form (destinations; whether it may be used, and why not) and the
    VM's latest migration."""
    last = session.scalars(operations.query(kind="vm.migrate", target_id=vm.id).limit(1)).first()
    source = session.get(Host, vm.host_id) if vm.host_id else None
    unavailable = ""
    if source is None:
        unavailable = "The VM is not on a host."
    elif "live-migration" not in (source.capabilities or []):
        unavailable = (
            f"Host {source.name} ({source.driver} driver) does not support live migration."
        )
    elif vm.state not in states.TRANSITIONS["migrate"].allowed_from:
        unavailable = f"Live migration needs a running or paused VM; this one is {vm.state}."
    destinations = []
    if source is not None:
        others = select(Host).where(Host.id != source.id).order_by(Host.name)
        for host in session.scalars(others.limit(MAX_DESTINATIONS)):
            destinations.append(Destination(host.name, _refusal(host, source)))
    return {
        "vm": vm,
        "migration": migration_view(session, last, vm) if last is not None else None,
        "destinations": destinations,
        "migrate_unavailable": unavailable,
    }


# -- the host page's drain ------------------------------------------------------------------


def running_drain(session: Session, host_id: str) -> OperationOut | None:
    op = session.scalars(
        operations.query(kind="host.drain", target_id=host_id)
        .where(Operation.state.in_(ACTIVE))
        .limit(1)
    ).first()
    return OperationOut.model_validate(op) if op is not None else None


def drain_line(op: OperationOut) -> str:
    """Where a drain is: "2 of 5 VMs handled · moving web-1, web-2"."""
    moving = [
        str(step["name"]).removeprefix("migrate ")
        for step in op.steps
        if str(step.get("name", "")).startswith("migrate ") and step.get("state") == "running"
    ]
    # Before the first VM is handled, the inventory says how many there are to move.
    inventory = [str(s.get("detail") or "") for s in op.steps if s.get("name") == "inventory"]
    parts = [str(op.result.get("status_line") or (inventory[-1] if inventory else ""))]
    if moving:
        parts.append("moving " + ", ".join(moving))
    if op.cancel_requested_at is not None:
        parts.append("cancelling: migrations in flight roll back")
    return " · ".join(p for p in parts if p) or "starting"
