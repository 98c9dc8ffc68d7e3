"""The agent process: the driver's hosts, their HTTP API, and the reporter, in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from novacron import __version__
from novacron.agent.app import create_agent_app
from novacron.agent.host_facts_reporter import HostFactsReporter
from novacron.agent.images import ImageCache
from novacron.agent.qemu_logs import QemuLogShipper
from novacron.agent.reporter import Reporter
from novacron.agent.serving import EmbeddedServer, bind_socket, embedded_config, url_for
from novacron.core.config import default_data_dir
from novacron.core.errors import Invalid
from novacron.hypervisor.base import HypervisorDriver
from novacron.hypervisor.qemu import missing_qemu
from novacron.hypervisor.qemu.accel import ProbeGuest, choose_accel, qemu_version
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.hypervisor.qemu.tiny import build_tiny, default_cache_dir
from novacron.hypervisor.sim import SimFleet
from novacron.security.pki.agent_tls import AgentTLS, prepare_agent_tls

log = logging.getLogger("novacron.agent")

DRIVERS = ("sim", "qemu")


async def serve_agent(
    *,
    server_url: str,
    enrolment_token: str | None,
    listen_host: str = "127.0.0.1",
    listen_port: int = 0,
    name: str,
    public_url: str | None = None,
    driver: str = "sim",
    sim_hosts: int = 3,
    sim_host_prefix: str | None = None,
    sim_vcpus: int = 32,
    sim_memory_mib: int = 131072,
    sim_disk_gib: int = 1000,
    sim_delays: Mapping[str, float] | None = None,
    sim_failure_rates: Mapping[str, float] | None = None,
    sim_seed: int | None = None,
    data_dir: Path | None = None,
    accel: str = "auto",
    bridge: str | None = None,
    migration_address: str | None = None,
    enrol_token: str | None = None,
    ca_file: Path | None = None,
    ca_fingerprint: str | None = None,
    cert_renew_days: float | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run an agent until cancelled or sent SIGTERM/SIGINT, then stop cleanly.

    ``listen_port=0`` picks a free port. ``ready(agent_url)`` is called once the API
    listens (before registration, which retries until the server answers).

    With an https server the agent verifies it (``ca_file``, or the CA pinned by
    ``ca_fingerprint``) and, once enrolled (``enrol_token``, one time), presents its
    client certificate on every call and registers with its own registration token.
    """
    if driver not in DRIVERS:
        raise Invalid(
            f"unknown driver {driver!r} (available: {', '.join(DRIVERS)})",
            errors=[{"loc": ["driver"], "msg": f"must be one of: {', '.join(DRIVERS)}"}],
        )
    if sim_hosts < 0:
        raise Invalid("sim_hosts must be >= 0", errors=[{"loc": ["sim_hosts"], "msg": ">= 0"}])
    tls = await _agent_tls(
        server_url,
        data_dir or default_agent_dir(name),
        name,
        enrol_token,
        ca_file,
        ca_fingerprint,
        cert_renew_days,
    )
    enrolment_token = (tls.registration_token if tls else None) or enrolment_token
    if not enrolment_token:
        raise Invalid(
            "an enrolment token is required: --enrolment-token or --enrolment-token-file, "
            "or a one-time --enrol-token (novacron pki token create)"
        )
    token_of: list[Reporter] = []  # the reporter, once it exists (image downloads need its token)
    qemu: QemuDriver | None = None
    fleet: SimFleet | dict[str, HypervisorDriver]
    if driver == "qemu":
        qemu = await open_qemu_driver(
            name,
            data_dir or default_agent_dir(name),
            accel=accel,
            bridge=bridge,
            server_url=server_url,
            token=lambda: token_of[0].token if token_of else None,
            migration_address=migration_address or _migration_address(listen_host, public_url),
            tls=tls,
        )
        fleet = {name: qemu}
    else:
        fleet = SimFleet.build(
            sim_host_prefix if sim_host_prefix is not None else f"{name}-",
            sim_hosts,
            vcpus=sim_vcpus,
            memory_mib=sim_memory_mib,
            disk_gib=sim_disk_gib,
            delays=sim_delays,
            failure_rates=sim_failure_rates,
            seed=sim_seed,
        )
    api_secret = secrets.token_urlsafe(32)
    app = create_agent_app(fleet, api_secret)

    sock = bind_socket(listen_host, listen_port)
    port = sock.getsockname()[1]
    agent_url = (public_url or url_for(listen_host, port)).rstrip("/")
    server = EmbeddedServer(embedded_config(app, lifespan="off"))
    reporter = Reporter(
        server_url=server_url,
        enrolment_token=enrolment_token,
        name=name,
        agent_url=agent_url,
        api_secret=api_secret,
        drivers=fleet,
        version=__version__,
        tls=tls,
    )
    token_of.append(reporter)
    if qemu is not None:
        qemu.on_change = reporter.wake

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled = _install_signal_handlers(loop, stop, server)
    serve_task = asyncio.create_task(server.serve(sockets=[sock]), name="agent-http")
    report_task: asyncio.Task[None] | None = None
    background: list[asyncio.Task[None]] = []
    try:
        while not server.started:
            if serve_task.done():
                await serve_task  # raises what stopped it
                raise RuntimeError("agent HTTP server stopped during startup")
            await asyncio.sleep(0.01)
        log.info(
            "agent %s (%s driver%s, %d hosts) listening on %s, reporting to %s",
            name,
            driver,
            f", {qemu.accel}" if qemu is not None else "",
            len(fleet),
            agent_url,
            server_url,
        )
        if ready is not None:
            ready(agent_url)
        report_task = asyncio.create_task(reporter.run(), name="agent-reporter")
        if qemu is not None:  # guests' QEMU logs feed the server's VM-escape rules
            shipper = QemuLogShipper(
                name,
                qemu.vms_dir,
                qemu.vms_dir.parent / "qemu-log-offsets.json",
                server_url,
                lambda: reporter.token,
                transport=tls.async_transport() if tls is not None else None,
            )
            background.append(asyncio.create_task(shipper.run(), name="agent-qemu-logs"))
        facts = HostFactsReporter(  # compliance facts of this machine, under the agent's name
            server_url=server_url,
            name=name,
            token=lambda: reporter.token,
            expected_ports=(port,),
            transport=tls.async_transport() if tls is not None else None,
        )
        background.append(asyncio.create_task(facts.run(), name="agent-host-facts"))
        stop_task = asyncio.create_task(stop.wait(), name="agent-stop")
        try:
            done, _ = await asyncio.wait(
                {serve_task, report_task, stop_task}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop_task.cancel()
        if serve_task in done and not stop.is_set():
            await serve_task
            log.error("agent HTTP server stopped unexpectedly")
        if report_task in done:
            await report_task
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        for task in background:
            task.cancel()
        if report_task is not None:
            report_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await report_task
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serve_task
        sock.close()
        if qemu is not None:
            await qemu.close()  # stop watching; the guests keep running
        log.info("agent %s stopped", name)


def _install_signal_handlers(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, server: EmbeddedServer
) -> list[int]:
    def on_signal(sig: int) -> None:
        if stop.is_set():
            server.force_exit = True  # a second signal: stop waiting for connections
        log.info("agent received %s; stopping", signal.Signals(sig).name)
        stop.set()

    handled: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or a platform without it
        handled.append(sig)
    return handled


async def _agent_tls(
    server_url: str,
    data_dir: Path,
    name: str,
    enrol_token: str | None,
    ca_file: Path | None,
    ca_fingerprint: str | None,
    cert_renew_days: float | None,
) -> AgentTLS | None:
    """TLS towards the server (None for http): credentials in ``<data_dir>/tls``."""
    return await prepare_agent_tls(
        server_url,
        data_dir / "tls",
        name,
        enrol_token=enrol_token,
        ca_file=ca_file,
        ca_fingerprint=ca_fingerprint,
        renew_before=None if cert_renew_days is None else timedelta(days=cert_renew_days),
    )


def default_agent_dir(name: str) -> Path:
    return default_data_dir() / f"agent-{name}"


def _migration_address(listen_host: str, public_url: str | None) -> str:
    """Incoming migrations listen where the server reaches this agent (its public URL's
    host), else on the agent's listen address (loopback when it listens everywhere)."""
    if public_url:
        host = urlsplit(public_url).hostname
        if host:
            return host
    return "127.0.0.1" if listen_host in ("0.0.0.0", "::", "") else listen_host


async def open_qemu_driver(
    name: str,
    data_dir: Path,
    *,
    accel: str,
    bridge: str | None,
    server_url: str,
    token: Callable[[], str | None],
    migration_address: str = "127.0.0.1",
    tls: AgentTLS | None = None,
) -> QemuDriver:
    """The host's QEMU driver: accelerator chosen (by a probe boot), VMs re-attached."""
    missing = missing_qemu()
    if missing:
        raise Invalid(f"the qemu driver needs QEMU: {missing}")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if accel == "auto":
        log.info("probing KVM with a boot of the tiny guest (cached after the first time)")
    choice = await choose_accel(
        accel,
        cache_file=default_cache_dir() / "accel-probe.json",
        qemu_version=f"{await qemu_version()}|{os.uname().release}",
        probe_guest=lambda: probe_guest(data_dir / "probe"),
    )
    log.info("accelerator: %s (%s)", choice.accel, choice.reason)
    images = ImageCache.over_http(
        data_dir / "images",
        server_url,
        token,
        transport=tls.async_transport() if tls is not None else None,
    )
    driver = QemuDriver(
        name,
        data_dir,
        accel=choice.accel,
        images=images.ensure,
        bridge=bridge,
        migration_address=migration_address,
        labels={"accel_reason": choice.reason[:200]},
    )
    await driver.open()
    in_use = driver.images_in_use()
    if in_use is None:
        log.warning("some VM records are unreadable: cached images are kept")
    else:
        for image_id in images.prune(in_use):
            log.info("evicted image %s from the host's image store: no VM uses it", image_id)
    return driver


async def probe_guest(directory: Path) -> ProbeGuest:
    image = await asyncio.to_thread(build_tiny, directory, cache_dir=default_cache_dir())
    return ProbeGuest(image.kernel, image.initrd, image.cmdline, image.kernel_release)


def run_agent(**kwargs: Any) -> None:
    """Run an agent in a new event loop (the ``novacron agent`` command)."""
    asyncio.run(serve_agent(**kwargs))
