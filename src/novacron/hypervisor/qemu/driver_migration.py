"""Live migration, the ``QemuDriver`` side: both ends of the contract in
``hypervisor/base.py`` (the QMP mechanics are in ``migration.py``; TLS credentials in
``compute/migration/tls.py``).

A mixin so that ``driver.py`` keeps the lifecycle: it uses the driver's VM records,
locks and helpers, declared below for the type checker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from novacron.compute.migration import tls as tls_certs
from novacron.core.errors import DriverError, InvalidState, NotFound
from novacron.hypervisor.base import CRASHED, MigrationProgress, VMInfo, VMSpec
from novacron.hypervisor.qemu import migration, snapshots

if TYPE_CHECKING:
    from novacron.hypervisor.qemu.driver import _VM
    from novacron.hypervisor.qemu.machine import Nic
    from novacron.hypervisor.qemu.process import QemuProcess

log = logging.getLogger(__name__)


class QemuMigrationMixin:
    host_name: str
    accel: str
    bridge: str | None
    migration_address: str
    vms_dir: Path
    _vms: dict[str, _VM]

    if TYPE_CHECKING:

        def _get(self, vm_id: str) -> _VM: ...
        def _running(self, vm: _VM, action: str) -> QemuProcess: ...
        def _live(self, vm: _VM) -> QemuProcess | None: ...
        def _disk(self, vm: _VM) -> Path: ...
        def _tls_dir(self, vm: _VM) -> Path: ...
        def _nic(self, vm: _VM, tap: str | None, with_forwards: bool = True) -> Nic: ...
        def _info(self, vm: _VM) -> VMInfo: ...
        def _save(self, vm: _VM) -> None: ...
        def _changed(self) -> None: ...
        def _new_record(self, spec: VMSpec, vm_uuid: str | None = None) -> _VM: ...
        async def _define(self, vm: _VM, disk_bytes: int = 0) -> None: ...
        async def _boot(
            self, vm: _VM, loadvm: str | None = None, incoming: str | None = None
        ) -> None: ...
        async def _remove(self, vm: _VM) -> None: ...
        async def destroy(self, vm_id: str) -> None: ...

    async def prepare_outgoing(
        self, vm_id: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        vm = self._get(vm_id)
        proc = self._running(vm, "migrate")
        if vm.incoming or (vm.outgoing is not None and not vm.outgoing.progress.done):
            raise InvalidState(f"VM {vm.spec.name} is already migrating")
        held = await snapshots.listing(self._disk(vm), proc)
        if held:
            raise InvalidState(
                f"VM {vm.spec.name} has {len(held)} snapshot(s); internal snapshots do not "
                "move with a live migration: delete them first"
            )
        version = (await proc.execute("query-version"))["qemu"]
        facts = {
            "uuid": vm.uuid,
            "accel": self.accel,
            "qemu_version": [version["major"], version["minor"]],
            "ram_bytes": vm.spec.memory_mib * 1024 * 1024,
            "dirty_rate_bps": await migration.measure_dirty_rate(proc),
            "disk_bytes": await migration.disk_size(proc),
            "bridge": (vm.spec.network or {}).get("bridge"),
        }
        tls_dir = self._tls_dir(vm)
        tls_certs.remove(tls_dir)  # an earlier attempt's key
        if (options or {}).get("tls"):
            # The key stays here; only its CSR goes to the destination (via the server).
            request = tls_certs.client_request(vm.spec.id)
            tls_certs.write_private(tls_dir, {tls_certs.CLIENT_KEY: request.key_pem})
            facts["tls_csr"] = request.csr_pem
        return facts

    async def prepare_incoming(self, spec: VMSpec, options: dict[str, Any]) -> dict[str, Any]:
        self._check_incoming(spec, options)
        if spec.id in self._vms:  # a retried prepare: start over
            await self.rollback_migration(spec.id, source=False)
        vm = self._new_record(spec, str(options["uuid"]))
        vm.incoming = True
        try:
            await self._define(vm, disk_bytes=int(options.get("disk_bytes") or 0))
            self._vms[spec.id] = vm
            async with vm.lock:
                host = str(options.get("listen_host") or self.migration_address)
                issued = None
                if options.get("tls_csr"):  # the source asked for TLS
                    issued = tls_certs.issue(str(options["tls_csr"]), host)
                    tls_certs.write_private(self._tls_dir(vm), issued.server_files())
                await self._boot(vm, incoming="defer")
                proc = self._running(vm, "receive")
                if issued is not None:
                    await migration.add_tls_creds(proc, self._tls_dir(vm), endpoint="server")
                await migration.configure(proc, options.get("plan") or {}, source=False)
                target = await migration.start_incoming(
                    proc, host, self._disk(vm).exists(), tls=issued is not None
                )
                if issued is not None:
                    target["tls"] = {
                        "ca_cert": issued.ca_cert_pem,
                        "client_cert": issued.client_cert_pem,
                        "hostname": host,
                    }
                return target
        except BaseException:
            self._vms.pop(spec.id, None)
            await self._remove(vm)
            raise

    def _check_incoming(self, spec: VMSpec, options: dict[str, Any]) -> None:
        """Compatibility, checked on the destination before anything is created."""
        problems = []
        if options.get("accel") and options["accel"] != self.accel:
            problems.append(f"source runs {options['accel']}, this host {self.accel}")
        bridge = options.get("bridge")
        if bridge and bridge != self.bridge:
            problems.append(f"no bridge {bridge!r} here")
        existing = self._vms.get(spec.id)
        if existing is not None and not existing.incoming:
            problems.append("the VM already runs here")
        if problems:
            raise DriverError(
                f"cannot receive VM {spec.name} on {self.host_name}: " + "; ".join(problems)
            )

    async def migrate(self, vm_id: str, target: dict[str, Any], options: dict[str, Any]) -> None:
        vm = self._get(vm_id)
        async with vm.lock:
            proc = self._running(vm, "migrate")
            if vm.outgoing is not None and not vm.outgoing.progress.done:
                raise InvalidState(f"VM {vm.spec.name} is already migrating")
            plan = dict(options.get("plan") or {})
            tls_dir = self._source_tls(vm, target, options)
            vm.outgoing = migration.Outgoing(
                proc,
                target,
                plan,
                migration.controller_for(options, plan, vm.spec.memory_mib * 1024 * 1024),
                with_disk=self._disk(vm).exists(),
                tls_dir=tls_dir,
            )
            vm.outgoing.start()

    def _source_tls(self, vm: _VM, target: dict[str, Any], options: dict[str, Any]) -> Path | None:
        """The source's credential directory for a TLS target (its key from
        ``prepare_outgoing`` plus the CA and client certificates the destination
        issued), or None for plain TCP. Never falls back to plain TCP when TLS was
        asked for."""
        tls_dir = self._tls_dir(vm)
        offered = target.get("tls")
        if not offered:
            tls_certs.remove(tls_dir)
            if options.get("tls"):
                raise DriverError(
                    f"VM {vm.spec.name}: TLS was asked for but the destination offers none; "
                    "refusing to migrate in the clear"
                )
            return None
        if not (tls_dir / tls_certs.CLIENT_KEY).exists():
            raise DriverError(
                f"VM {vm.spec.name}: no TLS key for this migration (prepare_outgoing was "
                "not asked for TLS, or the agent lost it): prepare the migration again"
            )
        tls_certs.write_private(
            tls_dir,
            {
                tls_certs.CA_CERT: str(offered["ca_cert"]),
                tls_certs.CLIENT_CERT: str(offered["client_cert"]),
            },
        )
        return tls_dir

    async def migration_status(self, vm_id: str) -> MigrationProgress:
        vm = self._get(vm_id)
        if vm.outgoing is None:
            raise NotFound(f"VM {vm.spec.name} has no migration on {self.host_name}")
        return vm.outgoing.progress

    async def cancel_migration(self, vm_id: str) -> None:
        vm = self._get(vm_id)
        if vm.outgoing is not None:
            await vm.outgoing.cancel()

    async def finish_migration(self, vm_id: str, *, source: bool) -> VMInfo | None:
        vm = self._vms.get(vm_id)
        if source:
            if vm is None:
                return None
            if vm.outgoing is None or vm.outgoing.progress.status != "completed":
                raise InvalidState(f"VM {vm.spec.name} has no completed migration to finish")
            await self.destroy(vm_id)
            return None
        if vm is None:
            raise NotFound(f"no incoming VM {vm_id} on host {self.host_name}")
        async with vm.lock:
            if vm.incoming:
                proc = self._running(vm, "finish receiving")
                await migration.finish_incoming(proc)
                await migration.end_tls(proc, self._tls_dir(vm))
                await migration.add_forwards(proc, self._nic(vm, None).forwards)
                vm.incoming, vm.paused = False, False
                self._save(vm)
                self._changed()
            return self._info(vm)

    async def rollback_migration(self, vm_id: str, *, source: bool) -> None:
        vm = self._vms.get(vm_id)
        if vm is None:
            return
        if not source:
            if vm.incoming:
                await self.destroy(vm_id)
            return
        # Outgoing cleans up its own credentials; these are those of a migration that
        # was prepared but never started.
        tls_certs.remove(self._tls_dir(vm))
        out = vm.outgoing
        if out is None:  # never started, or this agent restarted since it began
            proc = self._live(vm)
            if proc is not None:
                await migration.drop_tls_creds(proc)  # a TLS attempt's, had it started
                if await migration.recover_source(proc):
                    await self._lose(vm)
            return
        if not out.progress.done:
            await out.cancel()
        if out.progress.status == "completed" and not out.lost:
            # The stream completed but the destination did not take over.
            if out.postcopy:
                out.lost = True  # the newest memory was there
            else:
                await self._resume_after_handover(vm)
        if out.lost:
            await self._lose(vm)

    async def _resume_after_handover(self, vm: _VM) -> None:
        """Pre-copy completed but the destination failed: this copy is whole; run it."""
        async with vm.lock:
            proc = self._live(vm)
            if proc is not None and await proc.run_state() != "running":
                await proc.execute("cont")
                vm.paused = False
                log.warning(
                    "VM %s: the destination failed after the handover; resumed here", vm.spec.id
                )

    async def _lose(self, vm: _VM) -> None:
        """Post-copy broke: what runs here is no longer the whole guest. End it."""
        async with vm.lock:
            proc = self._live(vm)
            if proc is not None:
                await proc.terminate()
            vm.power, vm.fault = CRASHED, "live migration failed during post-copy; VM lost"
            self._save(vm)
        self._changed()
