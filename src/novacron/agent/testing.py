"""Helpers for tests that need real HTTP on 127.0.0.1: a server in a background thread.

with run_uvicorn_in_thread(app) as base_url:
    httpx.get(f"{base_url}/healthz")

with run_agent_in_thread(server_url=..., enrolment_token=..., name="a1") as agent_url:
    ...
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from novacron.agent.client import AgentClient
from novacron.agent.serving import EmbeddedServer, bind_socket, embedded_config, url_for
from novacron.hypervisor.sim import OPERATIONS, SimFleet

TEST_API_SECRET = "test-agent-secret"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (nothing listens on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_uvicorn_in_thread(
    app: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    lifespan: Literal["auto", "on", "off"] = "auto",
    startup_timeout_s: float = 10.0,
) -> Iterator[str]:
    """Serve ``app`` from a daemon thread (its own event loop); yields the base URL.

    ``port=0`` picks a free port. On exit the server shuts down and the thread is joined.
    """
    sock = bind_socket(host, port)
    base_url = url_for(host, sock.getsockname()[1])
    server = EmbeddedServer(embedded_config(app, lifespan=lifespan))
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)

    thread = threading.Thread(target=serve, name=f"uvicorn {base_url}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"server at {base_url} failed to start: {errors!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server at {base_url} did not start in {startup_timeout_s}s")
            time.sleep(0.005)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def run_agent_in_thread(
    startup_timeout_s: float = 10.0, **serve_agent_kwargs: Any
) -> Iterator[str]:
    """Run ``serve_agent(**kwargs)`` (API and reporter) in a daemon thread; yields its URL.

    Leaving the block cancels the agent and waits for its clean stop.
    """
    from novacron.agent.main import serve_agent

    started = threading.Event()
    urls: list[str] = []
    errors: list[BaseException] = []
    loop = asyncio.new_event_loop()
    task_box: list[asyncio.Task[None]] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        started.set()

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        task_box.append(task)
        await serve_agent(**serve_agent_kwargs, ready=on_ready)

    def runner() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=runner, name="novacron-agent", daemon=True)
    thread.start()
    try:
        if not started.wait(startup_timeout_s):
            raise TimeoutError(f"agent did not start in {startup_timeout_s}s")
        if not urls:
            raise RuntimeError(f"agent failed to start: {errors!r}")
        yield urls[0]
    finally:
        if thread.is_alive() and task_box:
            loop.call_soon_threadsafe(task_box[0].cancel)
        thread.join(timeout=15)
        if errors:
            raise errors[0]


@dataclass
class SimAgentAPI:
    """A sim fleet behind the agent API in a background thread."""

    url: str
    fleet: SimFleet
    secret: str
    client: AgentClient


@contextlib.contextmanager
def run_sim_agent_api(
    fleet: SimFleet | None = None, api_secret: str = TEST_API_SECRET
) -> Iterator[SimAgentAPI]:
    """Serve ``fleet`` (default: hosts ``sim-001..003`` with no delays) with an open client."""
    from novacron.agent.app import create_agent_app

    if fleet is None:
        fleet = SimFleet.build("sim-", 3, delays=dict.fromkeys(OPERATIONS, 0.0))
    with (
        run_uvicorn_in_thread(create_agent_app(fleet, api_secret)) as url,
        AgentClient(url, api_secret, timeout_s=10) as client,
    ):
        yield SimAgentAPI(url, fleet, api_secret, client)
