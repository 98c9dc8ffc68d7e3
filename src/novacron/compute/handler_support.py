"""What every operation handler needs: the held VM, its agent, its spec, failure paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from novacron.agent.client import AgentClient
from novacron.compute import hosts as host_service
from novacron.compute.catalog import image_ref
from novacron.compute.models import VM, Image
from novacron.compute.vms import set_state
from novacron.core.errors import AgentUnreachable, NovaCronError
from novacron.hypervisor.base import VMSpec

if TYPE_CHECKING:  # the executor imports the handlers
    from novacron.compute.executor import OpContext


class OperationFailed(Exception):
    """Ends an operation as failed with this message; state was already made consistent."""


def client_for(session: Session, ctx: OpContext, host_id: str) -> tuple[AgentClient, str]:
    return host_service.agent_client_for(session, host_id, ctx.settings.agent_request_timeout_s)


def held_vm(session: Session, ctx: OpContext) -> VM:
    """The operation's VM, if this operation still holds it (else nothing is done)."""
    vm = session.get(VM, ctx.target_id)
    if vm is None or vm.task_operation_id != ctx.op_id:
        holder = vm.task_operation_id if vm is not None else None
        raise OperationFailed(
            f"superseded by {holder}" if holder else "superseded by a later operation on this VM"
        )
    return vm


def vm_spec(session: Session, vm: VM) -> VMSpec:
    """What the agent needs to define ``vm``."""
    image = session.get(Image, vm.image_id) if vm.image_id else None
    return VMSpec(
        id=vm.id,
        name=vm.name,
        vcpus=vm.vcpus,
        memory_mib=vm.memory_mib,
        disk_gib=vm.disk_gib,
        image=image.name if image else None,
        labels=dict(vm.labels or {}),
        image_ref=image_ref(image) if image else None,
        network=dict(vm.network or {}),
        cloud_init=dict(vm.cloud_init) if vm.cloud_init else None,
        kernel_args=vm.kernel_args or "",
    )


def restore_after_failure(
    ctx: OpContext, client: AgentClient, host_name: str, exc: NovaCronError
) -> None:
    """Put the VM in the state its host reports, or ``unknown`` if the host can't say."""
    actual = "unknown"
    if not isinstance(exc, AgentUnreachable):
        try:
            info = client.get_vm(host_name, ctx.target_id)
            actual = (
                host_service.POWER_TO_STATE.get(info["power_state"], "unknown") if info else "error"
            )
        except NovaCronError:
            actual = "unknown"
    with ctx.owned() as (s, _op):
        vm = held_vm(s, ctx)
        set_state(s, vm, actual, fault=exc.detail)
        vm.task_operation_id = None
        before = str(ctx.op_params.get("from_state", ""))
        if actual == "crashed" and before != "crashed":
            # The crash showed up as a failed operation, so no heartbeat will report it
            # as news: announce it and apply the restart policy here.
            host_service.announce_crash(s, vm, exc.detail, ctx.settings, before)
