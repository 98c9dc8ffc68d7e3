"""One running QEMU process: spawn or re-attach, QMP, and knowing how it ended.

QEMU runs in its own session (``start_new_session``) so it outlives the agent; a
restarted agent finds it again through the pidfile and talks to it over the QMP
socket. While the agent is QEMU's parent it learns the exit status from ``wait()``;
after a re-attach it can only watch the pid (a zombie counts as gone: PID 1 on some
machines never reaps orphans).

``QemuProcess.exited`` resolves to an ``Exit`` saying whether the guest or we asked
for the end (a clean stop) or not (a crash, with the reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qemu.qmp import ExecuteError, QMPClient
from qemu.qmp.protocol import Runstate

from novacron.core.errors import DriverError
from novacron.hypervisor.qemu import procstats

log = logging.getLogger(__name__)
# qemu.qmp logs every disconnect (which is how a VM ends) as an error.
logging.getLogger("qemu.qmp").setLevel(logging.CRITICAL)

START_TIMEOUT_S = 30.0
POLL_S = 0.25
#: QMP run states that mean "vCPUs are not running, on purpose".
PAUSED_STATES = frozenset({"paused", "suspended", "prelaunch", "inmigrate", "postmigrate"})
#: SHUTDOWN reasons that are a clean power-off.
CLEAN_SHUTDOWN = frozenset({"guest-shutdown", "host-qmp-quit", "host-qmp-system-reset"})


@dataclass(frozen=True)
class Exit:
    clean: bool
    reason: str


class QemuProcess:
    """A QEMU process and its QMP session. Create with ``spawn()`` or ``attach()``."""

    def __init__(
        self,
        pid: int,
        qmp: QMPClient,
        *,
        child: asyncio.subprocess.Process | None,
        stderr_log: Path,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.pid = pid
        self.qmp = qmp
        self._child = child
        self._stderr_log = stderr_log
        self._on_event = on_event
        self.expect_exit = False
        """Set before asking QEMU to end (quit, kill, ACPI power-off): the end is clean."""
        self.shutdown_reason: str | None = None
        self.panicked = False
        self.exited: asyncio.Future[Exit] = asyncio.get_running_loop().create_future()
        self._watch = asyncio.create_task(self._watch_exit(), name=f"qemu-{pid}-exit")
        self._events = asyncio.create_task(self._read_events(), name=f"qemu-{pid}-events")

    def __repr__(self) -> str:
        return f"<QemuProcess pid={self.pid}{' exited' if self.exited.done() else ''}>"

    # -- construction -----------------------------------------------------------------

    @classmethod
    async def spawn(
        cls,
        argv: list[str],
        *,
        cwd: Path,
        qmp_socket: Path,
        stderr_log: Path,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        timeout_s: float = START_TIMEOUT_S,
    ) -> QemuProcess:
        """Start QEMU and connect to its QMP socket; on failure nothing keeps running."""
        with contextlib.suppress(FileNotFoundError):
            qmp_socket.unlink()  # a stale socket from a previous run would answer nothing
        with stderr_log.open("ab") as err:
            err.write(b"--- start\n")
            err.flush()
            try:
                child = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=err,
                    cwd=cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise DriverError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        try:
            return await cls._connect(child, qmp_socket, stderr_log, on_event, timeout_s)
        except BaseException:
            # Cancelled (agent shutting down) or failed: no QEMU may outlive this call.
            if child.returncode is None:
                _kill(child.pid)
                await asyncio.shield(child.wait())
            raise

    @classmethod
    async def _connect(
        cls,
        child: asyncio.subprocess.Process,
        qmp_socket: Path,
        stderr_log: Path,
        on_event: Callable[[str, dict[str, Any]], None] | None,
        timeout_s: float,
    ) -> QemuProcess:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            if child.returncode is not None:
                raise DriverError(
                    f"QEMU exited at start ({_status(child.returncode)}): {tail(stderr_log)}"
                )
            if qmp_socket.exists():
                qmp = QMPClient(f"novacron-{child.pid}")
                try:
                    await qmp.connect(str(qmp_socket))
                    return cls(
                        child.pid, qmp, child=child, stderr_log=stderr_log, on_event=on_event
                    )
                except Exception:
                    with contextlib.suppress(Exception):
                        await qmp.disconnect()
            if loop.time() > deadline:
                raise DriverError(f"QEMU did not open its QMP socket within {timeout_s:.0f}s")
            await asyncio.sleep(0.02)

    @classmethod
    async def attach(
        cls,
        pid: int,
        *,
        qmp_socket: Path,
        stderr_log: Path,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> QemuProcess:
        """Re-attach to a QEMU this agent (or an earlier run of it) started."""
        qmp = QMPClient(f"novacron-{pid}")
        try:
            await asyncio.wait_for(qmp.connect(str(qmp_socket)), 10)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await qmp.disconnect()
            raise DriverError(f"cannot re-attach to QEMU pid {pid}: {exc}") from exc
        return cls(pid, qmp, child=None, stderr_log=stderr_log, on_event=on_event)

    # -- control ----------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self.exited.done()

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run a QMP command; any failure is a ``DriverError`` naming the command."""
        if not self.alive or self.qmp.runstate != Runstate.RUNNING:
            raise DriverError(f"QEMU is not running (QMP {command})")
        try:
            return await self.qmp.execute(command, arguments)
        except ExecuteError as exc:
            raise DriverError(f"QMP {command} failed: {exc.error_class}: {exc}") from exc
        except Exception as exc:
            raise DriverError(f"QMP {command} failed: {exc or type(exc).__name__}") from exc

    async def run_state(self) -> str:
        """QEMU's run state: ``running``, ``paused``, ``shutdown``, ``guest-panicked`` …"""
        status = await self.execute("query-status")
        return str(status["status"])

    async def wait(self, timeout_s: float) -> Exit | None:
        """The exit, or None when QEMU still runs after ``timeout_s``."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), timeout_s)
        except TimeoutError:
            return None

    async def terminate(self, grace_s: float = 5.0) -> Exit:
        """End QEMU for good: QMP ``quit``, then SIGKILL after ``grace_s``."""
        self.expect_exit = True
        if self.alive:
            with contextlib.suppress(DriverError):
                await asyncio.wait_for(self.execute("quit"), grace_s)
            if await self.wait(grace_s) is None:
                _kill(self.pid)
        ended = await self.wait(grace_s * 2)
        if ended is None:
            raise DriverError(f"QEMU pid {self.pid} did not die after SIGKILL")
        return ended

    async def close(self) -> None:
        """Stop watching (the agent is stopping); QEMU keeps running."""
        for task in (self._watch, self._events):
            task.cancel()
        await asyncio.gather(self._watch, self._events, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.qmp.disconnect()

    # -- watching ---------------------------------------------------------------------

    async def _read_events(self) -> None:
        async for event in self.qmp.events:
            name = str(event["event"])
            raw = event.get("data")
            data: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
            if name == "SHUTDOWN":
                self.shutdown_reason = str(data.get("reason", ""))
            elif name == "GUEST_PANICKED":
                self.panicked = True
            if self._on_event is not None:
                try:
                    self._on_event(name, data)
                except Exception:
                    log.exception("QEMU event handler failed on %s", name)

    async def _watch_exit(self) -> None:
        status: int | None = None
        if self._child is not None:
            status = await self._child.wait()
        else:
            while procstats.is_alive(self.pid):
                await asyncio.sleep(POLL_S)
        await self._drain_events()
        with contextlib.suppress(Exception):
            await self.qmp.disconnect()
        self._events.cancel()
        self.exited.set_result(self._explain(status))

    async def _drain_events(self, timeout_s: float = 1.0) -> None:
        """Give QEMU's last events (SHUTDOWN, GUEST_PANICKED) time to arrive: they say
        whether the end was clean. QMP reaches end-of-file after the last one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.shutdown_reason is not None or self.panicked:
                break
            if self.qmp.runstate != Runstate.RUNNING and self.qmp.events.empty():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    def _explain(self, status: int | None) -> Exit:
        reason = self.shutdown_reason
        if self.panicked or reason == "guest-panic":
            return Exit(False, "guest kernel panic")
        if self.expect_exit or reason in CLEAN_SHUTDOWN:
            return Exit(True, "guest powered off" if reason == "guest-shutdown" else "stopped")
        how = _status(status) if status is not None else "exit status unknown (re-attached)"
        detail = tail(self._stderr_log)
        return Exit(False, f"QEMU exited unexpectedly ({how})" + (f": {detail}" if detail else ""))


def _status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def tail(path: Path, lines: int = 3, max_bytes: int = 4096) -> str:
    """The last lines QEMU wrote to stderr since its last start, on one line."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    text = text.rsplit("--- start\n", 1)[-1]
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)
