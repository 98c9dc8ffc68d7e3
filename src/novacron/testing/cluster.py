"""A real NovaCron cluster on 127.0.0.1: server in a thread, agent(s) as subprocesses.

``Cluster.start(..., tls=True)`` serves HTTPS with a certificate from the cluster's own CA
(``tls_client_certs="required"`` etc. pass through like any setting); its ``api`` client
and its agents trust that CA. The default stays plain HTTP.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from novacron.compute.operations import TERMINAL
from novacron.core.config import Settings
from novacron.core.procs import die_with_parent
from novacron.hypervisor.qemu import kill_guests
from novacron.testing.databases import seed_default_sqlite

# Sim delays short enough for tests, long enough that operations overlap.
FAST_SIM = [
    arg
    for op, delay in {
        "create": 0.05,
        "start": 0.01,
        "shutdown": 0.01,
        "stop": 0.01,
        "reboot": 0.01,
        "pause": 0.01,
        "resume": 0.01,
        "destroy": 0.01,
    }.items()
    for arg in ("--sim-delay", f"{op}={delay}")
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Any, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def healthy(url: str, verify: ssl.SSLContext | bool = True) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1, verify=verify).status_code == 200
    except httpx.HTTPError:
        return False


class ServerThread:
    """``novacron server`` in-process (uvicorn in a thread): real HTTP, real workers."""

    def __init__(self, settings: Settings, workers: bool = True) -> None:
        from novacron.api import create_app
        from novacron.security.pki.serving import prepare_server_tls

        self.settings = settings
        seed_default_sqlite(settings)
        self.tls = prepare_server_tls(settings)  # None unless settings.tls
        self.app = create_app(settings, workers=workers)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=settings.port,
                log_level="warning",
                access_log=False,
                **(self.tls.uvicorn_kwargs() if self.tls else {}),
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{settings.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 60, what="server")
        if not self.thread.is_alive():
            raise RuntimeError("server failed to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def spawn_server(settings: Settings, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``novacron server`` as its own process (for kill -9 and multi-replica tests)."""
    full_env = {**os.environ, **_settings_env(settings), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "novacron", "server", "--log-level", "warning"],
        env=full_env,
        preexec_fn=die_with_parent,
    )


def _settings_env(settings: Settings) -> dict[str, str]:
    env = {}
    for key, value in settings.model_dump().items():
        if value is not None:
            env[f"NOVACRON_{key.upper()}"] = str(value)
    return env


def spawn_agent(
    server_url: str,
    enrolment_token: str | None,
    name: str,
    sim_hosts: int = 3,
    extra: list[str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "novacron",
        "agent",
        "--server",
        server_url,
        *(["--enrolment-token", enrolment_token] if enrolment_token else []),
        "--name",
        name,
        "--sim-hosts",
        str(sim_hosts),
        "--log-level",
        "warning",
        *(extra or []),
    ]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    # apt's simulated upgrade costs seconds of CPU per agent: off unless a test asks.
    env = {"NOVACRON_FACTS_INTERVAL": "off", **os.environ}
    return subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent, env=env
    )


@dataclass
class Cluster:
    settings: Settings
    server: ServerThread | None = None
    server_process: subprocess.Popen[bytes] | None = None
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    token: str = ""
    enrolment_token: str = ""

    @property
    def url(self) -> str:
        return self.settings.resolved_public_url

    @property
    def ca_file(self) -> Path | None:
        """The CA the cluster's HTTPS certificate chains to (None: plain HTTP)."""
        if not self.settings.tls:
            return None
        from novacron.security.pki.service import tls_dir

        return tls_dir(self.settings) / "ca.crt"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """For httpx clients of this cluster: trust its CA."""
        if self.ca_file is None:
            return True
        from novacron.security.pki import client_ssl_context

        return client_ssl_context(self.ca_file)

    @property
    def api(self) -> httpx.Client:
        if not hasattr(self, "_api"):
            self._api = httpx.Client(
                base_url=f"{self.url}/api/v1",
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
                verify=self.verify,
            )
        return self._api

    @classmethod
    def start(
        cls,
        data_dir: Path,
        database_url: str | None = None,
        *,
        sim_hosts: int = 3,
        agent_args: list[str] | None = None,
        with_agent: bool = True,
        separate_process: bool = False,
        **overrides: Any,
    ) -> Cluster:
        defaults: dict[str, Any] = dict(
            heartbeat_interval_s=0.5,
            heartbeat_timeout_s=15.0,  # a loaded 2-core CI box delays heartbeats
            login_rate_per_minute=10_000,  # every test signs in from 127.0.0.1
            operation_lease_s=6.0,  # quick takeovers in tests, yet load does not steal work
            poll_interval_s=0.05,
            executor_threads=8,
        )
        defaults.update(overrides)
        port = free_port()
        if defaults.get("tls"):
            defaults.setdefault("public_url", f"https://127.0.0.1:{port}")
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            port=port,
            enrolment_token="nce_" + secrets.token_urlsafe(24),
            **defaults,
        )
        cluster = cls(settings=settings, enrolment_token=settings.enrolment_token or "")
        seed_default_sqlite(settings)  # migrated already: startup skips ~0.4 s
        if separate_process:
            cluster.server_process = spawn_server(settings)
            wait_until(
                lambda: (
                    healthy(cluster.url, cluster.verify)
                    or cluster.server_process.poll() is not None
                ),
                60,
                what="server process",
            )
        else:
            cluster.server = ServerThread(settings).start()
        cluster.token = (data_dir / "admin-token").read_text().strip()
        if with_agent:
            cluster.add_agent("agent-1", sim_hosts, agent_args)
        return cluster

    def web_cookies(self) -> dict[str, str]:
        """The cookies of a browser signed in with the admin token (a web session)."""
        return web_session_cookies(self.url, self.token)

    def add_agent(
        self,
        name: str,
        sim_hosts: int = 3,
        args: list[str] | None = None,
        *,
        reusable_token: bool = True,
    ) -> subprocess.Popen[bytes]:
        """Start agent ``name`` and wait for its hosts. ``reusable_token=False`` leaves
        out the shared enrolment token (an agent enrolling with ``--enrol-token``). On a
        TLS cluster the agent trusts its CA and keeps its credentials in
        ``<data_dir>/agent-NAME`` unless ``args`` say otherwise."""
        before = self.host_count()
        extra = [*FAST_SIM, *(args or [])]
        if self.ca_file is not None:
            if "--ca-file" not in extra and "--ca-fingerprint" not in extra:
                extra += ["--ca-file", str(self.ca_file)]
            if "--data-dir" not in extra:
                extra += ["--data-dir", str(self.settings.data_dir / f"agent-{name}")]
        proc = spawn_agent(
            self.url,
            self.enrolment_token if reusable_token else None,
            name,
            sim_hosts,
            extra,
            log_path=self.settings.data_dir / f"{name}.log",
        )
        self.agents.append(proc)
        wait_until(
            lambda: self.host_count() >= before + sim_hosts or proc.poll() is not None,
            60,
            what=f"agent {name} to register",
        )
        if proc.poll() is not None:
            log = (self.settings.data_dir / f"{name}.log").read_text()[-2000:]
            raise RuntimeError(f"agent {name} exited: {log}")
        return proc

    def add_qemu_agent(
        self, name: str, *, accel: str = "tcg", args: list[str] | None = None
    ) -> Path:
        """An agent with the qemu driver (one host, named like the agent); its data dir."""
        agent_dir = self.settings.data_dir / f"agent-{name}"
        self.add_agent(
            name,
            1,
            ["--driver", "qemu", "--accel", accel, "--data-dir", str(agent_dir), *(args or [])],
        )
        return agent_dir

    def host_count(self) -> int:
        return int(self.api.get("/hosts", params={"limit": 1}).json()["total"])

    def wait_op(self, op: dict[str, Any] | str, timeout: float = 30.0) -> dict[str, Any]:
        op_id = op if isinstance(op, str) else op["id"]

        def done() -> dict[str, Any] | None:
            body = self.api.get(f"/operations/{op_id}").json()
            return body if body["state"] in TERMINAL else None

        return wait_until(done, timeout, what=f"operation {op_id}")

    def create_vm(self, name: str, **spec: Any) -> dict[str, Any]:
        body = {"name": name, "vcpus": 1, "memory_mib": 512, "disk_gib": 1, **spec}
        resp = self.api.post("/vms", json=body)
        assert resp.status_code == 202, resp.text
        op = self.wait_op(resp.json())
        assert op["state"] == "succeeded", op
        return self.api.get(f"/vms/{op['target_id']}").json()

    def agent_api(self) -> tuple[str, str]:
        """(url, secret) of the first agent, read from the database as the server does."""
        from sqlalchemy import select

        from novacron.compute.models import Agent
        from novacron.core.database import Database

        db = Database(self.settings.resolved_database_url)
        try:
            with db.session() as s:
                agent = s.scalars(select(Agent).order_by(Agent.created_at)).first()
                assert agent is not None
                return agent.url, agent.api_secret
        finally:
            db.dispose()

    def stop(self) -> None:
        for proc in self.agents:
            proc.terminate()
        for proc in self.agents:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if hasattr(self, "_api"):
            self._api.close()
        if self.server:
            self.server.stop()
        if self.server_process and self.server_process.poll() is None:
            self.server_process.terminate()
            self.server_process.wait(20)
        kill_guests(self.settings.data_dir)  # agents leave their guests running on purpose


def web_session_cookies(url: str, token: str) -> dict[str, str]:
    """Sign in at ``/login`` with ``token`` like a browser; the session's cookies."""
    resp = httpx.post(f"{url}/login", data={"token": token}, follow_redirects=False, timeout=30)
    if resp.status_code != 303:
        raise RuntimeError(f"sign-in failed: {resp.status_code} {resp.text[:200]}")
    return dict(resp.cookies)
