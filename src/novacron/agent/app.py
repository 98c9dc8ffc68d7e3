"""The agent's HTTP API. Only the server calls it, with the agent's API secret.

    GET    /healthz                                   no auth: {"status": "ok", "hosts": N}
    GET    /v1/hosts                                  [HostInfo] of the hosts that are up
    GET    /v1/hosts/{host}/vms                       [VMInfo]
    POST   /v1/hosts/{host}/vms                       VMSpec → 201 VMInfo (idempotent on id)
    GET    /v1/hosts/{host}/vms/{vm_id}               VMInfo
    POST   /v1/hosts/{host}/vms/{vm_id}/actions/{a}   a ∈ start|shutdown|stop|reboot|pause|resume
    DELETE /v1/hosts/{host}/vms/{vm_id}               204 (also when already gone)
    GET    /v1/hosts/{host}/vms/{vm_id}/console       ?offset=&limit= → bytes, X-Console-Offset
    GET    /v1/hosts/{host}/vms/{vm_id}/console/stream  ?offset= → bytes as they come (follow)
    GET    /v1/hosts/{host}/vms/{vm_id}/stats         counters (CPU, memory, disk, network)
    GET    /v1/hosts/{host}/vms/{vm_id}/snapshots     [SnapshotInfo]
    POST   /v1/hosts/{host}/vms/{vm_id}/snapshots     {"name"} → 201 SnapshotInfo
    POST   /v1/hosts/{host}/vms/{vm_id}/snapshots/{name}/revert   VMInfo
    DELETE /v1/hosts/{host}/vms/{vm_id}/snapshots/{name}          204 (also when already gone)
    POST   /v1/hosts/{host}/vms/{vm_id}/resize        {"vcpus", "memory_mib", "disk_gib"} → VMInfo
    POST   /v1/hosts/{host}/vms/{vm_id}/clone         VMSpec of the clone → 201 VMInfo
    …/migration…                                      live migration: see ``migration_routes``

    sim driver only:
    POST   /v1/sim/hosts/{host}/crash | /recover      {"name": host, "crashed": bool}
    POST   /v1/sim/hosts/{host}/vms/{vm_id}/crash     VMInfo (a guest crash)
    GET    /v1/sim/config, PUT /v1/sim/config         {"delays", "failure_rates", "speed", "seed"}

Every error is ``application/problem+json`` rendered by ``NovaCronError.problem()``;
a 404 for an unknown host carries ``"missing": "host"`` so that a client can tell it
from a missing VM.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from novacron import __version__
from novacron.agent.inventory import host_infos, vm_dict
from novacron.agent.migration_routes import add_migration_routes
from novacron.core import problems
from novacron.core.errors import Invalid, NotFound, Unauthorized
from novacron.hypervisor.base import HypervisorDriver, VMInfo, VMSpec
from novacron.hypervisor.sim import SimFleet

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
Action = Literal["start", "shutdown", "stop", "reboot", "pause", "resume"]
ACTIONS: tuple[str, ...] = ("start", "shutdown", "stop", "reboot", "pause", "resume")


class UnknownHost(NotFound):
    """404 for a host this agent does not manage (as opposed to a missing VM)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"no host {host!r} on this agent")
        self.host = host

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body = super().problem(instance)
        body["missing"] = "host"
        body["host"] = self.host
        return body


class VMSpecBody(BaseModel):
    """Request body of ``POST /v1/hosts/{host}/vms``: the fields of ``VMSpec``."""

    model_config = ConfigDict(extra="forbid")

    # The id names files and directories on the host: no path separators, no dot-dot.
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=128)
    vcpus: int = Field(ge=1)
    memory_mib: int = Field(ge=1)
    disk_gib: int = Field(ge=0)
    image: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    image_ref: dict[str, Any] | None = None
    network: dict[str, Any] = Field(default_factory=dict)
    cloud_init: dict[str, Any] | None = None
    kernel_args: str = Field(default="", max_length=1024)

    def to_spec(self) -> VMSpec:
        return VMSpec(**self.model_dump())


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Shutdown only: seconds to wait for the guest before powering off hard."""


class SnapshotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)


class ResizeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vcpus: int | None = Field(default=None, ge=1)
    memory_mib: int | None = Field(default=None, ge=16)
    disk_gib: int | None = Field(default=None, ge=1)


class SimConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delays: dict[str, float] | None = None
    failure_rates: dict[str, float] | None = None
    speed: float | None = None


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code)


def _vm(info: VMInfo, status_code: int = 200) -> JSONResponse:
    return _json(vm_dict(info), status_code)


def create_agent_app(fleet: SimFleet | Mapping[str, HypervisorDriver], api_secret: str) -> FastAPI:
    """The agent API over ``fleet`` (host name → driver); sim routes only for a ``SimFleet``."""
    if not api_secret:
        raise Invalid("the agent needs a non-empty API secret")
    drivers: Mapping[str, HypervisorDriver] = fleet
    secret = api_secret.encode()

    app = FastAPI(
        title="NovaCron agent",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    problems.install(app, component="agent")

    def require_secret(authorization: str | None = Header(default=None)) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        # Compare even when the scheme is wrong, so timing says nothing about the secret.
        ok = hmac.compare_digest(token.strip().encode(), secret)
        if not (ok and scheme.lower() == "bearer"):
            raise Unauthorized("missing or wrong agent API secret")

    def driver_for(host: str) -> HypervisorDriver:
        driver = drivers.get(host)
        if driver is None:
            raise UnknownHost(host)
        return driver

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return _json({"status": "ok", "hosts": len(drivers)})

    api = APIRouter(prefix="/v1", dependencies=[Depends(require_secret)])

    @api.get("/hosts")
    async def list_hosts() -> JSONResponse:
        return _json(await host_infos(drivers))

    @api.get("/hosts/{host}/vms")
    async def list_vms(host: str) -> JSONResponse:
        vms = await driver_for(host).list_vms()
        return _json([vm_dict(vm) for vm in vms])

    @api.post("/hosts/{host}/vms", status_code=201)
    async def create_vm(host: str, body: VMSpecBody) -> JSONResponse:
        driver = driver_for(host)
        return _vm(await driver.create(body.to_spec()), 201)

    @api.get("/hosts/{host}/vms/{vm_id}")
    async def get_vm(host: str, vm_id: str) -> JSONResponse:
        return _vm(await driver_for(host).get_vm(vm_id))

    @api.post("/hosts/{host}/vms/{vm_id}/actions/{action}")
    async def vm_action(
        host: str, vm_id: str, action: Action, body: ActionBody | None = None
    ) -> JSONResponse:
        driver = driver_for(host)
        timeout_s = body.timeout_s if body is not None else None
        if action == "shutdown":
            if timeout_s is None:
                return _vm(await driver.shutdown(vm_id))
            return _vm(await driver.shutdown(vm_id, timeout_s=timeout_s))
        if timeout_s is not None:
            raise Invalid(
                "timeout_s applies to shutdown only",
                errors=[{"loc": ["body", "timeout_s"], "msg": f"not allowed for {action}"}],
            )
        method = {
            "start": driver.start,
            "stop": driver.stop,
            "reboot": driver.reboot,
            "pause": driver.pause,
            "resume": driver.resume,
        }[action]
        return _vm(await method(vm_id))

    @api.delete("/hosts/{host}/vms/{vm_id}", status_code=204)
    async def destroy_vm(host: str, vm_id: str) -> Response:
        await driver_for(host).destroy(vm_id)
        return Response(status_code=204)

    _vm_extras(api, driver_for)
    add_migration_routes(api, driver_for, lambda raw: VMSpecBody(**raw).to_spec())
    app.include_router(api)
    if isinstance(fleet, SimFleet):
        app.include_router(_sim_router(fleet, require_secret))
    return app


CONSOLE_CHUNK = 64 * 1024
CONSOLE_POLL_S = 0.2


def _vm_extras(api: APIRouter, driver_for: Any) -> None:
    """Console, statistics, snapshots, resize and clone: drivers that lack one raise
    ``DriverError`` (a 502 problem naming what is unsupported)."""

    @api.get("/hosts/{host}/vms/{vm_id}/console")
    async def console(
        host: str, vm_id: str, offset: int = 0, limit: int = Query(CONSOLE_CHUNK, ge=0, le=2**24)
    ) -> Response:
        data, after = await driver_for(host).console_read(vm_id, offset, limit)
        return Response(
            data, media_type="application/octet-stream", headers={"X-Console-Offset": str(after)}
        )

    @api.get("/hosts/{host}/vms/{vm_id}/console/stream")
    async def console_stream(host: str, vm_id: str, offset: int = 0) -> StreamingResponse:
        driver = driver_for(host)
        first, position = await driver.console_read(vm_id, offset, CONSOLE_CHUNK)

        async def follow() -> AsyncIterator[bytes]:
            nonlocal position
            if first:
                yield first
            while True:
                try:
                    data, position = await driver.console_read(vm_id, position, CONSOLE_CHUNK)
                except NotFound:
                    return  # the VM was deleted: end of the story
                if data:
                    yield data
                else:
                    await asyncio.sleep(CONSOLE_POLL_S)

        return StreamingResponse(follow(), media_type="application/octet-stream")

    @api.get("/hosts/{host}/vms/{vm_id}/stats")
    async def stats(host: str, vm_id: str) -> JSONResponse:
        return _json(await driver_for(host).vm_stats(vm_id))

    @api.get("/hosts/{host}/vms/{vm_id}/snapshots")
    async def list_snapshots(host: str, vm_id: str) -> JSONResponse:
        return _json([s.as_dict() for s in await driver_for(host).snapshot_list(vm_id)])

    @api.post("/hosts/{host}/vms/{vm_id}/snapshots", status_code=201)
    async def create_snapshot(host: str, vm_id: str, body: SnapshotBody) -> JSONResponse:
        info = await driver_for(host).snapshot_create(vm_id, body.name)
        return _json(info.as_dict(), 201)

    @api.post("/hosts/{host}/vms/{vm_id}/snapshots/{name}/revert")
    async def revert_snapshot(host: str, vm_id: str, name: str) -> JSONResponse:
        return _vm(await driver_for(host).snapshot_revert(vm_id, name))

    @api.delete("/hosts/{host}/vms/{vm_id}/snapshots/{name}", status_code=204)
    async def delete_snapshot(host: str, vm_id: str, name: str) -> Response:
        await driver_for(host).snapshot_delete(vm_id, name)
        return Response(status_code=204)

    @api.post("/hosts/{host}/vms/{vm_id}/resize")
    async def resize(host: str, vm_id: str, body: ResizeBody) -> JSONResponse:
        info = await driver_for(host).resize(
            vm_id, vcpus=body.vcpus, memory_mib=body.memory_mib, disk_gib=body.disk_gib
        )
        return _vm(info)

    @api.post("/hosts/{host}/vms/{vm_id}/clone", status_code=201)
    async def clone(host: str, vm_id: str, body: VMSpecBody) -> JSONResponse:
        return _vm(await driver_for(host).clone(vm_id, body.to_spec()), 201)


def _sim_router(fleet: SimFleet, require_secret: Any) -> APIRouter:
    sim = APIRouter(prefix="/v1/sim", dependencies=[Depends(require_secret)])

    def host_of(host: str) -> Any:
        if host not in fleet:
            raise UnknownHost(host)
        return fleet[host]

    @sim.post("/hosts/{host}/crash")
    async def crash(host: str) -> JSONResponse:
        host_of(host).crash()
        log.info("sim host %s crashed on request", host)
        return _json({"name": host, "crashed": True})

    @sim.post("/hosts/{host}/recover")
    async def recover(host: str) -> JSONResponse:
        host_of(host).recover()
        log.info("sim host %s recovered on request", host)
        return _json({"name": host, "crashed": False})

    @sim.post("/hosts/{host}/vms/{vm_id}/crash")
    async def crash_vm(host: str, vm_id: str) -> JSONResponse:
        return _vm(host_of(host).crash_vm(vm_id))

    @sim.get("/config")
    async def get_config() -> JSONResponse:
        return _json(fleet.config.as_dict())

    @sim.put("/config")
    async def put_config(body: SimConfigBody) -> JSONResponse:
        try:
            return _json(
                fleet.configure(
                    delays=body.delays, failure_rates=body.failure_rates, speed=body.speed
                )
            )
        except Invalid as exc:
            errors = [{**e, "loc": ["body", *e.get("loc", [])]} for e in exc.errors]
            raise Invalid(exc.detail, errors=errors) from None

    return sim
