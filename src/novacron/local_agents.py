"""The local agents of ``novacron up``: planned, started and stopped together.

``up --hosts N`` means N hosts on this machine. With the qemu driver that is N agent
processes, each with its own name, data dir (VMs, images, sockets) and free port, so
live migration can be tried on one machine; with the sim driver it is one agent that
simulates N hosts. The KVM probe runs once here, before any agent starts, and each
agent is told the verdict, so N agents never probe-boot side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from novacron.core.procs import die_with_parent

if TYPE_CHECKING:
    from novacron.hypervisor.qemu.accel import AccelChoice

MAX_QEMU_HOSTS = 16
MAX_SIM_HOSTS = 100_000
DEFAULT_SIM_HOSTS = 3
LOCAL = "local"
REGISTER_TIMEOUT_S = 90.0  # one agent's own KVM probe boot can take most of it


def host_count(driver: str, hosts: int | None, sim_hosts: int | None) -> int:
    """How many local hosts: ``--hosts``, or for sim its older spelling ``--sim-hosts``.

    Raises ValueError (a message for the user) when the two disagree or N is too big.
    """
    if driver == "sim":
        if hosts is not None and sim_hosts is not None and hosts != sim_hosts:
            raise ValueError(
                f"--hosts {hosts} and --sim-hosts {sim_hosts} disagree: with the sim driver "
                "they are the same number, give one of them"
            )
        count = hosts or sim_hosts or DEFAULT_SIM_HOSTS
        if count > MAX_SIM_HOSTS:
            raise ValueError(f"--hosts: at most {MAX_SIM_HOSTS} sim hosts")
        return count
    count = hosts or 1
    if count > MAX_QEMU_HOSTS:
        raise ValueError(f"--hosts: at most {MAX_QEMU_HOSTS} QEMU hosts on one machine")
    return count


@dataclass(frozen=True)
class AgentSpec:
    """One local agent: its name, driver, data dir and how many hosts it serves."""

    name: str
    driver: str
    data_dir: Path
    hosts: int = 1

    def host_names(self, limit: int | None = None) -> list[str]:
        count = self.hosts if limit is None else min(limit, self.hosts)
        if self.driver == "qemu":
            return [self.name][:count]
        return [f"{self.name}-{i:03d}" for i in range(1, count + 1)]  # as SimFleet names them


def plan(driver: str, hosts: int, data_dir: Path) -> list[AgentSpec]:
    """One sim agent for N sim hosts, or N QEMU agents ``local-1 … local-N`` in
    ``<data_dir>/agents/NAME``. One QEMU host stays ``local`` in ``<data_dir>/agent``,
    where earlier versions kept its VMs."""
    if driver == "sim":
        return [AgentSpec(LOCAL, "sim", data_dir / "agent", hosts)]
    if hosts == 1:
        return [AgentSpec(LOCAL, "qemu", data_dir / "agent")]
    return [
        AgentSpec(f"{LOCAL}-{i}", "qemu", data_dir / "agents" / f"{LOCAL}-{i}")
        for i in range(1, hosts + 1)
    ]


def shared_accel(mode: str, probe_dir: Path) -> AccelChoice:
    """The accelerator for every local QEMU host, chosen once (``auto``: a probe boot,
    cached in the same file and under the same key as an agent's own probe).

    Raises Invalid for an unknown mode or ``kvm`` where KVM is unusable."""
    from novacron.agent.main import probe_guest
    from novacron.hypervisor.qemu.accel import choose_accel, qemu_version
    from novacron.hypervisor.qemu.tiny import default_cache_dir

    async def choose() -> AccelChoice:
        return await choose_accel(
            mode,
            cache_file=default_cache_dir() / "accel-probe.json",
            qemu_version=f"{await qemu_version()}|{os.uname().release}",
            probe_guest=lambda: probe_guest(probe_dir),
        )

    if mode == "auto":
        probe_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return asyncio.run(choose())


class AgentFailed(Exception):
    """A local agent exited: ``str()`` says which and why, in one line."""


@dataclass
class LocalAgent:
    """A running agent process whose stderr we pass through (prefixed with its name
    when there are several), remembering its last ``error:`` line to say why it died."""

    spec: AgentSpec
    proc: subprocess.Popen[bytes]
    prefix: str = ""
    last_error: str = ""
    _reader: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        spec: AgentSpec,
        argv: list[str],
        *,
        prefix: str,
        env: dict[str, str] | None = None,
    ) -> LocalAgent:
        proc = subprocess.Popen(
            argv,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
            env={**os.environ, **env} if env else None,
        )
        agent = cls(spec, proc, prefix)
        assert proc.stderr is not None
        agent._reader = threading.Thread(
            target=agent._pass_through,
            args=(proc.stderr,),
            name=f"agent-{spec.name}-stderr",
            daemon=True,
        )
        agent._reader.start()
        return agent

    def _pass_through(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            if not line:
                continue
            if line.startswith("error: "):
                self.last_error = line.removeprefix("error: ")
            try:
                sys.stderr.write(f"{self.prefix}{line}\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass  # our stderr is gone: keep draining so the agent never blocks

    def why(self) -> str:
        """Why the agent exited: its ``error:`` line (the CLI's one-line failure) and how."""
        if self._reader is not None:
            self._reader.join(2)  # the rest of its stderr
        code = self.proc.returncode
        status = f"exit code {code}"
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                status = f"killed by {signal.Signals(-code).name}"
        return f"{self.last_error} ({status})" if self.last_error else status


class LocalFleet:
    """The agents of one ``up``: started together, watched, stopped together."""

    def __init__(self, specs: list[AgentSpec], *, verify: ssl.SSLContext | bool = True) -> None:
        self.specs = specs
        self.agents: list[LocalAgent] = []
        self.verify = verify
        """How this process verifies an https server (its CA's context)."""

    def start(
        self,
        *,
        server_url: str,
        enrolment_token_file: Path,
        accel: str,
        log_level: str,
        ca_file: Path | None = None,
        enrol_tokens: dict[str, str] | None = None,
    ) -> None:
        """Start every agent (each on a free port: ``novacron agent`` defaults to 0).

        With an https server: ``ca_file`` is the CA the agents verify it with, and
        ``enrol_tokens`` (agent name → one-time token) let agents without a client
        certificate enrol; the token goes in the environment, not on the command line."""
        for spec in self.specs:
            argv = [
                sys.executable,
                "-m",
                "novacron",
                "agent",
                "--server",
                server_url,
                "--enrolment-token-file",
                str(enrolment_token_file),
                "--name",
                spec.name,
                "--driver",
                spec.driver,
                "--sim-hosts",
                str(spec.hosts),
                "--data-dir",
                str(spec.data_dir),
                "--accel",
                accel,
                "--log-level",
                log_level,
            ]
            if ca_file is not None:
                argv += ["--ca-file", str(ca_file)]
            token = (enrol_tokens or {}).get(spec.name)
            env = {"NOVACRON_ENROL_TOKEN": token} if token else None
            prefix = f"[{spec.name}] " if len(self.specs) > 1 else ""
            self.agents.append(LocalAgent.start(spec, argv, prefix=prefix, env=env))

    def check(self) -> None:
        """Raise AgentFailed if any agent has exited."""
        for agent in self.agents:
            if agent.proc.poll() is not None:
                raise AgentFailed(f"agent {agent.spec.name} exited: {agent.why()}")

    def wait_registered(
        self,
        url: str,
        headers: dict[str, str],
        before: dict[str, str | None],
        stopping: Callable[[], bool],
        timeout: float = REGISTER_TIMEOUT_S,
    ) -> dict[str, dict[str, Any]]:
        """Each agent's first host as the server has it once the agent registered in this
        run (its heartbeat time differs from ``before``); raises AgentFailed if an agent
        exits first. An agent still silent at ``timeout`` is left out, not failed."""
        pending = {spec.host_names(1)[0] for spec in self.specs}
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        with httpx.Client(
            base_url=f"{url}/api/v1", headers=headers, timeout=2, verify=self.verify
        ) as api:
            while pending and time.monotonic() < deadline and not stopping():
                self.check()
                for name in sorted(pending):
                    host = _get_host(api, name)
                    if host is not None and host.get("last_heartbeat_at") != before.get(name):
                        found[name] = host
                        pending.discard(name)
                if pending:
                    time.sleep(0.3)
        return found

    def heartbeats(self, url: str, headers: dict[str, str]) -> dict[str, str | None]:
        """Each agent's first host's last heartbeat as the server has it now (None: no host)."""
        out: dict[str, str | None] = {}
        with httpx.Client(
            base_url=f"{url}/api/v1", headers=headers, timeout=2, verify=self.verify
        ) as api:
            for spec in self.specs:
                name = spec.host_names(1)[0]
                host = _get_host(api, name)
                out[name] = None if host is None else host.get("last_heartbeat_at")
        return out

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM every agent at once, then wait; SIGKILL what is still running after
        ``timeout``. Guests are separate processes and keep running."""
        for agent in self.agents:
            if agent.proc.poll() is None:
                agent.proc.terminate()
        deadline = time.monotonic() + timeout
        for agent in self.agents:
            try:
                agent.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                agent.proc.kill()
                agent.proc.wait()


def _get_host(api: httpx.Client, name: str) -> dict[str, Any] | None:
    try:
        response = api.get(f"/hosts/{name}")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body
