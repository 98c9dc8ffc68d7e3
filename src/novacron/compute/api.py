"""REST routes of the compute slice under ``/api/v1``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from novacron.compute import catalog, hosts, image_store, operations, vms
from novacron.compute.image_store import ImageStore, Upload
from novacron.compute.migration import ha
from novacron.compute.models import Host, Image, Operation, PlacementGroup
from novacron.compute.schemas import (
    AgentRegister,
    AgentRegistered,
    GroupCreate,
    GroupOut,
    Heartbeat,
    HeartbeatAck,
    HostMaintenance,
    HostOut,
    HostUpdate,
    ImageCreate,
    ImageFileName,
    ImageOut,
    OperationOut,
    VMCreate,
    VMOut,
    VMStop,
)
from novacron.core.database import Database, db_of
from novacron.core.errors import Invalid, NotFound
from novacron.core.pagination import Page, PageParams, page_params, paginate
from novacron.security.auth import bearer, principal_for, require_agent, require_user
from novacron.security.context import current_project
from novacron.security.pki.guard import require_agent_cert
from novacron.security.tokens import Principal

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_user)])
agent_router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


def accepted(request: Request, op: Operation) -> JSONResponse:
    """202 with the operation; workers pick it up at once."""
    wake = getattr(request.app.state, "wake_workers", None)
    if wake:
        wake()
    body = OperationOut.model_validate(op).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/operations/{op.id}"})


def who(request: Request) -> str:
    principal: Principal = request.state.principal
    return principal.name


# -- VMs -----------------------------------------------------------------------------------


@router.get("/vms", response_model=Page[VMOut], tags=["vms"])
def list_vms(
    request: Request,
    page: PageParams = Depends(page_params),
    state: str | None = Query(None, description="Only VMs in this state"),
    host: str | None = Query(None, description="Only VMs on this host (name or id)"),
    name: str | None = Query(None, description="Name contains"),
    include_deleted: bool = False,
) -> Page[VMOut]:
    with db_of(request).read() as s:
        items, total = vms.list_vms(
            s,
            page,
            project_id=current_project(request),
            state=state,
            host=host,
            name=name,
            include_deleted=include_deleted,
        )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/vms", status_code=202, response_model=OperationOut, tags=["vms"])
def create_vm(request: Request, body: VMCreate) -> JSONResponse:
    with db_of(request).session() as s:
        op = vms.create(s, body, who(request), project_id=current_project(request))
    return accepted(request, op)


@router.get("/vms/{ref}", response_model=VMOut, tags=["vms"])
def get_vm(request: Request, ref: str) -> VMOut:
    with db_of(request).read() as s:
        vm = vms.find_vm(s, ref, project_id=current_project(request), include_deleted=True)
        return vms.to_out(s, [vm])[0]


def _action(request: Request, ref: str, action: str) -> JSONResponse:
    with db_of(request).session() as s:
        op = vms.act(s, ref, action, who(request), project_id=current_project(request))
    return accepted(request, op)


@router.post("/vms/{ref}/start", status_code=202, response_model=OperationOut, tags=["vms"])
def start_vm(request: Request, ref: str) -> JSONResponse:
    return _action(request, ref, "start")


@router.post("/vms/{ref}/stop", status_code=202, response_model=OperationOut, tags=["vms"])
def stop_vm(request: Request, ref: str, body: VMStop | None = Body(None)) -> JSONResponse:
    return _action(request, ref, "force-stop" if body and body.force else "stop")


@router.post("/vms/{ref}/reboot", status_code=202, response_model=OperationOut, tags=["vms"])
def reboot_vm(request: Request, ref: str) -> JSONResponse:
    return _action(request, ref, "reboot")


@router.post("/vms/{ref}/pause", status_code=202, response_model=OperationOut, tags=["vms"])
def pause_vm(request: Request, ref: str) -> JSONResponse:
    return _action(request, ref, "pause")


@router.post("/vms/{ref}/resume", status_code=202, response_model=OperationOut, tags=["vms"])
def resume_vm(request: Request, ref: str) -> JSONResponse:
    return _action(request, ref, "resume")


@router.delete("/vms/{ref}", status_code=202, response_model=OperationOut, tags=["vms"])
def delete_vm(request: Request, ref: str) -> JSONResponse:
    return _action(request, ref, "delete")


# -- Hosts ---------------------------------------------------------------------------------


@router.get("/hosts", response_model=Page[HostOut], tags=["hosts"])
def list_hosts(
    request: Request,
    page: PageParams = Depends(page_params),
    state: str | None = Query(None, pattern="^(up|down|maintenance)$"),
) -> Page[HostOut]:
    with db_of(request).read() as s:
        items, total = hosts.list_hosts(s, page, state=state)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/hosts/{ref}", response_model=HostOut, tags=["hosts"])
def get_host(request: Request, ref: str) -> HostOut:
    with db_of(request).read() as s:
        return hosts.to_out(s, [hosts.find_host(s, ref)])[0]


@router.patch("/hosts/{ref}", response_model=HostOut, tags=["hosts"])
def update_host(request: Request, ref: str, body: HostUpdate) -> HostOut:
    with db_of(request).session() as s:
        out = hosts.update_host(s, ref, body)
    request.app.state.placement.invalidate()
    return out


@router.post(
    "/hosts/{ref}/maintenance", status_code=202, response_model=OperationOut, tags=["hosts"]
)
def host_maintenance(request: Request, ref: str, body: HostMaintenance) -> JSONResponse:
    with db_of(request).session() as s:
        op = hosts.request_maintenance(s, ref, body.enabled, body.reason, who(request))
    return accepted(request, op)


# -- Operations ----------------------------------------------------------------------------


@router.get("/operations", response_model=Page[OperationOut], tags=["operations"])
def list_operations(
    request: Request,
    page: PageParams = Depends(page_params),
    state: str | None = Query(None, pattern="^(pending|running|succeeded|failed|cancelled)$"),
    kind: str | None = None,
    target: str | None = Query(None, description="Target id"),
) -> Page[OperationOut]:
    stmt = operations.query(
        state=state, kind=kind, target_id=target, project_id=current_project(request)
    )
    with db_of(request).read() as s:
        rows, total = paginate(s, stmt, page)
        items = [OperationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/operations/{op_id}", response_model=OperationOut, tags=["operations"])
def get_operation(request: Request, op_id: str) -> OperationOut:
    with db_of(request).read() as s:
        op = operations.get(s, op_id, project_id=current_project(request))
        return OperationOut.model_validate(op)


@router.post("/operations/{op_id}/cancel", response_model=OperationOut, tags=["operations"])
def cancel_operation(request: Request, op_id: str) -> OperationOut:
    with db_of(request).session() as s:
        op = vms.cancel_operation(s, op_id, project_id=current_project(request))
        return OperationOut.model_validate(op)


# -- Images and placement groups -------------------------------------------------------


@router.get("/images", response_model=Page[ImageOut], tags=["images"])
def list_images(request: Request, page: PageParams = Depends(page_params)) -> Page[ImageOut]:
    with db_of(request).read() as s:
        stmt = select(Image).where(Image.project_id == current_project(request))
        rows, total = paginate(s, stmt.order_by(Image.name), page)
        items = [ImageOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/images", status_code=201, response_model=ImageOut, tags=["images"])
def create_image(request: Request, body: ImageCreate) -> ImageOut:
    with db_of(request).session() as s:
        image = catalog.create_image(s, body, project_id=current_project(request))
        return ImageOut.model_validate(image)


@router.get("/images/{ref}", response_model=ImageOut, tags=["images"])
def get_image(request: Request, ref: str) -> ImageOut:
    with db_of(request).read() as s:
        image = catalog.find_image(s, ref, project_id=current_project(request), for_input=False)
        return ImageOut.model_validate(image)


@router.delete("/images/{ref}", status_code=204, tags=["images"])
def delete_image(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        image_id = catalog.delete_image(s, ref, project_id=current_project(request))
    store_of(request).remove(image_id)
    return Response(status_code=204)


def store_of(request: Request) -> ImageStore:
    return ImageStore(request.app.state.settings.data_dir / "images")


SHA256_HEADER = "X-Content-SHA256"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _expected_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise Invalid(
            f"{SHA256_HEADER}: must be 64 hex digits",
            errors=[{"loc": ["header", SHA256_HEADER], "msg": "must be 64 hex digits"}],
        )
    return value


def _upload_target(db: Database, ref: str, file_name: str, project_id: str) -> tuple[str, str]:
    """(id, format) of a pending image that takes this file; refused before any byte."""
    with db.read() as s:
        image = catalog.find_image(s, ref, project_id=project_id, for_input=False)
        catalog.check_uploadable(image, file_name)
        return image.id, image.format


def _record_upload(
    db: Database, image_id: str, file_name: str, fmt: str, upload: Upload
) -> ImageOut:
    """Judge the file, then record it and move it into place in one transaction (the row
    is locked): of two concurrent uploads of one file, the recorded hash is that of the
    file in place."""
    virtual_size = image_store.inspect(upload, file_name, fmt)
    with db.session() as s:
        image = catalog.record_file(
            s, image_id, file_name, upload.sha256, upload.size, virtual_size
        )
        upload.commit()
        return ImageOut.model_validate(image)


_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/images/{ref}/files/{file_name}",
    response_model=ImageOut,
    tags=["images"],
    openapi_extra=_RAW_BODY,
)
async def upload_image_file(
    request: Request,
    ref: str,
    file_name: ImageFileName,
    content_sha256: str | None = Header(
        None,
        alias=SHA256_HEADER,
        description="SHA-256 (hex) of the body; the upload is refused if it differs",
    ),
) -> ImageOut:
    """Upload one file of a pending image as the raw request body (streamed to disk, never
    held in memory). The file is judged before it is kept: a ``disk`` must be a standalone
    qcow2 (no backing or external data file) or raw, as the image's format says; a
    ``kernel`` an x86 bzImage. Uploading a file again replaces it while the image is
    pending. A refused upload leaves nothing behind."""
    expected = _expected_sha256(content_sha256)
    db = db_of(request)
    project_id = current_project(request)
    image_id, fmt = await run_in_threadpool(_upload_target, db, ref, file_name, project_id)
    upload = await store_of(request).receive(image_id, file_name, request.stream())
    try:
        if expected is not None and upload.sha256 != expected:
            raise Invalid(
                f"{SHA256_HEADER}: the body's SHA-256 is {upload.sha256}",
                errors=[{"loc": ["header", SHA256_HEADER], "msg": "does not match the body"}],
            )
        return await run_in_threadpool(_record_upload, db, image_id, file_name, fmt, upload)
    finally:
        upload.discard()  # a no-op once the file was moved into place


@router.post("/images/{ref}/activate", response_model=ImageOut, tags=["images"])
def activate_image(request: Request, ref: str) -> ImageOut:
    """Make a pending image usable by VMs once the files its kind needs are uploaded
    (disk: ``disk``; kernel: ``kernel`` and ``initrd``, ``disk`` optional). Its files
    cannot change afterwards, so agents may cache them by id."""
    store = store_of(request)
    with db_of(request).session() as s:
        image = catalog.activate_image(
            s, ref, lambda i: store.missing(i.id, i.files), project_id=current_project(request)
        )
        return ImageOut.model_validate(image)


@router.get("/placement-groups", response_model=Page[GroupOut], tags=["placement-groups"])
def list_groups(request: Request, page: PageParams = Depends(page_params)) -> Page[GroupOut]:
    with db_of(request).read() as s:
        stmt = select(PlacementGroup).where(PlacementGroup.project_id == current_project(request))
        rows, total = paginate(s, stmt.order_by(PlacementGroup.name), page)
        items = [catalog.group_out(s, g) for g in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/placement-groups", status_code=201, response_model=GroupOut, tags=["placement-groups"]
)
def create_group(request: Request, body: GroupCreate) -> GroupOut:
    with db_of(request).session() as s:
        group = catalog.create_group(s, body, project_id=current_project(request))
        return catalog.group_out(s, group)


@router.get("/placement-groups/{ref}", response_model=GroupOut, tags=["placement-groups"])
def get_group(request: Request, ref: str) -> GroupOut:
    with db_of(request).read() as s:
        group = catalog.find_group(s, ref, project_id=current_project(request), for_input=False)
        return catalog.group_out(s, group)


@router.delete("/placement-groups/{ref}", status_code=204, tags=["placement-groups"])
def delete_group(request: Request, ref: str) -> Response:
    with db_of(request).session() as s:
        catalog.delete_group(s, ref, project_id=current_project(request))
    return Response(status_code=204)


# -- Agents (authenticated by enrolment token, then by their own token) -------------------


@agent_router.post("/register", response_model=AgentRegistered)
def register_agent(request: Request, body: AgentRegister) -> AgentRegistered:
    require_agent_cert(request, body.name)
    with db_of(request).session() as s:
        out = hosts.register_agent(s, body, request.app.state.settings)
    request.app.state.placement.invalidate()
    return out


@agent_router.post("/heartbeat", response_model=HeartbeatAck)
def agent_heartbeat(
    request: Request, body: Heartbeat, principal: Principal = Depends(require_agent)
) -> dict[str, Any]:
    settings = request.app.state.settings
    with db_of(request).session() as s:
        assert principal.token_id is not None  # agents always come with a token
        agent = hosts.agent_for_token(s, principal.token_id)
        orphans = hosts.heartbeat(s, agent, body, settings)
        host_ids = list(s.scalars(select(Host.id).where(Host.agent_id == agent.id)))
        for name, report in body.self_fenced.items():
            host = s.scalar(select(Host).where(Host.agent_id == agent.id, Host.name == name))
            if host is not None:
                ha.agent_fenced(s, host, int(report.get("stopped", 0)), report.get("after_s", 0))
        fence = ha.self_fence_instructions(s, host_ids, settings)
    return {"orphans": orphans, "self_fence": fence}


# -- Image files for users and agents ------------------------------------------------------

files_router = APIRouter(prefix="/api/v1", tags=["images"])


def require_user_or_agent(request: Request) -> Principal:
    """Users download their project's images; agents fetch any image to boot a VM placed
    on them, with their own token."""
    principal = principal_for(db_of(request), bearer(request), ("user", "agent"))
    if principal.kind == "user":
        return require_user(request)  # authorizes in a project like every user route
    request.state.principal = principal
    require_agent_cert(request)
    return principal


@files_router.get(
    "/images/{ref}/files/{file_name}",
    response_class=FileResponse,
    dependencies=[Depends(require_user_or_agent)],
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_image_file(request: Request, ref: str, file_name: ImageFileName) -> FileResponse:
    """One file of an image, with its SHA-256 in ``X-Content-SHA256``."""
    with db_of(request).read() as s:
        principal: Principal = request.state.principal
        project_id = current_project(request) if principal.kind == "user" else None
        image = catalog.find_image(s, ref, project_id=project_id, for_input=False)
        entry = image.files.get(file_name)
        if entry is None:
            raise NotFound(f"image {image.name} has no {file_name} file")
        image_id, name = image.id, image.name
    path = store_of(request).path(image_id, file_name)
    if not path.is_file():
        raise NotFound(
            f"image {name}'s {file_name} file is not in this server's image store "
            "(server replicas need a shared data dir for images)"
        )
    return FileResponse(
        path,
        media_type="application/octet-stream",
        headers={SHA256_HEADER: str(entry["sha256"])},
    )
