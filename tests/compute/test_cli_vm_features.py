"""``novacron vm`` beyond power: create's network, cloud-init and restart options, ``vm set``,
``vm snapshot …``, ``vm console``, ``vm resize|clone|stats``.

Against a real cluster with the sim driver, which has no snapshots, console, statistics,
resize or clone: there the tests check what is sent and that each failure is one clear
line. The console's reading and following are checked against a small canned server
that speaks the console API; the real-QEMU end-to-end tests live with the driver's.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from novacron.compute.cli import console
from novacron.compute.cli.vm_spec import (
    cloud_init_body,
    fmt_forward,
    network_body,
    parse_port,
    ssh_keys,
    vm_for_table,
)
from novacron.core.errors import NovaCronError
from novacron.testing.cli import CLI, add_snapshot_record, lines_of
from novacron.testing.cluster import Cluster

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGv9Yk0TestKeyOnlyForTests me@laptop"
KEY2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDtestkey+/= other@host"


@pytest.fixture
def cli(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> CLI:
    monkeypatch.delenv("NOVACRON_TOKEN", raising=False)
    monkeypatch.delenv("NOVACRON_URL", raising=False)
    return CLI(cluster.url, cluster.token)


def stored_cloud_init(cluster: Cluster, vm_id: str) -> Any:
    """What the server stored (the API does not return cloud-init: it may hold secrets)."""
    from novacron.compute.models import VM
    from novacron.core.database import Database

    db = Database(cluster.settings.resolved_database_url)
    try:
        with db.read() as s:
            vm = s.get(VM, vm_id)
            assert vm is not None
            return vm.cloud_init
    finally:
        db.dispose()


# -- parsing, without a server -------------------------------------------------------------


def test_parse_port() -> None:
    assert parse_port("8080:80") == {"host_port": 8080, "guest_port": 80, "proto": "tcp"}
    assert parse_port("5353:53/udp") == {"host_port": 5353, "guest_port": 53, "proto": "udp"}
    assert parse_port("0.0.0.0:2222:22/TCP") == {
        "host_port": 2222,
        "guest_port": 22,
        "proto": "tcp",
        "host_addr": "0.0.0.0",
    }
    bad = {
        "abc": "expected [ADDR:]HOST:GUEST[/tcp|/udp]",
        "80": "expected [ADDR:]HOST:GUEST",
        ":80": "expected [ADDR:]HOST:GUEST",
        "1:2:3:4": "expected [ADDR:]HOST:GUEST",
        "abc:80": "host port 'abc' is not 1-65535",
        "8080:0": "guest port '0' is not 1-65535",
        "70000:80": "host port '70000' is not 1-65535",
        "8080:80/sctp": "protocol must be tcp or udp",
        "localhost:8080:80": "'localhost' is not an IPv4 address",
    }
    for raw, why in bad.items():
        with pytest.raises(NovaCronError) as info:
            parse_port(raw)
        assert str(info.value).startswith(f"invalid --port {raw!r}: "), info.value
        assert why in str(info.value)


def test_network_body() -> None:
    assert network_body(None, None) is None
    assert network_body(["8080:80"], None) == {
        "mode": "user",
        "forwards": [{"host_port": 8080, "guest_port": 80, "proto": "tcp"}],
    }
    assert network_body([], "br0") == {"mode": "bridge", "bridge": "br0"}
    with pytest.raises(NovaCronError, match="need user-mode networking"):
        network_body(["8080:80"], "br0")


def test_ssh_keys_and_cloud_init(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.pub"
    keys_file.write_text(f"# mine\n{KEY}\n\n{KEY2}\n")
    assert ssh_keys([KEY, str(keys_file)]) == [KEY, KEY, KEY2]

    private = tmp_path / "id_ed25519"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n-----END ...\n")
    with pytest.raises(NovaCronError, match=r"that is a private key, give its \.pub"):
        ssh_keys([str(private)])
    empty = tmp_path / "empty.pub"
    empty.write_text("# nothing\n")
    with pytest.raises(NovaCronError, match="holds no SSH public key"):
        ssh_keys([str(empty)])
    with pytest.raises(NovaCronError, match="no such file, and not an SSH public key"):
        ssh_keys(["ssh-ed25519"])  # a type without a key
    with pytest.raises(NovaCronError, match="is a directory"):
        ssh_keys([str(tmp_path)])

    user_data = tmp_path / "user-data"
    user_data.write_text("#cloud-config\npackages: [nginx]\n")
    assert cloud_init_body(None, None, None) is None
    assert cloud_init_body([KEY], user_data, "web-1") == {
        "hostname": "web-1",
        "ssh_authorized_keys": [KEY],
        "user_data": "#cloud-config\npackages: [nginx]\n",
    }
    with pytest.raises(NovaCronError, match=r"invalid --user-data '.*nope': no such file"):
        cloud_init_body(None, tmp_path / "nope", None)
    binary = tmp_path / "blob"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NovaCronError, match="not UTF-8 text"):
        cloud_init_body(None, binary, None)


def test_vm_for_table_spells_out_the_network() -> None:
    vm = {
        "name": "web",
        "restart_policy": "on-failure",
        "network": {
            "mode": "user",
            "forwards": [
                {"host_port": 8080, "guest_port": 80, "proto": "tcp", "host_addr": "127.0.0.1"},
                {"host_port": 5353, "guest_port": 53, "proto": "udp", "host_addr": "0.0.0.0"},
            ],
            "bridge": None,
        },
        "fault": "",
    }
    assert vm_for_table(vm) == {
        "name": "web",
        "restart_policy": "on-failure",
        "network": "user-mode NAT",
        "ports": "127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp",
        "fault": "",
    }
    bridged = vm_for_table({"network": {"mode": "bridge", "bridge": "br0", "forwards": []}})
    assert bridged == {"network": "bridge br0", "ports": ""}
    assert fmt_forward({"host_port": 1, "guest_port": 2}) == "127.0.0.1:1->2/tcp"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CLI:
    """A CLI whose server does not exist: anything sent would fail differently."""
    for var in ("NOVACRON_TOKEN", "NOVACRON_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NOVACRON_DATA_DIR", str(tmp_path / "data"))
    return CLI("http://127.0.0.1:9", "t")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--port", "abc"], "error: invalid --port 'abc': expected [ADDR:]HOST:GUEST[/tcp|/udp]"),
        (["--port", "8080:80", "--bridge", "br0"], "error: --port forwards need user-mode"),
        (["--ssh-key", "/no/such/key.pub"], "error: invalid --ssh-key '/no/such/key.pub': no"),
        (["--user-data", "/no/such/file"], "error: invalid --user-data '/no/such/file': no"),
    ],
)
def test_bad_create_values_fail_before_any_request(
    offline: CLI, args: list[str], line: str
) -> None:
    got = offline.error("vm", "create", "web", "--vcpus", "1", "--memory", "64", *args)
    assert got.startswith(line), got


def test_nothing_to_change_fails_before_any_request(offline: CLI) -> None:
    assert offline.error("vm", "resize", "web") == (
        "error: nothing to change: give --vcpus, --memory or --disk"
    )
    assert offline.error("vm", "set", "web") == (
        "error: nothing to change: give --restart POLICY or --ha/--no-ha"
    )


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def novacron(offline: CLI, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """The console script in-process: usage errors are one line and exit 2."""
    from novacron.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main([*offline.argv, *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["vm", "create", "x", "--vcpus", "1", "--memory", "64", "--restart", "sometimes"],
            "error: invalid value for '--restart': 'sometimes' is not a restart policy "
            "(one of: never, on-failure, always)",
        ),
        (
            ["vm", "set", "x", "--restart", "maybe"],
            "error: invalid value for '--restart': 'maybe' is not a restart policy "
            "(one of: never, on-failure, always)",
        ),
        (["vm", "console", "x", "--tail", "-5"], "error: invalid value for '--tail'"),
        (["vm", "resize", "x", "--vcpus", "two"], "error: invalid value for '--vcpus': 'two'"),
        (["vm", "snapshot", "create", "x"], "error: missing argument 'snapshot'"),
        (["vm", "clone", "x"], "error: missing argument 'new_name'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    novacron: Callable[..., Run], args: list[str], line: str
) -> None:
    run = novacron(*args)
    assert run.code == 2, run
    assert len(lines_of(run.stderr)) == 1, run.stderr
    assert run.stderr.startswith(line), run.stderr
    assert run.stdout == ""


# -- against a sim cluster ---------------------------------------------------------------------


def test_create_with_network_cloud_init_and_restart_policy(
    cli: CLI, cluster: Cluster, tmp_path: Path
) -> None:
    keys = tmp_path / "id.pub"
    keys.write_text(KEY2 + "\n")
    user_data = tmp_path / "user-data.yaml"
    user_data.write_text("#cloud-config\nruncmd: [touch /ok]\n")
    args = ["vm", "create", "web", "--vcpus", "1", "--memory", "256", "--disk", "1"]
    args += ["--port", "8080:80", "--port", "0.0.0.0:5353:53/udp", "--restart", "on-failure"]
    args += ["--ssh-key", KEY, "--ssh-key", str(keys), "--user-data", str(user_data)]
    args += ["--hostname", "web-1", "--kernel-args", "console=ttyS0 quiet"]
    vm = cli.json(*args)

    assert vm["state"] == "running"
    assert vm["restart_policy"] == "on-failure"
    assert vm["kernel_args"] == "console=ttyS0 quiet"
    assert vm["network"]["mode"] == "user"
    assert vm["network"]["forwards"] == [
        {"host_port": 8080, "guest_port": 80, "proto": "tcp", "host_addr": "127.0.0.1"},
        {"host_port": 5353, "guest_port": 53, "proto": "udp", "host_addr": "0.0.0.0"},
    ]
    assert stored_cloud_init(cluster, vm["id"]) == {
        "hostname": "web-1",
        "ssh_authorized_keys": [KEY, KEY2],
        "user_data": "#cloud-config\nruncmd: [touch /ok]",  # the server strips whitespace
    }

    # JSON is exactly the API's answer; the table spells the network out.
    assert cli.json("vm", "show", "web") == cluster.api.get("/vms/web").json()
    table = cli("vm", "show", "web").stdout
    assert "restart_policy" in table and "on-failure" in table
    assert "127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp" in table
    assert "user-mode NAT" in table

    # Without the new options nothing new is sent: the server's defaults hold.
    plain = cli.json("vm", "create", "plain", "--vcpus", "1", "--memory", "64", "--disk", "1")
    assert plain["restart_policy"] == "never"
    assert plain["network"] == {"mode": "user", "forwards": [], "bridge": None}
    assert plain["kernel_args"] == ""
    assert stored_cloud_init(cluster, plain["id"]) is None

    # Bridge mode needs a host with that bridge (a trait no sim host has): it fails, and says.
    line = cli.error(*args[:2], "bridged", "--vcpus", "1", "--memory", "64", "--bridge", "br0")
    assert line.startswith("error: vm.create failed: no host fits"), line
    assert "VM bridged is kept in state error" in line
    bridged = cli.json("vm", "show", "bridged")
    assert bridged["network"] == {"mode": "bridge", "forwards": [], "bridge": "br0"}
    assert "bridge:br0" in bridged["required_traits"]
    assert "bridge br0" in cli("vm", "show", "bridged").stdout

    # The server's own checks are one line too, and nothing is created.
    line = cli.error(
        "vm",
        "create",
        "dup",
        "--vcpus",
        "1",
        "--memory",
        "64",
        "--port",
        "80:80",
        "--port",
        "80:81",
    )
    assert "host port 80/tcp is forwarded twice" in line
    line = cli.error("vm", "create", "hn", "--vcpus", "1", "--memory", "64", "--hostname", "a_b")
    assert line.startswith("error: invalid request: cloud_init.hostname: ")
    assert cluster.api.get("/vms", params={"name": "dup"}).json()["total"] == 0


def test_set_restart_policy_and_show_the_fault(cli: CLI, cluster: Cluster) -> None:
    cluster.create_vm("web")
    vm = cli.json("vm", "set", "web", "--restart", "always")
    assert vm["restart_policy"] == "always"
    assert cluster.api.get("/vms/web").json()["restart_policy"] == "always"
    table = cli("vm", "set", "web", "--restart", "never").stdout
    assert "restart_policy" in table and "never" in table and "always" not in table
    assert cli.error("vm", "set", "nope", "--restart", "always") == "error: no VM 'nope'"

    # A crash (injected through the sim agent) shows as state and fault in `vm show`.
    from novacron.agent.client import agent_client

    url, secret = cluster.agent_api()
    vm = cluster.api.get("/vms/web").json()
    with agent_client(url, secret, 10) as agent:
        agent.crash_vm(vm["host_name"], vm["id"])

    def crashed() -> dict[str, Any] | None:
        shown = cli.json("vm", "show", "web")
        return shown if shown["state"] == "crashed" else None

    shown = wait_for(crashed)
    assert shown["fault"]
    table = cli("vm", "show", "web").stdout
    assert "crashed" in table and shown["fault"] in table


def wait_for(fn: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_snapshots_on_a_driver_without_them(cli: CLI, cluster: Cluster) -> None:
    vm = cluster.create_vm("web")
    unsupported = f"error: host {vm['host_name']} (sim driver) does not support snapshots"
    assert cli.json("vm", "snapshot", "list", "web") == []
    assert cli("vm", "snapshot", "list", "web").stdout.strip() == "no snapshots"
    # Refused up front, before any operation.
    assert cli.error("vm", "snapshot", "create", "web", "before-upgrade") == unsupported
    assert cli.error("vm", "snapshot", "create", "web", "s2", "--no-wait") == unsupported
    line = cli.error("vm", "snapshot", "create", "web", "bad name")
    assert line.startswith("error: invalid request: name: ")
    assert cli.error("vm", "snapshot", "revert", "web", "s9") == (
        "error: VM web has no snapshot 's9'"
    )
    assert cli.error("vm", "snapshot", "delete", "web", "s9") == (
        "error: VM web has no snapshot 's9'"
    )
    assert cli.error("vm", "snapshot", "list", "nope") == "error: no VM 'nope'"

    # With snapshots on record: listed; reverting is refused; deleting is an operation,
    # which the sim driver fails: one line that says where and why.
    add_snapshot_record(cluster.settings.resolved_database_url, vm["id"], "s1", 3 << 20)
    add_snapshot_record(cluster.settings.resolved_database_url, vm["id"], "s2", 3 << 20)
    listed = cli.json("vm", "snapshot", "list", "web")
    assert [x["name"] for x in listed] == ["s1", "s2"]
    table = cli("vm", "snapshot", "list", "web").stdout
    assert "NAME" in table and "s1" in table and "3 MiB" in table and "running" in table
    assert cli.error("vm", "snapshot", "revert", "web", "s1") == unsupported
    line = cli.error("vm", "snapshot", "delete", "web", "s1", "--yes")
    assert line.startswith("error: vm.snapshot failed: "), line
    assert "sim driver does not support snapshots" in line
    op = cli.json("vm", "snapshot", "delete", "web", "s2", "--no-wait")
    assert op["kind"] == "vm.snapshot" and op["params"]["mode"] == "delete"
    assert op["params"]["name"] == "s2"
    assert cluster.wait_op(op)["state"] == "failed"
    assert cli.json("vm", "show", "web")["state"] == "running"  # the VM is as it was


def test_console_stats_resize_clone_on_the_sim_driver(cli: CLI, cluster: Cluster) -> None:
    vm = cluster.create_vm("web")
    host = f"host {vm['host_name']} (sim driver)"
    # Following starts with a plain read, so a VM without a console fails at once, plainly.
    refused = f"error: {host} does not support a console"
    assert cli.error("vm", "console", "web") == refused
    assert cli.error("vm", "console", "web", "--no-follow") == refused
    assert cli.error("vm", "console", "web", "--tail", "100") == refused
    assert cli.error("-o", "json", "vm", "console", "web") == refused
    assert cli.error("vm", "stats", "web") == f"error: {host} does not support stats"
    assert cli.error("vm", "console", "nope") == "error: no VM 'nope'"

    assert cli.error("vm", "resize", "web", "--disk", "2") == (
        f"error: {host} does not support resizing VMs"
    )
    assert cli.error("vm", "resize", "web", "--vcpus", "2") == (
        "error: stop VM web before changing vcpus (it is running)"
    )
    line = cli.error("vm", "resize", "web", "--memory", "1")
    assert line.startswith("error: invalid request: memory_mib: ")
    line = cli.error("vm", "resize", "web", "--disk", "0")
    assert line.startswith("error: invalid request: disk_gib: ")

    assert cli.error("vm", "clone", "web", "web-2") == f"error: {host} does not support clones"
    line = cli.error("vm", "clone", "web", "not valid!")
    assert line.startswith("error: invalid request: name: ")
    assert cli.json("vm", "list", "--name", "web-2")["items"] == []


# -- the console against a canned server ---------------------------------------------------------


@dataclass
class FakeConsole:
    """``GET /api/v1/vms/web/console`` as the server answers it: pages with
    ``X-Console-Offset``, or (``follow=true``) a stream of what comes after ``offset``."""

    log: bytes
    more: list[bytes] = field(default_factory=list)
    url: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def fake_console() -> Iterator[FakeConsole]:
    fake = FakeConsole(log=b"")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            fake.queries.append(query)
            if parts.path != "/api/v1/vms/web/console":
                self.send_error(404)
                return
            offset = int(query.get("offset", "0"))
            size = len(fake.log)
            start = max(0, size + offset) if offset < 0 else min(offset, size)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            if query.get("follow") != "true":
                data = fake.log[start : start + int(query.get("limit", "65536"))]
                self.send_header("X-Console-Offset", str(start + len(data)))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            try:
                self.wfile.write(fake.log[start:])
                for piece in fake.more:
                    self.wfile.flush()
                    time.sleep(0.05)
                    self.wfile.write(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client left (Ctrl-C)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_console_prints_then_follows_from_exactly_there(fake_console: FakeConsole) -> None:
    fake_console.log = b"SeaBIOS\r\nbooting \xe2\x9c\x93\r\n"
    fake_console.more = [b"login: ", b"\xe2", b"\x9c\x93\n"]  # a character split in two
    cli = CLI(fake_console.url, "t")

    result = cli("vm", "console", "web")
    assert result.stdout_bytes == fake_console.log + b"".join(fake_console.more)
    read, followed = fake_console.queries
    assert read == {"offset": "0", "limit": str(console.PAGE)}
    assert followed == {"offset": str(len(fake_console.log)), "follow": "true"}

    fake_console.queries.clear()
    result = cli("vm", "console", "web", "--no-follow", "--tail", "9")
    assert result.stdout_bytes == fake_console.log[-9:]
    assert fake_console.queries == [{"offset": "-9", "limit": str(console.PAGE)}]

    # --tail 0: only what comes next.
    fake_console.queries.clear()
    result = cli("vm", "console", "web", "--tail", "0")
    assert result.stdout_bytes == b"".join(fake_console.more)
    assert fake_console.queries[-1] == {"offset": str(len(fake_console.log)), "follow": "true"}

    # JSON: one document without following, one line per piece when following.
    doc = cli.json("vm", "console", "web", "--no-follow")
    assert doc == {"output": "SeaBIOS\r\nbooting ✓\r\n", "next_offset": len(fake_console.log)}
    out = cli("-o", "json", "vm", "console", "web").stdout
    pieces = [json.loads(line) for line in out.splitlines()]
    assert "".join(p["output"] for p in pieces) == "SeaBIOS\r\nbooting ✓\r\nlogin: ✓\n"
    total = len(fake_console.log) + sum(len(m) for m in fake_console.more)
    assert pieces[-1]["next_offset"] == total


def test_console_reads_a_long_log_page_by_page(
    fake_console: FakeConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "PAGE", 10)
    fake_console.log = bytes(range(48, 48 + 25))  # 25 bytes: pages of 10, 10, 5
    result = CLI(fake_console.url, "t")("vm", "console", "web", "--no-follow")
    assert result.stdout_bytes == fake_console.log
    assert [q["offset"] for q in fake_console.queries] == ["0", "10", "20"]


def test_console_ctrl_c_exits_130_quietly(
    fake_console: FakeConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_console.log = b"hello\n"
    fake_console.more = [b"more\n"] * 3

    original = console.RawOutput.__call__

    def interrupted(self: console.RawOutput, data: bytes, after: int) -> None:
        if after > len(fake_console.log):  # the first piece that was followed: Ctrl-C
            raise KeyboardInterrupt
        original(self, data, after)

    monkeypatch.setattr(console.RawOutput, "__call__", interrupted)
    result = CLI(fake_console.url, "t")("vm", "console", "web", ok=False)
    assert result.exit_code == 130, (result.stdout, result.stderr, result.exception)
    assert result.stdout == "hello\n"
    assert result.stderr == ""


def test_console_server_gone_is_one_line(offline: CLI) -> None:
    line = offline.error("vm", "console", "web")
    assert line == "error: cannot reach NovaCron at http://127.0.0.1:9: is the server running?"


def test_console_drops_terminal_queries_on_a_terminal(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    # A guest shell asks the terminal where its cursor is (ESC[6n); a real terminal would
    # answer by typing into the user's shell. Colours and the rest pass through.
    out = console.RawOutput(tty=True)
    for piece in (b"web:/# \x1b[6n\x1b[1mbold\x1b[0m \x1b", b"[c", b"\x1b[>c", b"ok\n\x1b["):
        out(piece, 0)
    out.close(0)
    assert capsysbinary.readouterr().out == b"web:/# \x1b[1mbold\x1b[0m ok\n\x1b["
    raw = console.RawOutput(tty=False)
    raw(b"\x1b[6n", 0)
    assert capsysbinary.readouterr().out == b"\x1b[6n"
