"""Routes for snapshots, resize, clone, restart policy, console and statistics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from novacron.compute import features, vms
from novacron.compute.api import accepted, who
from novacron.compute.schemas import (
    OperationOut,
    SnapshotCreate,
    SnapshotOut,
    VMClone,
    VMMigrate,
    VMOut,
    VMResize,
    VMUpdate,
)
from novacron.core.database import db_of
from novacron.core.errors import AgentUnreachable
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(prefix="/api/v1/vms", dependencies=[Depends(require_user)], tags=["vms"])

CONSOLE_LIMIT = 1 << 20
#: The console is bytes a guest chose: never let a browser guess it is HTML.
NO_SNIFF = {"X-Content-Type-Options": "nosniff"}


@router.patch("/{ref}", response_model=VMOut)
def update_vm(request: Request, ref: str, body: VMUpdate) -> VMOut:
    with db_of(request).session() as s:
        vm = features.update(s, ref, body, project_id=current_project(request))
        return vms.to_out(s, [vm])[0]


@router.get("/{ref}/snapshots", response_model=list[SnapshotOut])
def list_snapshots(request: Request, ref: str) -> list[SnapshotOut]:
    with db_of(request).read() as s:
        return [
            SnapshotOut.model_validate(x)
            for x in features.list_snapshots(s, ref, project_id=current_project(request))
        ]


@router.post("/{ref}/snapshots", status_code=202, response_model=OperationOut)
def create_snapshot(request: Request, ref: str, body: SnapshotCreate) -> JSONResponse:
    with db_of(request).session() as s:
        op = features.create_snapshot(
            s, ref, body.name, who(request), project_id=current_project(request)
        )
    return accepted(request, op)


@router.post("/{ref}/snapshots/{name}/revert", status_code=202, response_model=OperationOut)
def revert_snapshot(request: Request, ref: str, name: str) -> JSONResponse:
    with db_of(request).session() as s:
        op = features.revert_snapshot(
            s, ref, name, who(request), project_id=current_project(request)
        )
    return accepted(request, op)


@router.delete("/{ref}/snapshots/{name}", status_code=202, response_model=OperationOut)
def delete_snapshot(request: Request, ref: str, name: str) -> JSONResponse:
    with db_of(request).session() as s:
        op = features.delete_snapshot(
            s, ref, name, who(request), project_id=current_project(request)
        )
    return accepted(request, op)


@router.post("/{ref}/resize", status_code=202, response_model=OperationOut)
def resize_vm(request: Request, ref: str, body: VMResize) -> JSONResponse:
    with db_of(request).session() as s:
        op = features.resize(s, ref, body, who(request), project_id=current_project(request))
    return accepted(request, op)


@router.post("/{ref}/migrate", status_code=202, response_model=OperationOut)
def migrate_vm(request: Request, ref: str, body: VMMigrate) -> JSONResponse:
    with db_of(request).session() as s:
        op = features.migrate(s, ref, body, who(request), project_id=current_project(request))
    return accepted(request, op)


@router.post("/{ref}/clone", status_code=202, response_model=OperationOut)
def clone_vm(request: Request, ref: str, body: VMClone) -> JSONResponse:
    with db_of(request).session() as s:
        op, _ = features.clone(s, ref, body, who(request), project_id=current_project(request))
    return accepted(request, op)


@router.get("/{ref}/stats")
def vm_stats(request: Request, ref: str) -> dict[str, Any]:
    with db_of(request).read() as s:
        client, host, vm_id = features.agent_of(
            s, ref, request.app.state.settings, "stats", project_id=current_project(request)
        )
    return client.vm_stats(host, vm_id)


@router.get(
    "/{ref}/console",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Serial console output"}},
)
async def console(
    request: Request,
    ref: str,
    offset: int = Query(0, description="Byte offset; negative counts from the end"),
    limit: int = Query(65536, ge=0, le=CONSOLE_LIMIT),
    follow: bool = Query(False, description="Keep the response open and stream new output"),
) -> Response:
    """The VM's serial console log; ``X-Console-Offset`` is where to continue."""
    with db_of(request).read() as s:
        client, host, vm_id = features.agent_of(
            s, ref, request.app.state.settings, "console", project_id=current_project(request)
        )
    if not follow:
        data, after = await run_in_threadpool(client.console, host, vm_id, offset, limit)
        return Response(
            data,
            media_type="text/plain; charset=utf-8",
            headers={"X-Console-Offset": str(after), **NO_SNIFF},
        )
    url = client.console_stream_url(host, vm_id)
    headers = client.auth_headers
    upstream = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None))
    try:
        response = await upstream.send(
            upstream.build_request("GET", url, params={"offset": offset}, headers=headers),
            stream=True,
        )
    except httpx.TransportError as exc:
        await upstream.aclose()
        raise AgentUnreachable(f"agent unreachable: {exc}") from exc
    if response.status_code != 200:
        await response.aread()
        await upstream.aclose()
        raise client.error_for(response)  # the agent's problem, as for any other call

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()
            await upstream.aclose()

    return StreamingResponse(relay(), media_type="text/plain; charset=utf-8", headers=NO_SNIFF)
