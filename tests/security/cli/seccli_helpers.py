"""Helpers of the security CLI tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any
from unittest import mock

import httpx
import typer
from typer.testing import CliRunner, Result

from novacron.cli import app
from novacron.core.cli_support.entry import hoist_output_option
from novacron.testing.cluster import Cluster

PASSWORD = "correct horse battery staple"


@functools.cache
def _command() -> Any:
    """The click command of the whole CLI, built once: building it takes most of a
    second (hundreds of commands), far longer than running one."""
    return typer.main.get_command(app)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Cli:
    """``novacron --url URL [--token T] ARGS`` in-process, as the console script runs it."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url, self.token = url, token

    def as_(self, token: str | None) -> Cli:
        return Cli(self.url, token)

    def run(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        argv = ["--url", self.url, *(["--token", self.token] if self.token else []), *args]
        with mock.patch("typer.testing._get_command", lambda _app: _command()):
            result = CliRunner().invoke(app, hoist_output_option(argv), input=input)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    __call__ = run

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.run("--output", "json", *args, input=input).stdout)

    def error(self, *args: str, input: str | None = None) -> str:
        """A command that must fail with exactly one ``error:`` line and exit 1."""
        result = self.run(*args, input=input, ok=False)
        assert result.exit_code == 1, (args, result.stdout, result.stderr, result.exception)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        return lines[0]


def api_as(server: Cluster, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def make_user(server: Cluster, name: str, password: str = PASSWORD, **extra: Any) -> None:
    resp = server.api.post("/users", json={"name": name, "password": password, **extra})
    assert resp.status_code == 201, resp.text
