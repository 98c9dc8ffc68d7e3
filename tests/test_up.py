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
    data_dir: Path, sim_hosts: int, driver: str = "sim", path: str | None = None
) -> tuple[subprocess.Popen[str], int, str]:
    """``novacron up`` as a user runs it; returns once it printed its banner."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVACRON_")}
    if path is not None:
        env["PATH"] = path
    driver_args = [] if driver == "auto" else ["--driver", driver]
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
            "--sim-hosts",
            str(sim_hosts),
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
        assert any("agent" in " ".join(c.cmdline()) for c in children)

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
