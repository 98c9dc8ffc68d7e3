"""Process commands: ``novacron server``, ``novacron agent`` and the all-in-one ``novacron up``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import typer
import uvicorn

from novacron.core.cli_support import fail
from novacron.core.config import Settings, default_data_dir, make_settings
from novacron.core.procs import die_with_parent


def _logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per HTTP request (every heartbeat, every agent call) is noise, not news.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _parse_pairs(values: list[str], option: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            out[key] = float(raw)
        except ValueError:
            fail(f"{option} expects OP=NUMBER, got {item!r}")
    return out


def server(
    data_dir: Path = typer.Option(None, "--data-dir", help="Default ~/.local/share/novacron"),
    host: str = typer.Option(None, "--host", help="Listen address (default 127.0.0.1)"),
    port: int = typer.Option(None, "--port", help="Listen port (default 8080)"),
    database_url: str = typer.Option(None, "--database-url", envvar="NOVACRON_DATABASE_URL"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run the control-plane server: API, web UI and workers."""
    from novacron.api import create_app

    _logging(log_level)
    settings = make_settings(data_dir=data_dir, host=host, port=port, database_url=database_url)
    uvicorn.run(
        create_app(settings),
        timeout_graceful_shutdown=5,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
    )


def agent(
    server_url: str = typer.Option(
        ..., "--server", envvar="NOVACRON_SERVER_URL", help="Server base URL"
    ),
    enrolment_token: str = typer.Option(
        None, "--enrolment-token", envvar="NOVACRON_ENROLMENT_TOKEN"
    ),
    enrolment_token_file: Path = typer.Option(None, "--enrolment-token-file"),
    name: str = typer.Option(None, "--name", help="Agent name (default: this machine's name)"),
    listen: str = typer.Option("127.0.0.1", "--listen"),
    port: int = typer.Option(0, "--port", help="0 picks a free port"),
    public_url: str = typer.Option(None, "--public-url", help="URL the server uses to reach us"),
    driver: str = typer.Option("sim", "--driver", help="sim or qemu"),
    data_dir: Path = typer.Option(
        None,
        "--data-dir",
        help="qemu: VMs, images and sockets (default ~/.local/share/novacron/agent-NAME)",
    ),
    accel: str = typer.Option("auto", "--accel", help="qemu: auto (probe-boot KVM), kvm or tcg"),
    bridge: str = typer.Option(None, "--bridge", help="qemu: host bridge VMs may attach to"),
    sim_hosts: int = typer.Option(3, "--sim-hosts", min=1, max=100_000),
    sim_vcpus: int = typer.Option(32, "--sim-vcpus", min=1),
    sim_memory_mib: int = typer.Option(131072, "--sim-memory-mib", min=64),
    sim_disk_gib: int = typer.Option(1000, "--sim-disk-gib", min=1),
    sim_delay: list[str] = typer.Option([], "--sim-delay", help="OP=SECONDS, repeatable"),
    sim_failure_rate: list[str] = typer.Option([], "--sim-failure-rate", help="OP=P, repeatable"),
    sim_seed: int = typer.Option(None, "--sim-seed"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run a host agent (the sim driver can serve many simulated hosts)."""
    from novacron.agent.main import run_agent

    _logging(log_level)
    token = enrolment_token
    if not token and enrolment_token_file:
        try:
            token = enrolment_token_file.read_text().strip()
        except OSError as exc:
            fail(f"cannot read enrolment token file {enrolment_token_file}: {exc.strerror}")
    if not token:
        fail("an enrolment token is required: --enrolment-token or --enrolment-token-file")
    run_agent(
        server_url=server_url.rstrip("/"),
        enrolment_token=token,
        listen_host=listen,
        listen_port=port,
        name=name or os.uname().nodename,
        public_url=public_url,
        driver=driver,
        sim_hosts=sim_hosts,
        sim_vcpus=sim_vcpus,
        sim_memory_mib=sim_memory_mib,
        sim_disk_gib=sim_disk_gib,
        sim_delays=_parse_pairs(sim_delay, "--sim-delay") or None,
        sim_failure_rates=_parse_pairs(sim_failure_rate, "--sim-failure-rate") or None,
        sim_seed=sim_seed,
        data_dir=data_dir,
        accel=accel,
        bridge=bridge,
    )


def up(
    data_dir: Path = typer.Option(None, "--data-dir", help="Default ~/.local/share/novacron"),
    port: int = typer.Option(8080, "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
    driver: str = typer.Option(
        "auto",
        "--driver",
        help="Local agent's driver: auto (qemu if installed, else sim), qemu, sim",
    ),
    accel: str = typer.Option("auto", "--accel", help="qemu: auto (probe-boot KVM), kvm or tcg"),
    sim_hosts: int = typer.Option(3, "--sim-hosts", min=1, max=100_000),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Start a server and a local agent on embedded SQLite: the zero-setup way to run."""
    from novacron.api import create_app
    from novacron.hypervisor.qemu import missing_qemu

    if driver not in ("auto", "qemu", "sim"):
        fail(f"unknown driver {driver!r}: use auto, qemu or sim")
    missing = missing_qemu()
    if driver == "qemu" and missing:
        fail(f"--driver qemu: {missing}; install qemu-system-x86 and qemu-utils")
    if driver == "auto":
        driver = "sim" if missing else "qemu"
        if missing:
            typer.echo(f"{missing}: the local agent uses the sim driver (simulated hosts).")
    _logging(log_level)
    data_dir = data_dir or Path(os.environ.get("NOVACRON_DATA_DIR") or default_data_dir())
    settings = make_settings(data_dir=data_dir, host=host, port=port, reissue_admin_token=True)
    _check_port_free(settings)
    # From here on Ctrl-C means "stop cleanly", also during start-up.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=3,  # open live-update streams must not hold up Ctrl-C
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="server", daemon=True)
    thread.start()
    url = f"http://{host}:{port}"
    _wait_healthy(url, thread)
    agent_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "novacron",
            "agent",
            "--server",
            url,
            "--enrolment-token-file",
            str(data_dir / "enrolment-token"),
            "--name",
            "local",
            "--driver",
            driver,
            "--sim-hosts",
            str(sim_hosts),
            "--data-dir",
            str(data_dir / "agent"),
            "--accel",
            accel,
            "--log-level",
            log_level,
        ],
        preexec_fn=die_with_parent,
    )
    token_file = data_dir / "admin-token"
    typer.echo(f"NovaCron is up: dashboard {url}/  (API {url}/api/v1, docs {url}/docs)")
    typer.echo(f"Admin token: {token_file}  (sign in with it; the CLI reads it from there)")
    if driver == "qemu":
        typer.echo(
            f"Local agent runs real VMs with QEMU; data in {data_dir}. Ctrl-C stops NovaCron "
            "(running VMs keep running and are re-attached at the next start)."
        )
        typer.echo(_accelerator_line(url, token_file, agent_proc))
        typer.echo("No guest image yet? `novacron image build tiny` makes one in seconds.")
    else:
        typer.echo(f"Local agent with {sim_hosts} sim hosts; data in {data_dir}. Ctrl-C stops.")
    while not stop.is_set() and thread.is_alive():
        if agent_proc.poll() is not None:
            typer.echo(f"the local agent exited with code {agent_proc.returncode}", err=True)
            break
        stop.wait(0.5)
    typer.echo("stopping…")
    # Server first: a server outliving its agent would mark every host down.
    srv.should_exit = True
    thread.join(15)
    agent_proc.terminate()
    try:
        agent_proc.wait(10)
    except subprocess.TimeoutExpired:
        agent_proc.kill()


def _accelerator_line(
    url: str, token_file: Path, agent_proc: subprocess.Popen[bytes], timeout: float = 90
) -> str:
    """What the local QEMU host chose (the agent probes KVM at its first start)."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
    while time.monotonic() < deadline and agent_proc.poll() is None:
        try:
            response = httpx.get(f"{url}/api/v1/hosts/local", headers=headers, timeout=2)
            if response.status_code == 200:
                labels = response.json().get("labels", {})
                return f"Accelerator: {labels.get('accel', '?')} ({labels.get('accel_reason', '')})"
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return "Accelerator: not known yet (the local agent has not registered)"


def _check_port_free(settings: Settings) -> None:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, settings.port))
        except OSError:
            fail(f"port {settings.port} on {settings.host} is in use: pass --port")


def _wait_healthy(url: str, thread: threading.Thread, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            fail("the server stopped during start-up (see the log above)")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    fail(f"the server did not become healthy within {timeout:.0f}s")


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("agent")(agent)
    app.command("up")(up)
