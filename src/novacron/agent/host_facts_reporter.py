"""Compliance facts of this machine, collected by the agent and sent to the server.

Protocol (agent → server)::

    POST {server}/api/v1/agents/facts      Authorization: Bearer <agent token>
        HostFacts as JSON (security.compliance.facts_codec)
      → {"host", "collected_at"}

Once the agent is registered, and then every ``interval_s`` (6 h; the environment
variable ``NOVACRON_FACTS_INTERVAL`` — ``30m``, ``6h``, ``1d`` or seconds — changes it),
the agent collects its machine's facts (``compliance.host_facts``: lsblk, psutil,
``apt-get -s upgrade``) and posts them. After a start the cheap facts (disks, ports) go
first, at once: apt's simulation takes from seconds to half a minute, and a new host
should not wait that long to be evaluated; the full report follows.

Facts describe the machine the agent runs on and are reported under the agent's name:
a qemu agent's one host has that name; a sim agent's many simulated hosts share one
real machine, so they make one report, not one each.

Commands run at the lowest CPU priority (they are background bookkeeping on a host
that runs VMs) in a daemon thread, and stopping the agent kills the one running: an
agent never waits for apt to finish before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx

from novacron import __version__
from novacron.core.clock import utcnow
from novacron.security.compliance.facts import HostFacts
from novacron.security.compliance.facts_codec import host_facts_to_json
from novacron.security.compliance.host_facts import (
    COMMAND_TIMEOUT_S,
    CommandResult,
    collect_disk_encryption,
    collect_host_facts,
    collect_listening_ports,
)

log = logging.getLogger("novacron.agent.facts")

DEFAULT_INTERVAL_S = 6 * 3600.0
MIN_INTERVAL_S = 60.0
INTERVAL_ENV = "NOVACRON_FACTS_INTERVAL"
FACTS_PATH = "/api/v1/agents/facts"
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

T = TypeVar("T")


def interval_from_env(environ: dict[str, str] | None = None) -> float:
    """``NOVACRON_FACTS_INTERVAL`` in seconds (at least a minute), else 6 hours."""
    value = (environ if environ is not None else dict(os.environ)).get(INTERVAL_ENV, "").strip()
    if not value:
        return DEFAULT_INTERVAL_S
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", value.lower())
    if not match:
        log.warning("%s=%r is not a duration (30m, 6h, 1d); using 6h", INTERVAL_ENV, value)
        return DEFAULT_INTERVAL_S
    return max(MIN_INTERVAL_S, float(match.group(1)) * _UNITS[match.group(2)])


class Commands:
    """A ``host_facts.Runner`` whose commands run niced and can all be killed at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self._stopped = False

    def __call__(self, argv: Sequence[str]) -> CommandResult:
        # LC_ALL=C like host_facts.run_command: the parsers read English keywords.
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        with self._lock:
            if self._stopped:
                raise OSError("the agent is stopping")
            proc = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            self._running.add(proc)
        _lowest_priority(proc.pid)
        try:
            out, err = proc.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        finally:
            with self._lock:
                self._running.discard(proc)
        return CommandResult(proc.returncode, out, err)

    def kill_all(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._running:
                proc.kill()


def _lowest_priority(pid: int) -> None:
    # After the spawn rather than in preexec_fn, which is unsafe with threads around;
    # the moment at normal priority does not matter.
    with contextlib.suppress(OSError):  # it already exited
        os.setpriority(os.PRIO_PROCESS, pid, 19)


async def in_daemon_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a daemon thread. Unlike ``asyncio.to_thread`` it does not hold up the
    event loop's shutdown, which waits for the default executor's threads."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:
            outcome: tuple[T | None, BaseException | None] = (None, exc)
        else:
            outcome = (result, None)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=work, name="host-facts", daemon=True).start()
    return await future


class HostFactsReporter:
    def __init__(
        self,
        *,
        server_url: str,
        name: str,
        token: Callable[[], str | None],
        expected_ports: Sequence[int] = (),
        interval_s: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        request_timeout_s: float = 30.0,
        retry_initial_s: float = 2.0,
        retry_max_s: float = 300.0,
        token_poll_s: float = 0.2,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.name = name
        self.token = token
        self.expected_ports = tuple(expected_ports)
        self.interval_s = interval_s if interval_s is not None else interval_from_env()
        self.full = os.environ.get(INTERVAL_ENV, "").strip().lower() != "off"
        """``NOVACRON_FACTS_INTERVAL=off``: the cheap facts once, never apt (test fleets
        start hundreds of agents on one machine)."""
        self.transport = transport
        self.request_timeout_s = request_timeout_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.token_poll_s = token_poll_s
        self.commands = Commands()
        self.reports_sent = 0

    def quick_facts(self) -> HostFacts:
        """Everything but pending updates: what takes well under a second."""
        return HostFacts(
            name=self.name,
            agent_version=__version__,
            collected_at=utcnow(),
            disk_encryption=collect_disk_encryption(runner=self.commands),
            listening_ports=collect_listening_ports(),
            pending_updates=None,
            expected_ports=self.expected_ports,
        )

    def full_facts(self) -> HostFacts:
        return collect_host_facts(
            self.name, expected_ports=self.expected_ports, runner=self.commands
        )

    async def run(self) -> None:
        """Report until cancelled; never raises otherwise."""
        try:
            async with httpx.AsyncClient(
                timeout=self.request_timeout_s,
                headers={"User-Agent": f"novacron-agent/{__version__}"},
                transport=self.transport,
            ) as http:
                await self._report(http, self.quick_facts)
                while self.full:
                    await self._report(http, self.full_facts)
                    await asyncio.sleep(self.interval_s)
        finally:
            self.commands.kill_all()

    async def _report(self, http: httpx.AsyncClient, collect: Callable[[], HostFacts]) -> None:
        try:
            facts = await in_daemon_thread(collect)
        except Exception:  # a collector bug must not stop the agent's other work
            log.exception("could not collect host facts")
            return
        await self.send(http, facts)

    async def send(self, http: httpx.AsyncClient, facts: HostFacts) -> bool:
        """Post ``facts`` until the server takes them, refuses them, or they are older
        than one interval (the next collection supersedes them)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.interval_s
        body = json.dumps(host_facts_to_json(facts), separators=(",", ":")).encode()
        backoff = self.retry_initial_s
        rejected: str | None = None
        while loop.time() < give_up:
            token = self.token()
            if token is None or token == rejected:  # not registered (yet, or again)
                await asyncio.sleep(self.token_poll_s)
                continue
            try:
                response = await http.post(
                    self.server_url + FACTS_PATH,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                )
            except httpx.TransportError as exc:
                log.debug("could not send host facts: %s", exc)
            else:
                if response.is_success:
                    self.reports_sent += 1
                    log.info("host facts of %s reported", self.name)
                    return True
                if response.status_code == 401:
                    # The reporter registers again and gets a new token: wait for it.
                    rejected = token
                    continue
                if response.status_code < 500:
                    log.error(
                        "the server refused this host's facts: HTTP %s %s",
                        response.status_code,
                        response.text[:300],
                    )
                    return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.retry_max_s)
        return False
