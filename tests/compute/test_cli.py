"""The user CLI (``novacron vm|host|op|image|group``), first without a server.

Unit tests of ``core.cli_support`` and of the commands against a closed port or a tiny
canned HTTP server on 127.0.0.1; end-to-end tests against a real cluster live in
``test_cli_e2e.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from novacron import __version__
from novacron.cli import app
from novacron.compute.states import ALL_STATES
from novacron.core import cli_support
from novacron.core.cli_support import (
    CLIContext,
    current_step,
    fail,
    fmt_mib,
    format_error,
    format_loc,
    parse_key_values,
    resolve_token,
)
from novacron.core.errors import Invalid, InvalidState, NovaCronError, from_problem


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for var in ("NOVACRON_TOKEN", "NOVACRON_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NOVACRON_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


# -- pure helpers -----------------------------------------------------------------------------


def test_parse_key_values() -> None:
    assert parse_key_values(["a=1", "b=x=y", "c="], "--label") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_key_values(None, "--label") == {}
    for bad in ("novalue", "=v", " =v"):
        with pytest.raises(NovaCronError, match="expected KEY=VALUE"):
            parse_key_values([bad], "--label")


def test_format_loc() -> None:
    assert format_loc(["body", "vcpus"]) == "vcpus"
    assert format_loc(["body", "labels", "k"]) == "labels.k"
    assert format_loc(["body", "traits", 0]) == "traits[0]"
    assert format_loc(["query", "limit"]) == "limit"
    assert format_loc(["body"]) == "body"


def test_format_error_with_field_paths_is_one_line() -> None:
    problem = {
        "type": "https://novacron.dev/problems/invalid",
        "title": "Invalid request",
        "status": 422,
        "detail": "invalid request",
        "errors": [
            {"loc": ["body", "vcpus"], "msg": "Input should be greater than or equal to 1"},
            {"loc": ["body", "name"], "msg": "String should match\npattern"},
        ],
    }
    exc = from_problem(problem)
    assert isinstance(exc, Invalid)
    assert format_error(exc) == (
        "invalid request: vcpus: Input should be greater than or equal to 1; "
        "name: String should match pattern"
    )
    # A detail that already names the fields is not repeated.
    err = Invalid("vcpus: too small", errors=[{"loc": ["body", "vcpus"], "msg": "too small"}])
    assert format_error(err) == "invalid request: vcpus: too small"
    err = Invalid("not JSON", errors=[{"loc": ["body", 3], "msg": "JSON decode error"}])
    assert format_error(err) == "invalid request: not JSON: [3]: JSON decode error"
    assert format_error(InvalidState("cannot pause a VM that is stopped")) == (
        "cannot pause a VM that is stopped"
    )


def test_fail_prints_one_line_and_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        fail("something\nwent   wrong")
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: something went wrong\n"
    with pytest.raises(SystemExit) as info:
        fail("interrupted", 130)
    assert info.value.code == 130


def test_token_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOVACRON_DATA_DIR", str(tmp_path))
    with pytest.raises(NovaCronError) as info:
        resolve_token(None)
    assert str(info.value) == (
        "no API token: set NOVACRON_TOKEN or pass --token "
        f"(novacron up writes one to {tmp_path / 'admin-token'})"
    )
    (tmp_path / "admin-token").write_text("file-token\n")
    assert resolve_token(None) == "file-token"
    assert resolve_token("explicit") == "explicit"


def test_token_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOVACRON_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    (tmp_path / "novacron").mkdir()
    (tmp_path / "novacron" / "admin-token").write_text("xdg-token")
    assert resolve_token(None) == "xdg-token"


def test_current_step_and_formatting() -> None:
    op = {
        "kind": "vm.create",
        "steps": [
            {"name": "schedule", "state": "succeeded"},
            {"name": "create-on-host", "state": "running"},
            {"name": "start", "state": "pending"},
        ],
    }
    assert current_step(op) == "create-on-host"
    assert current_step({"kind": "vm.stop", "steps": []}) == "vm.stop"
    assert fmt_mib(512) == "512 MiB"
    assert fmt_mib(2048) == "2 GiB"
    assert fmt_mib(1536) == "1.5 GiB"


# -- commands without a server ----------------------------------------------------------------


def test_bad_label_fails_before_any_request(runner: CliRunner) -> None:
    # No token and no server: the label error must come first, as one line.
    result = runner.invoke(
        app, ["vm", "create", "web", "--vcpus", "1", "--memory", "64", "--label", "oops"]
    )
    assert result.exit_code == 1
    assert error_lines(result.stderr) == ["error: invalid --label 'oops': expected KEY=VALUE"]
    assert result.stdout == ""

    result = runner.invoke(
        app, ["vm", "create", "web", "--vcpus", "1", "--memory", "64", "--host-label", "=x"]
    )
    assert result.exit_code == 1
    assert error_lines(result.stderr) == ["error: invalid --host-label '=x': expected KEY=VALUE"]


def test_missing_token_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["vm", "list"])
    assert result.exit_code == 1
    lines = error_lines(result.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("error: no API token: set NOVACRON_TOKEN or pass --token")
    assert str(tmp_path / "data" / "admin-token") in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["vm", "list"],
        ["vm", "show", "web"],
        ["vm", "create", "web", "--vcpus", "1", "--memory", "64"],
        ["vm", "delete", "web"],
        ["host", "list"],
        ["host", "maintenance", "on", "h1"],
        ["op", "list"],
        ["op", "wait", "op-1"],
        ["image", "list"],
        ["group", "create", "g", "--policy", "anti-affinity"],
    ],
)
def test_unreachable_server_is_one_line(runner: CliRunner, args: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = runner.invoke(app, ["--url", url, "--token", "t", *args])
    assert result.exit_code == 1, result.output
    assert error_lines(result.stderr) == [
        f"error: cannot reach NovaCron at {url}: is the server running?"
    ]
    assert result.stdout == ""


# -- commands against a canned API ------------------------------------------------------------


@dataclass
class FakeAPI:
    """A few canned ``/api/v1`` answers on 127.0.0.1, recording every request."""

    url: str = ""
    routes: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        """Answer ``method path`` with ``answers`` in turn; the last one repeats."""
        self.routes[(method, f"/api/v1{path}")] = list(answers)


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    api = FakeAPI()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            api.requests.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "auth": self.headers.get("Authorization"),
                    "json": json.loads(body) if body else None,
                }
            )
            answers = api.routes.get((self.command, path))
            status, payload = (
                (answers.pop(0) if len(answers) > 1 else answers[0])
                if answers
                else (404, {"type": "https://novacron.dev/problems/not-found", "detail": path})
            )
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            ctype = "application/problem+json" if status >= 400 else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


VM = {
    "id": "vm-1",
    "name": "web",
    "project_id": "p",
    "state": "running",
    "vcpus": 2,
    "memory_mib": 2048,
    "disk_gib": 10,
    "image_id": None,
    "group_id": None,
    "host_id": "h-1",
    "host_name": "sim-1",
    "labels": {"tier": "web"},
    "required_traits": [],
    "task_operation_id": None,
    "fault": "",
    "actions": ["stop", "reboot", "pause", "delete"],
    "created_at": "2025-01-02T03:04:05Z",
    "updated_at": "2025-01-02T03:04:06Z",
}


def op(state: str, progress: int = 0, error: str = "", kind: str = "vm.create") -> dict[str, Any]:
    return {
        "id": "op-1",
        "kind": kind,
        "target_type": "vm",
        "target_id": "vm-1",
        "state": state,
        "progress": progress,
        "steps": [{"name": "schedule", "state": "running"}],
        "params": {},
        "result": {},
        "error": error,
        "requested_by": "admin",
        "attempts": 1,
        "created_at": "2025-01-02T03:04:05Z",
        "started_at": None,
        "finished_at": None,
    }


def test_token_from_file_is_sent(runner: CliRunner, fake_api: FakeAPI, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "admin-token").write_text("from-file\n")
    fake_api.on("GET", "/vms", (200, {"items": [VM], "total": 1, "limit": 100, "offset": 0}))
    result = runner.invoke(app, ["--url", fake_api.url, "vm", "list", "--state", "running"])
    assert result.exit_code == 0, result.stderr
    assert fake_api.requests[0]["auth"] == "Bearer from-file"
    assert "state=running" in fake_api.requests[0]["query"]
    assert "host=" not in fake_api.requests[0]["query"]  # unset filters are not sent
    assert "web" in result.stdout and "vm-1" in result.stdout and "2 GiB" in result.stdout


def test_create_waits_then_prints_vm(runner: CliRunner, fake_api: FakeAPI) -> None:
    fake_api.on("POST", "/vms", (202, op("pending")))
    fake_api.on("GET", "/operations/op-1", (200, op("running", 50)), (200, op("succeeded", 100)))
    fake_api.on("GET", "/vms/vm-1", (200, VM))
    args = ["--url", fake_api.url, "--token", "t", "-o", "json", "vm", "create", "web"]
    args += ["--vcpus", "2", "--memory", "2048", "--label", "tier=web", "--trait", "kvm"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == VM
    assert fake_api.requests[0]["json"] == {
        "name": "web",
        "vcpus": 2,
        "memory_mib": 2048,
        "labels": {"tier": "web"},
        "host_labels": {},
        "traits": ["kvm"],
    }
    assert [r["path"] for r in fake_api.requests][-1] == "/api/v1/vms/vm-1"


def test_failed_operation_is_one_line_exit_1(runner: CliRunner, fake_api: FakeAPI) -> None:
    fake_api.on("POST", "/vms", (202, op("pending")))
    failed = op("failed", 30, error="no host has 64 GiB free")
    fake_api.on("GET", "/operations/op-1", (200, failed))
    args = ["--url", fake_api.url, "--token", "t", "vm", "create", "big"]
    result = runner.invoke(app, [*args, "--vcpus", "1", "--memory", "65536"])
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [
        "error: vm.create failed: no host has 64 GiB free (VM big is kept in state error; "
        "remove it with: novacron vm delete big)"
    ]

    result = runner.invoke(
        app, ["--url", fake_api.url, "--token", "t", "-o", "json", "op", "wait", "op-1"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["state"] == "failed"
    assert error_lines(result.stderr) == ["error: vm.create failed: no host has 64 GiB free"]


def test_problem_with_field_errors_is_one_line(runner: CliRunner, fake_api: FakeAPI) -> None:
    problem = {
        "type": "https://novacron.dev/problems/invalid",
        "title": "Invalid request",
        "status": 422,
        "detail": "invalid request",
        "errors": [{"loc": ["body", "vcpus"], "msg": "Input should be greater than or equal to 1"}],
    }
    fake_api.on("POST", "/vms", (422, problem))
    args = ["--url", fake_api.url, "--token", "t", "vm", "create", "web"]
    result = runner.invoke(app, [*args, "--vcpus", "0", "--memory", "64"])
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [
        "error: invalid request: vcpus: Input should be greater than or equal to 1"
    ]


def test_non_problem_error_and_no_wait(runner: CliRunner, fake_api: FakeAPI) -> None:
    fake_api.on("POST", "/vms/web/stop", (202, op("pending", kind="vm.stop")))
    base = ["--url", fake_api.url, "--token", "t"]
    result = runner.invoke(app, [*base, "-o", "json", "vm", "stop", "web", "--force", "--no-wait"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "vm.stop"
    assert fake_api.requests[-1]["json"] == {"force": True}

    fake_api.on("GET", "/hosts", (500, ["not a problem"]))
    result = runner.invoke(app, [*base, "host", "list"])
    assert result.exit_code == 1
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: server answered 500")


def test_delete_without_tty_does_not_ask(runner: CliRunner, fake_api: FakeAPI) -> None:
    fake_api.on("DELETE", "/vms/web", (202, op("pending", kind="vm.delete")))
    fake_api.on("GET", "/operations/op-1", (200, op("succeeded", 100, kind="vm.delete")))
    result = runner.invoke(app, ["--url", fake_api.url, "--token", "t", "vm", "delete", "web"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "deleted VM web"


def test_render_json_is_exactly_the_api_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = {"items": [VM], "total": 7, "limit": 1, "offset": 0}
    cli_support.render(CLIContext(url="u", token=None, output="json"), page, [])
    assert json.loads(capsys.readouterr().out) == page
    cli_support.render(CLIContext(url="u", token=None, output="table"), page, [("name", "name")])
    out = capsys.readouterr().out
    assert "NAME" in out and "web" in out and "showing 1-1 of 7" in out


# -- the `novacron` entry point: every failure one line, JSON output always JSON --------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return error_lines(self.stderr)


@pytest.fixture
def novacron(runner: CliRunner, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``main(args)`` (the console script) in-process; its exit code and output."""
    from novacron.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["vm", "create", "x", "--vcpus", "abc", "--memory", "64"],
            "error: invalid value for '--vcpus': 'abc' is not a valid integer",
        ),
        (["vm", "create", "x", "--memory", "64"], "error: missing option '--vcpus'"),
        (
            ["-o", "yaml", "vm", "list"],
            "error: invalid value for '--output' / '-o': 'yaml' is not one of 'table', 'json'",
        ),
        (
            ["host", "maintenance", "maybe", "h1"],
            "error: invalid value for 'mode': 'maybe' is not one of 'on', 'off'",
        ),
        (
            ["group", "create", "g", "--policy", "spread"],
            "error: invalid value for '--policy': 'spread' is not one of "
            "'affinity', 'anti-affinity'",
        ),
        (["vm", "bogus"], "error: no such command 'bogus'"),
        (
            ["vm", "list", "--state", "bogus"],
            "error: invalid value for '--state': 'bogus' is not a VM state (one of: "
            + ", ".join(sorted(ALL_STATES))
            + ")",
        ),
        (
            ["host", "list", "--state", "sleeping"],
            "error: invalid value for '--state': 'sleeping' is not a host state "
            "(one of: up, down, maintenance)",
        ),
        (
            ["op", "list", "--state", "done"],
            "error: invalid value for '--state': 'done' is not an operation state "
            "(one of: pending, running, succeeded, failed, cancelled)",
        ),
    ],
)
def test_usage_error_is_one_line_exit_2(
    novacron: Callable[..., Run], args: list[str], line: str
) -> None:
    # --url points nowhere and there is no token: the check must come before any request.
    run = novacron("--url", f"http://127.0.0.1:{closed_port()}", *args)
    assert run.code == 2, run
    assert run.lines == [line]
    assert run.stdout == ""


def test_help_version_and_no_args(novacron: Callable[..., Run]) -> None:
    run = novacron("--help")
    assert run.code == 0 and "Usage" in run.stdout and run.stderr == ""
    run = novacron("vm", "create", "--help")
    assert run.code == 0 and "--vcpus" in run.stdout
    run = novacron("--version")
    assert (run.code, run.stdout, run.stderr) == (0, f"novacron {__version__}\n", "")
    run = novacron()  # no command: the help, as before
    assert "Usage" in run.stdout and "vm" in run.stdout
    assert run.code == 2 and "error" not in run.stderr


def test_exit_codes_are_kept(novacron: Callable[..., Run], fake_api: FakeAPI) -> None:
    fake_api.on("GET", "/operations/op-1", (200, op("failed", 30, error="boom")))
    run = novacron("--url", fake_api.url, "--token", "t", "op", "wait", "op-1")
    assert run.code == 1
    assert run.lines == ["error: vm.create failed: boom"]

    fake_api.on("GET", "/vms", (200, {"items": [VM], "total": 1, "limit": 100, "offset": 0}))
    run = novacron("--url", fake_api.url, "--token", "t", "vm", "list", "--state", "running")
    assert run.code == 0 and "web" in run.stdout and run.stderr == ""


def test_run_app_keeps_exit_codes_and_aborts(capsys: pytest.CaptureFixture[str]) -> None:
    from novacron.core.cli_support import run_app

    tiny = typer.Typer()

    @tiny.command("exit3")
    def exit3() -> None:
        raise typer.Exit(3)

    @tiny.command("abort")
    def abort() -> None:
        raise typer.Abort()

    @tiny.command("interrupt")
    def interrupt() -> None:
        raise KeyboardInterrupt

    @tiny.command("crash")
    def crash() -> None:
        raise RuntimeError("bad\nthing")

    @tiny.command("ok")
    def ok() -> None:
        typer.echo("fine")

    for args, code, err in [
        (["exit3"], 3, ""),
        (["abort"], 130, "error: aborted\n"),
        (["interrupt"], 130, ""),
        (["crash"], 1, "error: bad thing\n"),
    ]:
        with pytest.raises(SystemExit) as info:
            run_app(tiny, args)
        assert info.value.code == code, args
        assert capsys.readouterr().err == err
    run_app(tiny, ["ok"])
    assert capsys.readouterr().out == "fine\n"


def test_last_resort_error_keeps_field_paths(novacron: Callable[..., Run]) -> None:
    run = novacron(
        "agent",
        "--server",
        f"http://127.0.0.1:{closed_port()}",
        "--enrolment-token",
        "x",
        "--sim-failure-rate",
        "create=5",
    )
    assert run.code == 1
    assert run.lines == ["error: invalid sim configuration: failure_rates.create: must be <= 1.0"]


@pytest.mark.parametrize(
    ("noun", "path", "kind"),
    [
        ("image", "/images/ubuntu", "image"),
        ("group", "/placement-groups/ubuntu", "placement-group"),
    ],
)
def test_json_delete_prints_json(
    runner: CliRunner, fake_api: FakeAPI, noun: str, path: str, kind: str
) -> None:
    fake_api.on("DELETE", path, (204, None))
    base = ["--url", fake_api.url, "--token", "t"]
    result = runner.invoke(app, [*base, "-o", "json", noun, "delete", "ubuntu"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"deleted": "ubuntu", "kind": kind}
    result = runner.invoke(app, [*base, noun, "delete", "ubuntu"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"deleted {kind.replace('-', ' ')} ubuntu\n"


def test_delete_prompt_goes_to_stderr(
    runner: CliRunner, fake_api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from novacron.compute.cli import vms

    monkeypatch.setattr(vms, "_stdin_is_tty", lambda: True)
    fake_api.on("DELETE", "/vms/web", (202, op("pending", kind="vm.delete")))
    fake_api.on("GET", "/operations/op-1", (200, op("succeeded", 100, kind="vm.delete")))
    base = ["--url", fake_api.url, "--token", "t"]
    result = runner.invoke(app, [*base, "-o", "json", "vm", "delete", "web"], input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Delete VM web and its disks? [y/N]:" in result.stderr
    # The runner echoes the typed answer to stdout (a terminal would show it, not stdout).
    assert result.stdout.startswith(" y\n")
    assert json.loads(result.stdout.removeprefix(" y\n"))["state"] == "succeeded"

    result = runner.invoke(app, [*base, "vm", "delete", "web"], input="n\n")
    assert result.exit_code == 1
    assert result.stdout == " n\n"
    assert result.stderr.endswith("[y/N]:error: aborted: nothing deleted\n")
    assert [r["method"] for r in fake_api.requests].count("DELETE") == 1
