"""Routes for host drain, undrain and fencing (a VM's own migration is under
``/vms/{ref}``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from novacron.compute import hosts
from novacron.compute.api import accepted, who
from novacron.compute.features import migration_params
from novacron.compute.migration import drain, ha
from novacron.compute.schemas import HostDrain, HostFence, HostOut, HostUndrain, OperationOut
from novacron.core.database import db_of
from novacron.security.auth import require_user

router = APIRouter(prefix="/api/v1/hosts", dependencies=[Depends(require_user)], tags=["hosts"])


@router.post("/{ref}/drain", status_code=202, response_model=OperationOut)
def drain_host(request: Request, ref: str, body: HostDrain) -> JSONResponse:
    """Live-migrate every running VM away (``parallel`` at a time); the host stays in
    maintenance."""
    with db_of(request).session() as s:
        op = drain.request_drain(
            s, ref, who(request), parallel=body.parallel, migrate=migration_params(body)
        )
    request.app.state.placement.invalidate()
    return accepted(request, op)


@router.post("/{ref}/undrain", status_code=202, response_model=OperationOut)
def undrain_host(request: Request, ref: str, body: HostUndrain) -> JSONResponse:
    """Out of maintenance; ``bring_back`` migrates the last drain's VMs home."""
    with db_of(request).session() as s:
        op = drain.request_undrain(s, ref, who(request), bring_back=body.bring_back)
    return accepted(request, op)


@router.post("/{ref}/fence", response_model=HostOut)
def fence_host(request: Request, ref: str, body: HostFence) -> HostOut:
    """An operator confirms a down host is powered off: its HA VMs may restart elsewhere."""
    with db_of(request).session() as s:
        host = ha.confirm_fence(s, ref, body.reason)
        return hosts.to_out(s, [host])[0]
