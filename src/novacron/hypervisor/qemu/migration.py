"""Live migration of one QEMU guest: QMP mechanics on both sides.

Shared-nothing, as libvirt does it: the destination QEMU starts with ``-incoming
defer`` and exports its (empty) overlay over NBD; the source mirrors its overlay's
allocated clusters into that export (``blockdev-mirror sync=top``: both overlays sit on
the same image, which each host has in its cache) and keeps mirroring guest writes
until the end. Memory follows through ``migrate``. With ``pause-before-switchover``
the source stops in ``pre-switchover`` with the vCPUs halted: the mirror is completed
there (the disk is final) before QEMU hands the guest over, so no write is lost.

``Outgoing`` runs the source side as a task and applies the adaptive policy's
actions as QEMU reports progress; the driver exposes its ``progress``.

With TLS (``compute/migration/tls.py`` says who makes which key) both streams are
encrypted and both ends verify each other's certificate: each QEMU gets a
``tls-creds-x509`` object (``TLS_CREDS``) over the VM's credential directory — endpoint
``server`` with ``verify-peer`` on the destination, ``client`` on the source — named in
the ``tls-creds`` migration parameter (and ``tls-hostname``, the name in the
destination's certificate, on the source), in ``nbd-server-start`` and in the source's
NBD client node. NBD negotiates TLS with ``NBD_OPT_STARTTLS`` after its plaintext
greeting; the migration stream is TLS from its first byte. Without TLS ``tls-creds`` is
set to "" (a QEMU keeps parameters across migrations). The object is deleted and the
directory removed when the migration ends either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from pathlib import Path
from typing import Any

from novacron.compute.migration import tls as tls_certs
from novacron.compute.migration.policy import (
    Action,
    Controller,
    Decision,
    Objective,
    Plan,
    Sample,
)
from novacron.core.errors import DriverError, InvalidState
from novacron.hypervisor.base import MigrationDecision, MigrationProgress
from novacron.hypervisor.qemu.machine import PortForward
from novacron.hypervisor.qemu.process import QemuProcess

log = logging.getLogger(__name__)

DISK_NODE = "disk0"
EXPORT_ID = "mig-export0"
MIRROR_JOB = "mig-mirror0"
TARGET_NODE = "mig-nbd0"
TLS_CREDS = "mig-tls0"
#: The VM's credential directory for a TLS migration (under the VM's directory).
TLS_DIR = "migration-tls"
POLL_S = 0.1
#: A pre-copy stream that moves no byte for this long has lost its link.
STALL_S = 15.0
#: Every capability and parameter a plan may touch, at QEMU's defaults: a QEMU keeps
#: what an earlier migration set (a guest that came in with post-copy armed would
#: otherwise go out with it), so each migration sets all of them.
MANAGED_CAPABILITIES = ("postcopy-ram", "multifd", "xbzrle", "auto-converge")
PARAMETER_DEFAULTS: dict[str, Any] = {
    "max-bandwidth": 128 * 1024 * 1024,
    "downtime-limit": 300,
    "max-postcopy-bandwidth": 0,
    "multifd-channels": 2,
    "multifd-compression": "none",
    "multifd-zstd-level": 1,
    "cpu-throttle-initial": 20,
    "cpu-throttle-increment": 10,
    "xbzrle-cache-size": 64 * 1024 * 1024,
    "avail-switchover-bandwidth": 0,
    "tls-creds": "",
    "tls-hostname": "",
}
#: Statuses QEMU reports while a migration still runs.
RUNNING_STATUSES = frozenset(
    {"setup", "active", "pre-switchover", "device", "postcopy-active", "wait-unplug"}
)


async def configure(
    proc: QemuProcess,
    plan: dict[str, Any],
    *,
    source: bool,
    with_disk: bool = False,
    tls_hostname: str | None = None,
) -> None:
    """Capabilities and parameters of a plan; both sides need the same capabilities.
    A source with a disk mirror always pauses before the switchover (see module doc).
    ``tls_hostname`` (the source's) or ``source=False`` with creds added: see
    ``tls_parameters``."""
    caps = {name: False for name in MANAGED_CAPABILITIES}
    caps["pause-before-switchover"] = False
    caps.update(plan.get("capabilities") or {})
    if not source:  # these act on the source only
        caps.pop("pause-before-switchover", None)
        caps.pop("auto-converge", None)
    elif with_disk:
        caps["pause-before-switchover"] = True
    caps["events"] = True
    await proc.execute(
        "migrate-set-capabilities",
        {"capabilities": [{"capability": k, "state": bool(v)} for k, v in caps.items()]},
    )
    params = {**PARAMETER_DEFAULTS, **(plan.get("parameters") or {})}
    params.update(await tls_parameters(proc, tls_hostname))
    await proc.execute("migrate-set-parameters", params)


async def tls_parameters(proc: QemuProcess, hostname: str | None) -> dict[str, str]:
    """``tls-creds`` naming our credentials when this QEMU has them (added for this
    migration by ``add_tls_creds``), else "" — plain TCP. The source also names the
    host its peer's certificate must be for."""
    if not await has_tls_creds(proc):
        return {"tls-creds": "", "tls-hostname": ""}
    return {"tls-creds": TLS_CREDS, "tls-hostname": hostname or ""}


async def has_tls_creds(proc: QemuProcess) -> bool:
    objects = await proc.execute("qom-list", {"path": "/objects"})
    return any(o.get("name") == TLS_CREDS for o in objects)


async def add_tls_creds(proc: QemuProcess, directory: Path, *, endpoint: str) -> None:
    """Load the credentials in ``directory`` into QEMU (it reads and checks the files
    now). Both ends verify their peer: the destination (``server``) demands a client
    certificate of the migration's CA; the source (``client``) checks the server's
    certificate and its name."""
    await drop_tls_creds(proc)  # a leftover of an earlier migration that failed to clean up
    await proc.execute(
        "object-add",
        {
            "qom-type": "tls-creds-x509",
            "id": TLS_CREDS,
            "dir": str(directory),
            "endpoint": endpoint,
            "verify-peer": True,
        },
    )


async def drop_tls_creds(proc: QemuProcess) -> None:
    """Forget the migration's credentials: parameters back to plain, object deleted."""
    with contextlib.suppress(DriverError):
        if await has_tls_creds(proc):
            await proc.execute("migrate-set-parameters", {"tls-creds": "", "tls-hostname": ""})
            await proc.execute("object-del", {"id": TLS_CREDS})


async def end_tls(proc: QemuProcess | None, directory: Path) -> None:
    """After a migration, either way: no credentials left in QEMU or on disk."""
    if proc is not None and proc.alive:
        await drop_tls_creds(proc)
    tls_certs.remove(directory)


async def start_incoming(
    proc: QemuProcess, listen_host: str, with_disk: bool, *, tls: bool = False
) -> dict[str, Any]:
    """Destination: export the disk for the mirror, listen for the memory stream. With
    ``tls`` (credentials added, ``tls-creds`` set by ``configure``) the NBD server
    accepts only TLS clients with a certificate of the migration's CA."""
    nbd: dict[str, Any] | None = None
    if with_disk:
        port = free_port(listen_host)
        server: dict[str, Any] = {
            "addr": {"type": "inet", "data": {"host": listen_host, "port": str(port)}}
        }
        if tls:
            server["tls-creds"] = TLS_CREDS
        await proc.execute("nbd-server-start", server)
        await proc.execute(
            "block-export-add",
            {
                "type": "nbd",
                "id": EXPORT_ID,
                "node-name": DISK_NODE,
                "name": DISK_NODE,
                "writable": True,
            },
        )
        nbd = {"host": listen_host, "port": port, "export": DISK_NODE}
    await proc.execute("migrate-incoming", {"uri": f"tcp:{listen_host}:0"})
    info = await proc.execute("query-migrate")
    addresses = info.get("socket-address") or []
    if not addresses:
        raise DriverError("QEMU did not report the incoming migration's port")
    port = int(addresses[0]["port"])
    return {"uri": f"tcp:{listen_host}:{port}", "nbd": nbd}


async def finish_incoming(proc: QemuProcess, timeout_s: float = 30.0) -> None:
    """Destination: wait until the guest runs here, then drop the disk export."""
    deadline = time.monotonic() + timeout_s
    while True:
        info = await proc.execute("query-migrate")
        status = str(info.get("status", ""))
        if status == "completed" and await proc.run_state() == "running":
            break
        if status == "failed":
            raise DriverError(f"incoming migration failed: {info.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise DriverError(f"incoming migration not finished ({status or 'no status'})")
        await asyncio.sleep(POLL_S)
    await drop_export(proc)


async def drop_export(proc: QemuProcess, timeout_s: float = 10.0) -> None:
    """Remove the disk export, cutting any connection left: a writable export that
    outlives the migration holds write permission on the disk and breaks the next one."""
    exports = {e.get("id") for e in await proc.execute("query-block-exports")}
    if EXPORT_ID in exports:
        await proc.execute("block-export-del", {"id": EXPORT_ID, "mode": "hard"})
        deadline = time.monotonic() + timeout_s
        while EXPORT_ID in {e.get("id") for e in await proc.execute("query-block-exports")}:
            if time.monotonic() > deadline:
                raise DriverError("the migration's disk export did not go away")
            await asyncio.sleep(0.02)
    with contextlib.suppress(DriverError):  # not running: nothing to stop
        await proc.execute("nbd-server-stop")


async def disk_size(proc: QemuProcess) -> int:
    """Virtual size of the VM's disk (0 without one), asked of the QEMU that holds it."""
    for dev in await proc.execute("query-block"):
        inserted = dev.get("inserted") or {}
        if inserted.get("node-name") == DISK_NODE:
            return int(inserted["image"]["virtual-size"])
    return 0


async def measure_dirty_rate(proc: QemuProcess, seconds: int = 1) -> float | None:
    """The guest's dirty rate in bytes/s (QEMU samples pages for ``seconds``)."""
    try:
        await proc.execute("calc-dirty-rate", {"calc-time": seconds})
        for _ in range(int(seconds / POLL_S) + 50):
            await asyncio.sleep(POLL_S)
            info = await proc.execute("query-dirty-rate")
            if info.get("status") == "measured":
                return float(info.get("dirty-rate", 0)) * 1024 * 1024
    except DriverError as exc:
        log.warning("cannot measure the dirty rate: %s", exc)
    return None


async def add_forwards(proc: QemuProcess, forwards: tuple[PortForward, ...]) -> None:
    """Bind a received guest's port forwards (the source has let go of them)."""
    for fwd in forwards:
        rule = f"{fwd.proto}:{fwd.host_addr}:{fwd.host_port}-:{fwd.guest_port}"
        out = await proc.execute(
            "human-monitor-command", {"command-line": f"hostfwd_add net0 {rule}"}
        )
        if out:
            raise DriverError(f"port forward {rule}: {str(out).strip()}")


def controller_for(
    options: dict[str, Any], plan: dict[str, Any], ram_bytes: int
) -> Controller | None:
    """The adaptive controller, unless the caller asked for QEMU's own behaviour."""
    if options.get("policy") == "qemu-default":
        return None
    objective = Objective(**(options.get("objective") or {}))
    dirty = float(options.get("dirty_rate_bps") or 0.0)
    return Controller(objective, Plan.from_dict(plan), ram_bytes, initial_dirty_rate_bps=dirty)


async def recover_source(proc: QemuProcess) -> bool:
    """Roll back a migration this agent no longer tracks (it restarted meanwhile):
    cancel what QEMU still runs, drop the mirror, resume the guest. Returns True when
    that is impossible: post-copy ran, so the newest memory left this host."""
    raw = await proc.execute("query-migrate")
    status = str(raw.get("status", ""))
    postcopy = (
        status.startswith("postcopy") or int((raw.get("ram") or {}).get("postcopy-bytes") or 0) > 0
    )
    if postcopy:
        return True
    if status in RUNNING_STATUSES:
        with contextlib.suppress(DriverError):
            await proc.execute("migrate_cancel")
    await yank(proc)
    for job in await proc.execute("query-block-jobs"):
        if job.get("device") == MIRROR_JOB:
            with contextlib.suppress(DriverError):
                await proc.execute("block-job-cancel", {"device": MIRROR_JOB, "force": True})
    for _ in range(100):
        if str((await proc.execute("query-migrate")).get("status", "")) not in RUNNING_STATUSES:
            break
        await asyncio.sleep(0.05)
    with contextlib.suppress(DriverError):
        await proc.execute("blockdev-del", {"node-name": TARGET_NODE})
    if await proc.run_state() in ("postmigrate", "finish-migrate"):  # not a user's pause
        await proc.execute("cont")
    return False


async def yank(proc: QemuProcess) -> None:
    """Cut the migration's connections at once (QMP ``yank``): on a link that went
    silent, cancelling would otherwise wait forever on requests in flight — and hold
    QEMU's main loop, QMP included, while it waits."""
    for instance in ({"type": "migration"}, {"type": "block-node", "node-name": TARGET_NODE}):
        with contextlib.suppress(DriverError):  # not there: nothing to cut
            await proc.execute("yank", {"instances": [instance]})


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Outgoing:
    """The source side of one migration, run as a task; cancel with ``cancel()``."""

    def __init__(
        self,
        proc: QemuProcess,
        target: dict[str, Any],
        plan: dict[str, Any],
        controller: Controller | None,
        *,
        with_disk: bool,
        tls_dir: Path | None = None,
    ) -> None:
        self.proc = proc
        self.target = target
        self.tls_dir = tls_dir
        """The source's credentials (key, client cert, CA cert): TLS when set."""
        self.tls_hostname = str((target.get("tls") or {}).get("hostname") or "") or None
        self.plan = plan
        self.controller = controller
        self.with_disk = with_disk and bool(target.get("nbd"))
        self.progress = MigrationProgress(status="setup")
        self.progress.decisions = [MigrationDecision(**d) for d in plan.get("decisions") or []]
        self.was_running = True
        self.postcopy = False
        self.lost = False
        """Post-copy broke: the guest's memory is split between the hosts."""
        self._t0 = time.monotonic()
        self._wake = asyncio.Event()
        self._cancelled = False
        self._mirror_event = asyncio.Event()
        self._pre_switchover = asyncio.Event()
        self._paused_at = 0.0
        self._continued = False
        """``migrate-continue`` sent. QEMU leaves ``pre-switchover`` on its migration
        thread, so a reading or a queued event may still show it afterwards; a second
        continue would fail the migration ("not in expected state: device")."""
        self._mirror_completed = False
        """Completed at switchover on purpose (any other end of the mirror is a failure)."""
        self.task: asyncio.Task[None] | None = None
        self.trace: list[dict[str, Any]] = []
        """Every ``query-migrate`` reading with its time: the policy's unit tests replay
        recorded traces (``tests/compute/migration/traces``)."""

    # -- driving -----------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        if name == "MIGRATION":
            if data.get("status") == "pre-switchover":
                self._paused_at = time.monotonic()
                self._pre_switchover.set()
            self._wake.set()
        elif name in ("BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED") and (
            data.get("device") == MIRROR_JOB
        ):
            self._mirror_event.set()
            self._wake.set()
        elif name == "BLOCK_JOB_READY":
            self._wake.set()

    async def cancel(self) -> None:
        if self.progress.done:
            return
        if self.postcopy:
            raise InvalidState(
                "post-copy has started: the guest runs on the destination and its memory is "
                "split between the hosts; the migration can only complete"
            )
        self._cancelled = True
        with contextlib.suppress(DriverError):
            await self.proc.execute("migrate_cancel")
        self._wake.set()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.task), 30)

    async def _run(self) -> None:
        try:
            self.was_running = await self.proc.run_state() == "running"
            if self.tls_dir is not None:
                await add_tls_creds(self.proc, self.tls_dir, endpoint="client")
            else:
                await drop_tls_creds(self.proc)
            await configure(
                self.proc,
                self.plan,
                source=True,
                with_disk=self.with_disk,
                tls_hostname=self.tls_hostname,
            )
            if self.with_disk:
                await self._mirror()
            self._set(status="memory")
            await self.proc.execute("migrate", {"uri": self.target["uri"]})
            await self._follow()
        except asyncio.CancelledError:
            await self._abort("the agent stopped")
            raise
        except Exception as exc:  # any failure: the guest must keep running here
            detail = exc.args[0] if isinstance(exc, DriverError) and exc.args else str(exc)
            await self._abort("cancelled by request" if self._cancelled else str(detail))
        finally:
            if self.tls_dir is not None:
                with contextlib.suppress(Exception):
                    await end_tls(self.proc, self.tls_dir)

    async def _mirror(self) -> None:
        nbd = self.target["nbd"]
        self._set(status="storage")
        node: dict[str, Any] = {
            "driver": "nbd",
            "node-name": TARGET_NODE,
            "server": {"type": "inet", "host": nbd["host"], "port": str(nbd["port"])},
            "export": nbd["export"],
            "cache": {"no-flush": True},
        }
        if self.tls_dir is not None:
            node["tls-creds"] = TLS_CREDS
            if self.tls_hostname:
                node["tls-hostname"] = self.tls_hostname
        await self.proc.execute("blockdev-add", node)
        await self.proc.execute(
            "blockdev-mirror",
            {
                "job-id": MIRROR_JOB,
                "device": DISK_NODE,
                "target": TARGET_NODE,
                "sync": "top",
                # Once in sync, every guest write completes only when the destination
                # has it too: at the switchover nothing is left to copy (see _switchover).
                "copy-mode": "write-blocking",
                "on-source-error": "stop",
                "on-target-error": "stop",
            },
        )
        while True:
            job = await self._mirror_job()
            if job is None:
                raise DriverError("the disk mirror ended before it was in sync")
            self._set(
                disk_transferred_bytes=int(job.get("offset", 0)),
                disk_total_bytes=int(job.get("len", 0)),
            )
            if job.get("ready"):
                return
            if self._cancelled:
                raise DriverError("cancelled by request")
            await self._sleep()

    async def _follow(self) -> None:
        moved, moved_at = -1, time.monotonic()
        while True:
            if self._pre_switchover.is_set():  # straight from the event: the vCPUs wait
                await self._switchover()
            raw = await self.proc.execute("query-migrate")
            status = str(raw.get("status", ""))
            if status == "pre-switchover":
                if self._continued:
                    await asyncio.sleep(0.005)
                else:
                    await self._switchover()
                continue
            self._record(raw)
            self.trace.append({"t": round(time.monotonic() - self._t0, 3), **raw})
            if status == "completed":
                if self.with_disk and not self._mirror_completed:
                    await self._complete_mirror()  # in sync all along; the guest left
                await self._drop_target_node()
                self._set(status="completed", downtime_ms=float(raw.get("downtime") or 0))
                return
            if status in ("failed", "cancelled", "postcopy-paused"):
                raise DriverError(self._failure(raw))
            if status not in RUNNING_STATUSES:
                raise DriverError(f"unexpected migration status {status!r}")
            await self._mirror_healthy()
            sent = int((raw.get("ram") or {}).get("transferred") or 0)
            if sent != moved or status != "active":
                moved, moved_at = sent, time.monotonic()
            elif time.monotonic() - moved_at > STALL_S:
                raise DriverError(f"no bytes moved for {STALL_S:.0f} s: the link looks dead")
            if self.controller is not None:
                sample = Sample.from_query_migrate(time.monotonic() - self._t0, raw)
                for action in self.controller.observe(sample):
                    await self._apply(action)
            await self._sleep()

    async def _switchover(self) -> None:
        """vCPUs are stopped and guest I/O drained. If the write-blocking mirror is
        actively synced, the destination already holds every byte the guest wrote: hand
        over at once (QEMU lets a mirror's NBD target be inactivated for exactly this,
        and we end the job after the stream). Otherwise complete the mirror first —
        every millisecond of that is downtime, so wait on events, not polls."""
        self._pre_switchover.clear()
        if self._continued:
            return
        held = self._paused_at or time.monotonic()
        if self.with_disk and not self._mirror_completed:
            job = await self._mirror_job()
            if job is None or not (job.get("ready") and job.get("actively-synced")):
                await self._complete_mirror()
        self._continued = True
        await self.proc.execute("migrate-continue", {"state": "pre-switchover"})
        self._set(switchover_hold_ms=round((time.monotonic() - held) * 1000, 1))

    async def _complete_mirror(self) -> None:
        """End the mirror in sync: a READY mirror "cancelled" completes (it flushes every
        pending write to the target first)."""
        if await self._mirror_job() is not None:
            self._set(status="switchover")
            self._mirror_event.clear()
            await self.proc.execute("block-job-cancel", {"device": MIRROR_JOB})
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._mirror_event.wait(), 0.05)
                if self._mirror_event.is_set() or await self._mirror_job() is None:
                    break
        self._mirror_completed = True

    async def _apply(self, action: Action) -> None:
        self._decide(action.decision)
        if action.kind == "start-postcopy":
            drain_s = float(action.arguments.get("drain_s") or 0)
            if drain_s:
                rate = int(action.arguments.get("drain_rate_bps") or 1024 * 1024)
                await self.proc.execute("migrate-set-parameters", {"max-bandwidth": rate})
                await asyncio.sleep(drain_s)
            await self.proc.execute("migrate-start-postcopy")
            self.postcopy = True
            self._set(mode="postcopy")
        elif action.kind == "set-parameters":
            await self.proc.execute("migrate-set-parameters", action.arguments)

    async def _abort(self, reason: str) -> None:
        """Back to where we started: no migration, no mirror, the guest running here."""
        if self.postcopy:
            self.lost = True
            reason = f"post-copy interrupted ({reason}): the guest's memory is split"
        with contextlib.suppress(Exception):
            raw = await self.proc.execute("query-migrate")
            if str(raw.get("status", "")) in RUNNING_STATUSES:
                await self.proc.execute("migrate_cancel")
        if not self.lost:
            await yank(self.proc)
        with contextlib.suppress(Exception):
            await self._wait_migration_end()
        with contextlib.suppress(Exception):
            if await self._mirror_job() is not None:
                await self.proc.execute("block-job-cancel", {"device": MIRROR_JOB, "force": True})
                for _ in range(100):
                    if await self._mirror_job() is None:
                        break
                    await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await self._drop_target_node()
        if not self.lost and self.was_running:
            with contextlib.suppress(Exception):
                if await self.proc.run_state() != "running":
                    await self.proc.execute("cont")
        status = "cancelled" if self._cancelled and not self.lost else "failed"
        self._set(status=status, error=reason)
        log.warning("migration %s: %s", status, reason)

    # -- helpers -----------------------------------------------------------------------

    async def _mirror_job(self) -> dict[str, Any] | None:
        for job in await self.proc.execute("query-block-jobs"):
            if job.get("device") == MIRROR_JOB:
                return dict(job)
        return None

    async def _mirror_healthy(self) -> None:
        if not self.with_disk or self._mirror_completed:
            return
        job = await self._mirror_job()
        if job is None or job.get("status") in ("paused", "aborting", "concluded"):
            raise DriverError(f"the disk mirror failed ({(job or {}).get('error') or 'gone'})")
        self._set(
            disk_transferred_bytes=int(job.get("offset", 0)),
            disk_total_bytes=int(job.get("len", 0)),
        )

    async def _drop_target_node(self) -> None:
        with contextlib.suppress(DriverError):
            await self.proc.execute("blockdev-del", {"node-name": TARGET_NODE})

    async def _wait_migration_end(self) -> None:
        for _ in range(200):
            raw = await self.proc.execute("query-migrate")
            if str(raw.get("status", "")) not in RUNNING_STATUSES | {"cancelling"}:
                return
            await asyncio.sleep(0.05)

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), POLL_S)
        self._wake.clear()

    def _record(self, raw: dict[str, Any]) -> None:
        ram = raw.get("ram") or {}
        page = int(ram.get("page-size") or 4096)
        status = str(raw.get("status", ""))
        if status in ("cancelling", "cancelled", "failed"):
            return  # QEMU zeroes its counters: keep the last real ones
        self._set(
            status="postcopy" if status == "postcopy-active" else self.progress.status,
            transferred_bytes=int(ram.get("transferred") or 0),
            remaining_bytes=int(ram.get("remaining") or 0),
            total_bytes=int(ram.get("total") or 0),
            dirty_rate_bps=float(ram.get("dirty-pages-rate") or 0) * page,
            bandwidth_bps=float(ram.get("mbps") or 0.0) * 1e6 / 8,
            iteration=max(0, int(ram.get("dirty-sync-count") or 0) - 1),
            expected_downtime_ms=float(raw.get("expected-downtime") or 0),
        )

    def _failure(self, raw: dict[str, Any]) -> str:
        if str(raw.get("status")) == "postcopy-paused":
            return "the link broke during post-copy"
        return str(raw.get("error-desc") or f"migration {raw.get('status')}")

    def _decide(self, decision: Decision) -> None:
        self.progress.decisions.append(
            MigrationDecision(at_s=decision.at_s, choice=decision.choice, reason=decision.reason)
        )

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self.progress, key, value)
        self.progress.elapsed_s = round(time.monotonic() - self._t0, 3)
