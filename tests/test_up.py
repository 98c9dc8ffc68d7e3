"""``novacron up``: one command starts a server and a local agent, and Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from novacron.testing.cluster import free_port, wait_until

pytestmark = pytest.mark.slow


def start_up(
    data_dir: Path,
    sim_hosts: int | None,
    driver: str = "sim",
    path: str | None = None,
    args: tuple[str, ...] = (),
) -> tuple[subprocess.Popen[str], int, str]:
    """``novacron up`` as a user runs it; returns once it printed its banner (or exited)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVACRON_")}
    if path is not None:
        env["PATH"] = path
    driver_args = [] if driver == "auto" else ["--driver", driver]
    if sim_hosts is not None:
        driver_args += ["--sim-hosts", str(sim_hosts)]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "novacron",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            *driver_args,
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops" in line and "sim hosts" in line:  # the sim banner's last line
            break
        if "No guest image yet" in line:  # the qemu banner's last line
            break
    return proc, port, "".join(lines)


def test_up_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc, port, output = start_up(data_dir, 2)
    try:
        assert f"dashboard http://127.0.0.1:{port}/" in output
        token_file = data_dir / "admin-token"
        assert f"Admin token: {token_file}" in output
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "novacron.db").stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        wait_until(lambda: api.get("/hosts").json()["total"] == 2, 30, what="local agent")
        hosts = api.get("/hosts").json()["items"]
        assert [h["name"] for h in hosts] == ["local-001", "local-002"]
        assert all(h["state"] == "up" and h["driver"] == "sim" for h in hosts)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert agent_processes(proc)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert (data_dir / "novacron.db").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_up_refuses_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "novacron",
                "up",
                "--data-dir",
                str(tmp_path),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: port {port} on 127.0.0.1 is in use: pass --port"


def test_up_reissues_a_lost_admin_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    def start_and_stop() -> None:
        proc, _, _ = start_up(data_dir, 1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0

    start_and_stop()
    first = (data_dir / "admin-token").read_text()
    (data_dir / "admin-token").unlink()
    start_and_stop()
    second = (data_dir / "admin-token").read_text()
    assert second and second != first


@pytest.mark.qemu
def test_up_runs_real_vms_when_qemu_is_installed(tmp_path: Path, needs_qemu: None) -> None:
    """No ``--driver``: with QEMU installed the local host is a QEMU host, and up says
    which accelerator it chose and why."""
    data_dir = tmp_path / "data"
    proc, port, output = start_up(data_dir, 1, driver="auto")
    try:
        assert "Local agent runs real VMs with QEMU" in output, output
        assert re.search(r"Accelerator: (kvm|tcg) \(.+\)", output), output
        token = (data_dir / "admin-token").read_text().strip()
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        hosts = api.get("/hosts").json()["items"]
        assert [(h["name"], h["driver"]) for h in hosts] == [("local", "qemu")]
        assert hosts[0]["labels"]["accel"] in ("kvm", "tcg")
        assert (data_dir / "agent").is_dir()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_up_falls_back_to_sim_and_says_so_without_qemu(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc, _port, output = start_up(tmp_path / "data", 2, driver="auto", path=str(empty))
    try:
        assert "QEMU not installed" in output and "uses the sim driver" in output, output
        assert "Local agent with 2 sim hosts" in output
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def run_up(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``novacron up`` that is expected to give up: its exit code and output."""
    port = str(free_port())
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "novacron",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            port,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def api_client(data_dir: Path, port: int) -> httpx.Client:
    token = (data_dir / "admin-token").read_text().strip()
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"}
    )


def agent_processes(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    """The agent processes under ``novacron up`` (short-lived helpers it runs, such as an
    accelerator probe, may have exited or be zombies awaiting their parent: skipped)."""
    agents = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            cmdline = child.cmdline()
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
        if "agent" in cmdline[2:4] and "novacron" in cmdline:
            agents.append(child)
    return agents


def option(cmdline: list[str], name: str) -> str:
    return cmdline[cmdline.index(name) + 1]


def stop_up(proc: subprocess.Popen[str], agents: list[psutil.Process]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not any(a.is_running() and a.status() != psutil.STATUS_ZOMBIE for a in agents)


def test_up_hosts_means_sim_hosts_with_the_sim_driver(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc, port, output = start_up(data_dir, None, args=("--hosts", "3"))
    try:
        assert "Local agent with 3 sim hosts" in output, output
        listed = re.findall(r"^  (\S+)\s+sim\s+\(simulated", output, re.MULTILINE)
        assert listed == ["local-001", "local-002", "local-003"], output
        api = api_client(data_dir, port)
        wait_until(lambda: api.get("/hosts").json()["total"] == 3, 30, what="3 sim hosts")
        hosts = api.get("/hosts").json()["items"]
        assert sorted(h["name"] for h in hosts) == ["local-001", "local-002", "local-003"]
        assert all(h["state"] == "up" and h["driver"] == "sim" for h in hosts)
        agents = agent_processes(proc)
        assert len(agents) == 1  # one sim agent simulates all of them
        assert option(agents[0].cmdline(), "--sim-hosts") == "3"
        stop_up(proc, agents)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_up_refuses_hosts_and_sim_hosts_that_disagree(tmp_path: Path) -> None:
    result = run_up(tmp_path, "--driver", "sim", "--hosts", "2", "--sim-hosts", "3")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: --hosts 2 and --sim-hosts 3 disagree: with the sim driver they are the same "
        "number, give one of them"
    )
    assert not (tmp_path / "novacron.db").exists()  # refused before starting anything


@pytest.mark.qemu
def test_up_runs_one_qemu_agent_per_host(tmp_path: Path, needs_qemu: None) -> None:
    """``--hosts 2``: two QEMU hosts, each its own agent, data dir and port, told the
    accelerator that ``up`` probed once; both heartbeat, and a second ``up`` takes the
    same hosts back."""
    data_dir = tmp_path / "data"
    proc, port, output = start_up(data_dir, None, driver="qemu", args=("--hosts", "2"))
    try:
        assert "2 local agents run real VMs with QEMU" in output, output
        assert re.search(r"Accelerator: (kvm|tcg) \(.+\), chosen once for all hosts", output)
        listed = re.findall(r"^  (local-\d)\s+qemu\s+(kvm|tcg)\s+data in (.+)$", output, re.M)
        assert [(n, d) for n, _, d in listed] == [
            ("local-1", str(data_dir / "agents" / "local-1")),
            ("local-2", str(data_dir / "agents" / "local-2")),
        ], output

        api = api_client(data_dir, port)
        hosts = {h["name"]: h for h in api.get("/hosts").json()["items"]}
        assert sorted(hosts) == ["local-1", "local-2"]
        assert all(h["driver"] == "qemu" and h["state"] == "up" for h in hosts.values())
        assert hosts["local-1"]["agent_id"] != hosts["local-2"]["agent_id"]
        first = {name: h["last_heartbeat_at"] for name, h in hosts.items()}

        def both_heartbeat_again() -> bool:
            now = {h["name"]: h["last_heartbeat_at"] for h in api.get("/hosts").json()["items"]}
            return all(now[name] != first[name] for name in first)

        wait_until(both_heartbeat_again, 20, interval=0.3, what="a heartbeat from both hosts")

        agents = agent_processes(proc)
        cmdlines = sorted((a.cmdline() for a in agents), key=lambda c: option(c, "--name"))
        assert [option(c, "--name") for c in cmdlines] == ["local-1", "local-2"]
        assert [option(c, "--data-dir") for c in cmdlines] == [
            str(data_dir / "agents" / "local-1"),
            str(data_dir / "agents" / "local-2"),
        ]
        # The probe ran once in up: every agent got the verdict, none probes on its own.
        verdicts = {option(c, "--accel") for c in cmdlines}
        assert len(verdicts) == 1 and verdicts <= {"kvm", "tcg"}, verdicts
        assert verdicts == {h["labels"]["accel"] for h in hosts.values()}
        ports = {
            c.laddr.port for a in agents for c in a.net_connections("tcp") if c.status == "LISTEN"
        }
        assert len(ports) == 2
        assert (data_dir / "agents" / "local-1").is_dir()
        assert (data_dir / "agents" / "local-2").is_dir()
        assert not (data_dir / "agent").exists()
        stop_up(proc, agents)

        # Again: the same two hosts come back (each agent re-attaches from its data dir).
        proc, port, output = start_up(data_dir, None, driver="qemu", args=("--hosts", "2"))
        assert "2 local agents run real VMs with QEMU" in output, output
        api = api_client(data_dir, port)
        again = {h["name"]: h for h in api.get("/hosts").json()["items"]}
        assert {n: h["id"] for n, h in again.items()} == {n: h["id"] for n, h in hosts.items()}
        assert all(h["state"] == "up" for h in again.values())
        stop_up(proc, agent_processes(proc))
    finally:
        if proc.poll() is None:
            proc.kill()


def test_up_names_the_agent_that_failed_and_stops_the_others(tmp_path: Path) -> None:
    """One of three QEMU agents cannot start (its data dir is a file): up says which and
    why in its last line, exits 1 and leaves no agent running. Stub QEMU binaries are
    enough: the failing agent stops before it would run them, and ``--accel tcg`` skips
    the probe."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for binary in ("qemu-system-x86_64", "qemu-img"):
        (stubs / binary).write_text("#!/bin/sh\nexit 0\n")
        (stubs / binary).chmod(0o755)
    data_dir = tmp_path / "data"
    (data_dir / "agents").mkdir(parents=True)
    (data_dir / "agents" / "local-2").write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVACRON_")}
    env["PATH"] = f"{stubs}:{env.get('PATH', '')}"
    result = run_up(data_dir, "--driver", "qemu", "--hosts", "3", "--accel", "tcg", env=env)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: agent local-2 exited: "), result.stderr
    assert str(data_dir / "agents" / "local-2") in last
    assert last.endswith("; stopped NovaCron and the other local agents"), last
    assert "NovaCron is up" not in result.stdout
    left = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
