"""Pages of the compute slice: the fleet overview, VM detail and host detail.

Pages render their first paint from the slice's services. The browser then keeps them
current: ``live.js`` listens to ``/api/v1/events/stream`` and re-fetches the fragments
below (``/ui/…``), each the server-rendered HTML of one row or panel, so every piece of
markup has exactly one template. The view models of live migration and host drain (the
VM page's migration panel, the host page's drain) are in ``web_migration.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.compute import features, hosts, operations, states, vms
from novacron.compute.models import VM, Host, Image, Operation, PlacementGroup
from novacron.compute.schemas import HostOut, OperationOut, SnapshotOut, VMOut
from novacron.compute.web_migration import (
    Figure,
    drain_line,
    migration_context,
    op_figures,
    running_drain,
)
from novacron.core import events
from novacron.core.database import db_of
from novacron.core.errors import NotFound
from novacron.core.pagination import PageParams
from novacron.security.auth import require_user
from novacron.security.context import current_project
from novacron.web import ui
from novacron.web.ui import Capacity

PAGE_SIZE = 50
RECENT_OPS = 10
MAX_CHOICES = 500

pages = APIRouter(include_in_schema=False, dependencies=[Depends(ui.page_user)])
fragments = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(require_user)])
router = APIRouter(include_in_schema=False)


# -- view models ------------------------------------------------------------------------------


def host_capacity(host: HostOut) -> list[Capacity]:
    """vCPU, memory and disk allocated against total × overcommit ratio."""
    cpu_cap = host.vcpus * host.cpu_allocation_ratio
    mem_cap = host.memory_mib * host.ram_allocation_ratio
    disk_cap = host.disk_gib * host.disk_allocation_ratio

    def pct(used: float, cap: float) -> str:
        return f"{100 * used / cap:.0f}%" if cap else "—"

    return [
        Capacity(
            "vcpu",
            "vCPU",
            host.alloc_vcpus,
            cpu_cap,
            f"{host.alloc_vcpus} / {cpu_cap:g} · {pct(host.alloc_vcpus, cpu_cap)}",
            f"{host.vcpus} physical × {host.cpu_allocation_ratio:g} overcommit",
        ),
        Capacity(
            "memory",
            "Memory",
            host.alloc_memory_mib,
            mem_cap,
            f"{ui.fmt_mib(host.alloc_memory_mib)} / {ui.fmt_mib(mem_cap)} · "
            f"{pct(host.alloc_memory_mib, mem_cap)}",
            f"{ui.fmt_mib(host.memory_mib)} × {host.ram_allocation_ratio:g} overcommit",
        ),
        Capacity(
            "disk",
            "Disk",
            host.alloc_disk_gib,
            disk_cap,
            f"{ui.fmt_gib(host.alloc_disk_gib)} / {ui.fmt_gib(disk_cap)} · "
            f"{pct(host.alloc_disk_gib, disk_cap)}",
            f"{ui.fmt_gib(host.disk_gib)} × {host.disk_allocation_ratio:g} overcommit",
        ),
    ]


@dataclass(frozen=True)
class HostView:
    host: HostOut
    capacity: list[Capacity]


@dataclass(frozen=True)
class OpView:
    op: OperationOut
    target_name: str
    target_href: str | None

    @property
    def status_line(self) -> str:
        """``result.status_line``: a migration's progress, a drain's "2 of 5 VMs handled"."""
        return str(self.op.result.get("status_line") or "")

    @property
    def figures(self) -> list[Figure]:
        return op_figures(self.op)


@dataclass(frozen=True)
class FleetStats:
    hosts_total: int
    hosts_up: int
    vms_total: int
    vms_running: int
    vms_error: int
    ops_active: int
    capacity: list[Capacity]


def host_views(items: list[HostOut]) -> list[HostView]:
    return [HostView(h, host_capacity(h)) for h in items]


def op_views(session: Session, ops: list[Operation]) -> list[OpView]:
    """Operations with a readable name and a link for their target."""
    vm_ids = {o.target_id for o in ops if o.target_type == "vm"}
    host_ids = {o.target_id for o in ops if o.target_type == "host"}
    names: dict[str, str] = {}
    if vm_ids:
        for vm_id, name in session.execute(select(VM.id, VM.name).where(VM.id.in_(vm_ids))):
            names[vm_id] = name
    if host_ids:
        for host_id, name in session.execute(
            select(Host.id, Host.name).where(Host.id.in_(host_ids))
        ):
            names[host_id] = name
    out = []
    for o in ops:
        prefix = {"vm": "/vms/", "host": "/hosts/"}.get(o.target_type)
        name = names.get(o.target_id) or str(o.params.get("name") or o.target_id)
        href = f"{prefix}{o.target_id}" if prefix and o.target_id in names else None
        out.append(OpView(OperationOut.model_validate(o), name, href))
    return out


def recent_operations(
    session: Session,
    *,
    project_id: str | None,
    target_id: str | None = None,
    limit: int = RECENT_OPS,
) -> list[OpView]:
    """Recent operations of a project (None: of every project, e.g. a host's)."""
    stmt = operations.query(target_id=target_id, project_id=project_id).limit(limit)
    return op_views(session, list(session.scalars(stmt)))


def fleet_stats(session: Session) -> FleetStats:
    h = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Host.vcpus * Host.cpu_allocation_ratio), 0),
            func.coalesce(func.sum(Host.memory_mib * Host.ram_allocation_ratio), 0),
            func.coalesce(func.sum(Host.disk_gib * Host.disk_allocation_ratio), 0),
            func.coalesce(func.sum(Host.alloc_vcpus), 0),
            func.coalesce(func.sum(Host.alloc_memory_mib), 0),
            func.coalesce(func.sum(Host.alloc_disk_gib), 0),
        )
    ).one()
    hosts_up = (
        session.scalar(select(func.count()).where(Host.status == "up", Host.maintenance.is_(False)))
        or 0
    )
    by_state: dict[str, int] = {
        state: int(count)
        for state, count in session.execute(
            select(VM.state, func.count()).where(VM.state != "deleted").group_by(VM.state)
        )
    }
    ops_active = (
        session.scalar(select(func.count()).where(Operation.state.in_(["pending", "running"]))) or 0
    )
    total, cpu_cap, mem_cap, disk_cap, cpu, mem, disk = (float(x) for x in h)
    capacity = [
        Capacity(
            "vcpu",
            "vCPU allocated",
            cpu,
            cpu_cap,
            f"{cpu:g} / {cpu_cap:g}",
            "sum over hosts of vCPUs × overcommit ratio",
        ),
        Capacity(
            "memory",
            "Memory allocated",
            mem,
            mem_cap,
            f"{ui.fmt_mib(mem)} / {ui.fmt_mib(mem_cap)}",
            "sum over hosts of memory × overcommit ratio",
        ),
        Capacity(
            "disk",
            "Disk allocated",
            disk,
            disk_cap,
            f"{ui.fmt_gib(disk)} / {ui.fmt_gib(disk_cap)}",
            "sum over hosts of disk × overcommit ratio",
        ),
    ]
    return FleetStats(
        hosts_total=int(total),
        hosts_up=int(hosts_up),
        vms_total=sum(by_state.values()),
        vms_running=by_state.get("running", 0),
        vms_error=sum(by_state.get(state, 0) for state in ("error", "crashed", "unknown")),
        ops_active=int(ops_active),
        capacity=capacity,
    )


def create_choices(session: Session, project_id: str) -> dict[str, list[str]]:
    """Options of the Create VM form's selects."""
    return {
        "images": list(
            session.scalars(
                select(Image.name)
                .where(Image.status == "active", Image.project_id == project_id)
                .order_by(Image.name)
                .limit(MAX_CHOICES)
            )
        ),
        "hosts": list(session.scalars(select(Host.name).order_by(Host.name).limit(MAX_CHOICES))),
        "groups": list(
            session.scalars(
                select(PlacementGroup.name)
                .where(PlacementGroup.project_id == project_id)
                .order_by(PlacementGroup.name)
                .limit(MAX_CHOICES)
            )
        ),
    }


RESTART_POLICIES = {
    "never": "stays down after a crash",
    "on-failure": "restarted after a crash",
    "always": "restarted after a crash or a guest power-off",
}


def port_forwards(vm: VMOut) -> list[str]:
    """``127.0.0.1:8080 → 80/tcp`` for each of the VM's user-mode port forwards."""
    return [
        f"{f.get('host_addr') or '127.0.0.1'}:{f.get('host_port')} → "
        f"{f.get('guest_port')}/{f.get('proto') or 'tcp'}"
        for f in (vm.network or {}).get("forwards") or []
        if isinstance(f, dict)
    ]


def vm_context(session: Session, ref: str, project_id: str) -> dict[str, Any]:
    vm_row = vms.find_vm(session, ref, project_id=project_id, include_deleted=True)
    vm: VMOut = vms.to_out(session, [vm_row])[0]
    image = session.get(Image, vm.image_id) if vm.image_id else None
    group = session.get(PlacementGroup, vm.group_id) if vm.group_id else None
    return {
        "vm": vm,
        "image_name": image.name if image else None,
        "group_name": group.name if group else None,
        "forwards": port_forwards(vm),
        "restart_policies": RESTART_POLICIES,
    }


def snapshots_context(session: Session, vm: VMOut) -> dict[str, Any]:
    """The VM's snapshots; whether its host can take them (``snapshots_unsupported`` says
    why not) and its state allows taking, deleting or reverting."""
    snapshots = (
        []
        if vm.state == "deleted"
        else [
            SnapshotOut.model_validate(x)
            for x in features.list_snapshots(session, vm.id, project_id=vm.project_id)
        ]
    )
    host = session.get(Host, vm.host_id) if vm.host_id else None
    unsupported = None
    if host is not None and "snapshots" not in (host.capabilities or []):
        unsupported = f"Host {host.name} ({host.driver} driver) does not support snapshots."
    placed = host is not None
    in_state = vm.state in states.TRANSITIONS["snapshot"].allowed_from
    return {
        "vm": vm,
        "snapshots": snapshots,
        "snapshots_unsupported": unsupported,
        "can_snapshot": placed and not unsupported and in_state,
        "can_delete_snapshot": placed and in_state,
        "can_revert": placed
        and not unsupported
        and vm.state in states.TRANSITIONS["revert"].allowed_from,
    }


def host_context(session: Session, ref: str) -> dict[str, Any]:
    host = hosts.to_out(session, [hosts.find_host(session, ref)])[0]
    return {"h": HostView(host, host_capacity(host))}


def host_summary_context(session: Session, ref: str) -> dict[str, Any]:
    """The host and, while one runs, its drain operation and where it is."""
    ctx = host_context(session, ref)
    drain = running_drain(session, ctx["h"].host.id)
    return {**ctx, "drain": drain, "drain_line": drain_line(drain) if drain else ""}


def _not_found(request: Request, exc: NotFound) -> HTMLResponse:
    return ui.error_page(request, 404, "Not found", exc.detail)


# -- pages ------------------------------------------------------------------------------------


@pages.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    vo: int = Query(0, ge=0, description="Offset into the VM list"),
    ho: int = Query(0, ge=0, description="Offset into the host list"),
) -> Response:
    with db_of(request).read() as s:
        # The cursor first: anything that changes after it reaches the page as an event.
        events_after = events.latest_event_id(s)
        host_items, host_total = hosts.list_hosts(s, PageParams(limit=PAGE_SIZE, offset=ho))
        project_id = current_project(request)
        vm_items, vm_total = vms.list_vms(
            s, PageParams(limit=PAGE_SIZE, offset=vo), project_id=project_id
        )
        ctx = {
            "events_after": events_after,
            "hosts": host_views(host_items),
            "host_total": host_total,
            "host_offset": ho,
            "vms": vm_items,
            "vm_total": vm_total,
            "vm_offset": vo,
            "ops": recent_operations(s, project_id=project_id),
            "stats": fleet_stats(s),
            "choices": create_choices(s, project_id),
            "page_size": PAGE_SIZE,
            "recent_ops": RECENT_OPS,
        }
    return ui.render(request, "compute/overview.html", ctx)


@pages.get("/vms/{ref}", response_class=HTMLResponse)
def vm_detail(request: Request, ref: str) -> Response:
    try:
        with db_of(request).read() as s:
            events_after = events.latest_event_id(s)
            project_id = current_project(request)
            ctx = vm_context(s, ref, project_id)
            ctx.update(snapshots_context(s, ctx["vm"]))
            ctx.update(migration_context(s, ctx["vm"]))
            ctx["ops"] = recent_operations(
                s, project_id=project_id, target_id=ctx["vm"].id, limit=50
            )
    except NotFound as exc:
        return _not_found(request, exc)
    ctx.update(events_after=events_after, nav="vms")
    return ui.render(request, "compute/vm_detail.html", ctx)


@pages.get("/hosts/{ref}", response_class=HTMLResponse)
def host_detail(
    request: Request, ref: str, vo: int = Query(0, ge=0, description="Offset into the VM list")
) -> Response:
    try:
        with db_of(request).read() as s:
            events_after = events.latest_event_id(s)
            ctx = host_summary_context(s, ref)
            host = ctx["h"].host
            vm_items, vm_total = vms.list_vms(
                s,
                PageParams(limit=PAGE_SIZE, offset=vo),
                project_id=current_project(request),
                host=host.id,
            )
            ops = recent_operations(s, project_id=None, target_id=host.id)
    except NotFound as exc:
        return _not_found(request, exc)
    ctx.update(
        events_after=events_after,
        nav="hosts",
        vms=vm_items,
        vm_total=vm_total,
        vm_offset=vo,
        page_size=PAGE_SIZE,
        ops=ops,
        recent_ops=RECENT_OPS,
    )
    return ui.render(request, "compute/host_detail.html", ctx)


# -- fragments: one row or panel each, re-fetched by live.js on events ------------------------


def _visible_op(session: Session, request: Request, op_id: str) -> Operation:
    """The project's operations, and host operations (shown on host pages to everyone)."""
    op = operations.get(session, op_id)
    if op.target_type != "host" and op.project_id != current_project(request):
        raise NotFound(f"no operation {op_id!r}")
    return op


def _vm_out(session: Session, request: Request, vm_id: str) -> VMOut:
    vm = vms.find_vm(session, vm_id, project_id=current_project(request), include_deleted=True)
    return vms.to_out(session, [vm])[0]


@fragments.get("/vms/{vm_id}/row", response_class=HTMLResponse)
def vm_row(request: Request, vm_id: str) -> Response:
    with db_of(request).read() as s:
        vm = _vm_out(s, request, vm_id)
    return ui.render(request, "compute/_vm_row.html", {"vm": vm})


@fragments.get("/vms/{vm_id}/summary", response_class=HTMLResponse)
def vm_summary(request: Request, vm_id: str) -> Response:
    with db_of(request).read() as s:
        ctx = vm_context(s, vm_id, current_project(request))
    return ui.render(request, "compute/_vm_summary.html", ctx)


@fragments.get("/vms/{vm_id}/snapshots", response_class=HTMLResponse)
def vm_snapshots(request: Request, vm_id: str) -> Response:
    with db_of(request).read() as s:
        ctx = snapshots_context(s, _vm_out(s, request, vm_id))
    return ui.render(request, "compute/_vm_snapshots.html", ctx)


@fragments.get("/vms/{vm_id}/migration", response_class=HTMLResponse)
def vm_migration(request: Request, vm_id: str) -> Response:
    with db_of(request).read() as s:
        ctx = migration_context(s, _vm_out(s, request, vm_id))
    return ui.render(request, "compute/_vm_migration.html", ctx)


@fragments.get("/hosts/{host_id}/row", response_class=HTMLResponse)
def host_row(request: Request, host_id: str) -> Response:
    with db_of(request).read() as s:
        ctx = host_context(s, host_id)
    return ui.render(request, "compute/_host_row.html", ctx)


@fragments.get("/hosts/{host_id}/summary", response_class=HTMLResponse)
def host_summary(request: Request, host_id: str) -> Response:
    with db_of(request).read() as s:
        ctx = host_summary_context(s, host_id)
    return ui.render(request, "compute/_host_summary.html", ctx)


@fragments.get("/operations/{op_id}/row", response_class=HTMLResponse)
def op_row(request: Request, op_id: str) -> Response:
    with db_of(request).read() as s:
        view = op_views(s, [_visible_op(s, request, op_id)])[0]
    return ui.render(request, "compute/_op_row.html", {"o": view})


@fragments.get("/operations/{op_id}/card", response_class=HTMLResponse)
def op_card(request: Request, op_id: str) -> Response:
    with db_of(request).read() as s:
        view = op_views(s, [_visible_op(s, request, op_id)])[0]
    return ui.render(request, "compute/_op_card.html", {"o": view})


@fragments.get("/fleet", response_class=HTMLResponse)
def fleet(request: Request) -> Response:
    with db_of(request).read() as s:
        stats = fleet_stats(s)
    return ui.render(request, "compute/_fleet.html", {"stats": stats})


router.include_router(pages)
router.include_router(fragments)
