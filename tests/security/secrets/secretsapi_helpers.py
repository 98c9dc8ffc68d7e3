"""Helpers of the secrets API and CLI tests (a module: conftest is not importable)."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import typer
from typer.testing import CliRunner, Result

from novacron.cli import app
from novacron.core.cli_support.entry import hoist_output_option
from novacron.testing.cluster import Cluster
from novacron.testing.security import create_project, user_token


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client(cluster: Cluster, token: str, project: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    if project:
        headers["X-NovaCron-Project"] = project
    return httpx.Client(base_url=f"{cluster.url}/api/v1", headers=headers, timeout=30)


def data_files_bytes(data_dir: Path) -> bytes:
    """Every byte of the SQLite database, its WAL included (recent writes live there)."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("novacron.db*")))


class ListHandler(logging.Handler):
    """Keeps raw formatted records: what the code logged, before any masking filter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@contextmanager
def server_logs(log_file: Path) -> Iterator[ListHandler]:
    """The server's log as ``novacron server`` writes it (a handler on the root logger,
    present before the server starts, like basicConfig's), plus a raw copy of everything
    the ``novacron`` loggers emit, which no masking filter touches."""
    root = logging.getLogger()
    ours = logging.getLogger("novacron")
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    raw = ListHandler()
    old_level = ours.level
    ours.setLevel(logging.INFO)
    root.addHandler(file_handler)
    ours.addHandler(raw)
    try:
        yield raw
    finally:
        ours.removeHandler(raw)
        root.removeHandler(file_handler)
        file_handler.close()
        ours.setLevel(old_level)


@functools.cache
def _command() -> Any:
    """The click command of the whole CLI, built once (building it takes a while)."""
    return typer.main.get_command(app)


class Cli:
    """``novacron --url URL --token T ARGS`` in-process, as the console script runs it."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def run(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        argv = ["--url", self.url, "--token", self.token, *args]
        with mock.patch("typer.testing._get_command", lambda _app: _command()):
            result = CliRunner().invoke(app, hoist_output_option(argv), input=input)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    __call__ = run

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.run("--output", "json", *args, input=input).stdout)

    def error(self, *args: str, input: str | None = None) -> str:
        """A command that must fail with one ``error:`` line and exit 1."""
        result = self.run(*args, input=input, ok=False)
        assert result.exit_code == 1, (args, result.stdout, result.stderr, result.exception)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[0]


@dataclass
class World:
    """One server (file key provider) and the people of two projects."""

    cluster: Cluster
    raw_log: ListHandler
    log_file: Path
    alpha: str
    beta: str
    admin: httpx.Client
    """The platform admin, acting in alpha."""
    alpha_admin: httpx.Client
    alpha_viewer: httpx.Client
    alpha_reader_token: httpx.Client
    """alpha's admin through a token scoped to ``*:read``."""
    beta_admin: httpx.Client
    alpha_admin_token: str


@contextmanager
def make_world(data_dir: Path, log_file: Path) -> Iterator[World]:
    with server_logs(log_file) as raw:
        cluster = Cluster.start(data_dir, None, with_agent=False)
        try:
            url, token = cluster.url, cluster.token
            alpha = create_project(url, token, unique("alpha"))["name"]
            beta = create_project(url, token, unique("beta"))["name"]
            adm = unique("u-adm")
            alpha_admin = user_token(url, token, adm, {alpha: "admin"})
            # The same user again: a second token, read-only.
            reader = user_token(url, token, adm, scopes=["*:read"])
            viewer = user_token(url, token, unique("u-view"), {alpha: "viewer"})
            beta_admin = user_token(url, token, unique("u-badm"), {beta: "admin"})
            clients = [
                client(cluster, token, alpha),
                client(cluster, alpha_admin, alpha),
                client(cluster, viewer, alpha),
                client(cluster, reader, alpha),
                client(cluster, beta_admin, beta),
            ]
            yield World(cluster, raw, log_file, alpha, beta, *clients, alpha_admin)
            for c in clients:
                c.close()
        finally:
            cluster.stop()
