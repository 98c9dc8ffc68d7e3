"""Process commands: ``novacron server``, ``novacron agent`` and the all-in-one ``novacron up``.

With ``tls`` on (``NOVACRON_TLS=1``, or ``up --tls``) the server serves HTTPS with a
certificate from NovaCron's own CA in ``<data_dir>/tls`` (or the operator's files), and
agents verify it and, once enrolled with a one-time token, authenticate with a client
certificate (``novacron.security.pki``).
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import typer
import uvicorn

from novacron.core.cli_support import fail
from novacron.core.config import Settings, default_data_dir, make_settings
from novacron.core.errors import NovaCronError
from novacron.local_agents import (
    DEFAULT_SIM_HOSTS,
    MAX_QEMU_HOSTS,
    MAX_SIM_HOSTS,
    AgentFailed,
    AgentSpec,
    LocalFleet,
    host_count,
    plan,
    shared_accel,
)

if TYPE_CHECKING:
    from novacron.hypervisor.qemu.accel import AccelChoice
    from novacron.security.pki.serving import ServerTLS

log = logging.getLogger("novacron.server")

BANNER_HOSTS = 16  # host lines in up's banner; more are counted, not listed


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
    settings, tls = _with_tls(settings)
    uvicorn.run(
        create_app(settings),
        timeout_graceful_shutdown=5,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        **(tls.uvicorn_kwargs() if tls else {}),
    )


def _with_tls(settings: Settings) -> tuple[Settings, ServerTLS | None]:
    """The server's TLS files (None with TLS off) and settings whose public URL says
    https; a bad certificate file ends the start with one line naming it."""
    from novacron.security.pki.serving import prepare_server_tls, public_url

    try:
        tls = prepare_server_tls(settings)
    except NovaCronError as exc:
        fail(exc.detail)
    if tls is None:
        return settings, None
    log.info(
        "serving HTTPS at %s (agent client certificates: %s)",
        public_url(settings),
        tls.client_certs,
    )
    return settings.model_copy(update={"public_url": public_url(settings)}), tls


def agent(
    server_url: str = typer.Option(
        ..., "--server", envvar="NOVACRON_SERVER_URL", help="Server base URL"
    ),
    enrolment_token: str = typer.Option(
        None, "--enrolment-token", envvar="NOVACRON_ENROLMENT_TOKEN"
    ),
    enrolment_token_file: Path = typer.Option(None, "--enrolment-token-file"),
    enrol_token: str = typer.Option(
        None,
        "--enrol-token",
        envvar="NOVACRON_ENROL_TOKEN",
        help="One-time token (nco_…, from `novacron pki token create`): enrol for a client "
        "certificate on first start (https servers)",
    ),
    ca_fingerprint: str = typer.Option(
        None,
        "--ca-fingerprint",
        envvar="NOVACRON_CA_FINGERPRINT",
        help="sha256:… of the server's CA: fetch it and trust it if it matches (kept after)",
    ),
    ca_file: Path = typer.Option(
        None, "--ca-file", envvar="NOVACRON_CA_FILE", help="CA certificate to verify the server"
    ),
    cert_renew_days: float = typer.Option(
        None,
        "--cert-renew-days",
        min=0,
        help="Rotate the client certificate when fewer days than this are left (default 30)",
    ),
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
    migration_address: str = typer.Option(
        None,
        "--migration-address",
        help="qemu: address incoming live migrations listen on (default: the public URL's host)",
    ),
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
    if not token and not enrol_token and not server_url.startswith("https://"):
        fail("an enrolment token is required: --enrolment-token or --enrolment-token-file")
    run_agent(
        server_url=server_url.rstrip("/"),
        enrolment_token=token,
        enrol_token=enrol_token,
        ca_file=ca_file,
        ca_fingerprint=ca_fingerprint,
        cert_renew_days=cert_renew_days,
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
        migration_address=migration_address,
    )


def up(
    data_dir: Path = typer.Option(None, "--data-dir", help="Default ~/.local/share/novacron"),
    port: int = typer.Option(8080, "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
    driver: str = typer.Option(
        "auto",
        "--driver",
        help="Local agents' driver: auto (qemu if installed, else sim), qemu, sim",
    ),
    hosts: int = typer.Option(
        None,
        "--hosts",
        min=1,
        help="How many local hosts, to try migration on one machine. qemu: one agent per "
        f"host (at most {MAX_QEMU_HOSTS}), named local-1 … local-N, each with its own data "
        "dir <data-dir>/agents/NAME and port; a single host is 'local' in <data-dir>/agent. "
        "sim: one agent simulating N hosts. Default 1 with qemu, "
        f"{DEFAULT_SIM_HOSTS} with sim",
    ),
    accel: str = typer.Option(
        "auto",
        "--accel",
        help="qemu: auto (probe-boot KVM, once for all hosts), kvm or tcg",
    ),
    sim_hosts: int = typer.Option(
        None,
        "--sim-hosts",
        min=1,
        max=MAX_SIM_HOSTS,
        help="Older spelling of --hosts for the sim driver (ignored with qemu)",
    ),
    tls: bool = typer.Option(
        False,
        "--tls",
        help="Serve HTTPS with a certificate from NovaCron's own CA (in <data-dir>/tls); "
        "with NOVACRON_TLS_CLIENT_CERTS=optional|required the local agents enrol for "
        "client certificates",
    ),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Start a server and local agents on embedded SQLite: the zero-setup way to run."""
    from novacron.api import create_app
    from novacron.hypervisor.qemu import missing_qemu
    from novacron.hypervisor.qemu.accel import MODES

    if driver not in ("auto", "qemu", "sim"):
        fail(f"unknown driver {driver!r}: use auto, qemu or sim")
    if accel not in MODES:
        fail(f"unknown accelerator {accel!r}: use {', '.join(MODES)}")
    missing = missing_qemu()
    if driver == "qemu" and missing:
        fail(f"--driver qemu: {missing}; install qemu-system-x86 and qemu-utils")
    if driver == "auto":
        driver = "sim" if missing else "qemu"
        if missing:
            typer.echo(f"{missing}: the local agent uses the sim driver (simulated hosts).")
    try:
        count = host_count(driver, hosts, sim_hosts)
    except ValueError as exc:
        fail(str(exc))
    _logging(log_level)
    data_dir = data_dir or Path(os.environ.get("NOVACRON_DATA_DIR") or default_data_dir())
    settings = make_settings(
        data_dir=data_dir, host=host, port=port, reissue_admin_token=True, tls=tls or None
    )
    _check_port_free(settings)
    settings, server_tls = _with_tls(settings)
    specs = plan(driver, count, data_dir)
    shared: AccelChoice | None = None
    if len(specs) > 1:
        # Once here, not N times side by side: each agent is told the verdict.
        if accel == "auto":
            typer.echo(
                f"Probing KVM once for the {count} local hosts (cached after the first time)…"
            )
        shared = shared_accel(accel, data_dir / "probe")
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
        **(server_tls.uvicorn_kwargs() if server_tls else {}),
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="server", daemon=True)
    thread.start()
    url = f"{'https' if server_tls else 'http'}://{host}:{port}"
    verify: ssl.SSLContext | bool = server_tls.client_context() if server_tls else True
    _wait_healthy(url, thread, verify=verify)
    token_file = data_dir / "admin-token"
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
    fleet = LocalFleet(specs, verify=verify)
    failure = ""
    try:
        before = fleet.heartbeats(url, headers)
        typer.echo(
            "Starting the local agent…"
            if len(specs) == 1
            else f"Starting {len(specs)} local agents…"
        )
        fleet.start(
            server_url=url,
            enrolment_token_file=data_dir / "enrolment-token",
            accel=shared.accel if shared else accel,
            log_level=log_level,
            ca_file=server_tls.ca_file if server_tls and not server_tls.own_cert else None,
            enrol_tokens=_local_enrol_tokens(url, headers, verify, specs, server_tls),
        )
        registered = fleet.wait_registered(
            url, headers, before, lambda: stop.is_set() or not thread.is_alive()
        )
        if stop.is_set() or not thread.is_alive():
            return
        typer.echo(f"NovaCron is up: dashboard {url}/  (API {url}/api/v1, docs {url}/docs)")
        typer.echo(
            f"Admin token: {token_file}  (user admin: sign in with it at {url}/login?mode=token, "
            "or set a password with: novacron user passwd admin; the CLI reads it from there)"
        )
        if server_tls is not None and not server_tls.own_cert:
            typer.echo(f"TLS: NovaCron's CA is {server_tls.ca_file}; the CLI trusts it")
        for line in _banner(specs, registered, shared, data_dir):
            typer.echo(line)
        while not stop.is_set() and thread.is_alive():
            fleet.check()
            stop.wait(0.5)
    except AgentFailed as exc:
        if not stop.is_set():  # not just an agent quicker to take Ctrl-C than we are
            failure = f"{exc}; stopped NovaCron and the other local agents"
    finally:
        typer.echo("stopping…")
        # Server first: a server outliving its agent would mark every host down.
        srv.should_exit = True
        thread.join(15)
        fleet.stop()
    if failure:
        fail(failure)


def _banner(
    specs: list[AgentSpec],
    registered: dict[str, dict[str, Any]],
    shared: AccelChoice | None,
    data_dir: Path,
) -> list[str]:
    """The start-up banner after the URLs: one line per host (name, driver, accelerator),
    then what to do next. Its last line ends with "Ctrl-C stops…" (sim) or names the
    tiny guest image (qemu): scripts wait for it."""
    if specs[0].driver == "sim":
        spec = specs[0]
        names = spec.host_names(BANNER_HOSTS)
        width = max(len(n) for n in names)
        lines = [f"  {n:<{width}}  sim   (simulated, no accelerator)" for n in names]
        if spec.hosts > len(names):
            lines.append(f"  … and {spec.hosts - len(names)} more")
        return [
            "Hosts:",
            *lines,
            f"Local agent with {spec.hosts} sim hosts; data in {data_dir}. Ctrl-C stops.",
        ]
    width = max(len(s.name) for s in specs)
    lines = ["Hosts:"]
    for spec in specs:
        found = registered.get(spec.name)
        labels = found.get("labels", {}) if found else {}
        chosen = shared.accel if shared else labels.get("accel", "?")
        where = f"data in {spec.data_dir}"
        state = where if found else f"not registered yet; {where}"
        lines.append(f"  {spec.name:<{width}}  qemu  {chosen:<4}  {state}")
    if len(specs) == 1:
        lines.append(
            f"Local agent runs real VMs with QEMU; data in {data_dir}. Ctrl-C stops NovaCron "
            "(running VMs keep running and are re-attached at the next start)."
        )
        found = registered.get(specs[0].name)
        if found:
            labels = found.get("labels", {})
            reason = labels.get("accel_reason", "")
            lines.append(f"Accelerator: {labels.get('accel', '?')} ({reason})")
        else:
            lines.append("Accelerator: not known yet (the local agent has not registered)")
    else:
        assert shared is not None
        lines.append(
            f"{len(specs)} local agents run real VMs with QEMU, one host each: live-migrate "
            f"between them. Ctrl-C stops NovaCron (running VMs keep running and are "
            "re-attached at the next start)."
        )
        lines.append(f"Accelerator: {shared.accel} ({shared.reason}), chosen once for all hosts")
    lines.append("No guest image yet? `novacron image build tiny` makes one in seconds.")
    return lines


def _check_port_free(settings: Settings) -> None:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, settings.port))
        except OSError:
            fail(f"port {settings.port} on {settings.host} is in use: pass --port")


def _local_enrol_tokens(
    url: str,
    headers: dict[str, str],
    verify: ssl.SSLContext | bool,
    specs: list[AgentSpec],
    server_tls: ServerTLS | None,
) -> dict[str, str]:
    """One-time enrolment tokens for the local agents that have no valid certificate yet
    (only when the server asks agents for client certificates)."""
    if server_tls is None or server_tls.client_certs == "off":
        return {}
    from novacron.security.pki import load_agent_credentials

    tokens: dict[str, str] = {}
    for spec in specs:
        try:
            load_agent_credentials(spec.data_dir / "tls")
            continue  # enrolled earlier; rotation keeps it so
        except NovaCronError:
            pass
        resp = httpx.post(
            f"{url}/api/v1/security/pki/tokens",
            json={"ttl_seconds": 900, "for_name": spec.name},
            headers=headers,
            verify=verify,
            timeout=10,
        )
        if resp.status_code != 201:
            fail(f"could not make an enrolment token for agent {spec.name}: {resp.text[:200]}")
        tokens[spec.name] = resp.json()["token"]
    return tokens


def _wait_healthy(
    url: str, thread: threading.Thread, timeout: float = 60, *, verify: ssl.SSLContext | bool = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            fail("the server stopped during start-up (see the log above)")
        try:
            if httpx.get(f"{url}/healthz", timeout=2, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    fail(f"the server did not become healthy within {timeout:.0f}s")


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("agent")(agent)
    app.command("up")(up)
