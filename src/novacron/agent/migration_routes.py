"""The agent's live-migration routes (both sides of a migration; the server drives).

POST /v1/hosts/{host}/vms/{vm_id}/migration/outgoing   {"options"}? → facts of the VM
POST /v1/hosts/{host}/incoming                         {"spec", "options"} → target
POST /v1/hosts/{host}/vms/{vm_id}/migration            {"target", "options"} → 202
GET  /v1/hosts/{host}/vms/{vm_id}/migration            MigrationProgress
POST /v1/hosts/{host}/vms/{vm_id}/migration/cancel     204
POST /v1/hosts/{host}/vms/{vm_id}/migration/finish     ?source= → VMInfo or {}
POST /v1/hosts/{host}/vms/{vm_id}/migration/rollback   ?source= → 204
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from novacron.agent.inventory import vm_dict
from novacron.hypervisor.base import HypervisorDriver


class OutgoingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: dict[str, Any] = {}


class IncomingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: dict[str, Any]
    options: dict[str, Any]


class MigrateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: dict[str, Any]
    options: dict[str, Any]


def add_migration_routes(
    api: APIRouter,
    driver_for: Callable[[str], HypervisorDriver],
    spec_of: Callable[[dict[str, Any]], Any],
) -> None:
    """``spec_of`` validates a VM spec as the create route does."""

    @api.post("/hosts/{host}/vms/{vm_id}/migration/outgoing")
    async def outgoing(host: str, vm_id: str, body: OutgoingBody | None = None) -> JSONResponse:
        options = body.options if body is not None else {}
        return JSONResponse(await driver_for(host).prepare_outgoing(vm_id, options))

    @api.post("/hosts/{host}/incoming")
    async def incoming(host: str, body: IncomingBody) -> JSONResponse:
        spec = spec_of(body.spec)
        return JSONResponse(await driver_for(host).prepare_incoming(spec, body.options))

    @api.post("/hosts/{host}/vms/{vm_id}/migration", status_code=202)
    async def migrate(host: str, vm_id: str, body: MigrateBody) -> Response:
        await driver_for(host).migrate(vm_id, body.target, body.options)
        return Response(status_code=202)

    @api.get("/hosts/{host}/vms/{vm_id}/migration")
    async def status(host: str, vm_id: str) -> JSONResponse:
        return JSONResponse((await driver_for(host).migration_status(vm_id)).as_dict())

    @api.post("/hosts/{host}/vms/{vm_id}/migration/cancel", status_code=204)
    async def cancel(host: str, vm_id: str) -> Response:
        await driver_for(host).cancel_migration(vm_id)
        return Response(status_code=204)

    @api.post("/hosts/{host}/vms/{vm_id}/migration/finish")
    async def finish(host: str, vm_id: str, source: bool) -> JSONResponse:
        info = await driver_for(host).finish_migration(vm_id, source=source)
        return JSONResponse(vm_dict(info) if info is not None else {})

    @api.post("/hosts/{host}/vms/{vm_id}/migration/rollback", status_code=204)
    async def rollback(host: str, vm_id: str, source: bool) -> Response:
        await driver_for(host).rollback_migration(vm_id, source=source)
        return Response(status_code=204)
