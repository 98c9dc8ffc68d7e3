"""Context and token: where the server is, how to authenticate, which project, how to print.

The root callback in ``novacron.cli`` stores a ``CLIContext`` on the Typer context;
each command finds it with ``get_context``.

The API token, first found wins:

    --token / $NOVACRON_TOKEN             (the root option reads the variable)
    $XDG_CONFIG_HOME/novacron/token       (novacron login; credentials.py)
    <data-dir>/admin-token                (novacron up / server write it on first start)

The project (``--project`` / ``$NOVACRON_PROJECT``) goes with every request as the
``X-NovaCron-Project`` header; without it the server picks the caller's default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from novacron.core.cli_support.client import ApiClient
from novacron.core.cli_support.credentials import login_token_path, read_login_token
from novacron.core.config import default_data_dir
from novacron.core.errors import NovaCronError

TOKEN_FILE = "admin-token"


def data_dir() -> Path:
    """``$NOVACRON_DATA_DIR``, else the settings' default data dir."""
    env = os.environ.get("NOVACRON_DATA_DIR")
    return Path(env).expanduser() if env else default_data_dir()


def token_path() -> Path:
    return data_dir() / TOKEN_FILE


@dataclass(frozen=True)
class ResolvedToken:
    token: str
    source: str
    """Where it came from, for messages: the option or the file's path."""


def find_token(explicit: str | None) -> ResolvedToken:
    """The token to send and where it came from (see the module docstring for the order)."""
    if explicit and explicit.strip():
        return ResolvedToken(explicit.strip(), "--token or $NOVACRON_TOKEN")
    login_token = read_login_token()
    if login_token:
        return ResolvedToken(login_token, str(login_token_path()))
    path = token_path()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise NovaCronError(f"cannot read API token from {path}: {exc.strerror}") from exc
    if not token:
        # Worded as before login existed: tests/compute/test_cli.py pins it.
        raise NovaCronError(
            f"no API token: set NOVACRON_TOKEN or pass --token (novacron up writes one to {path})"
        )
    return ResolvedToken(token, str(path))


def resolve_token(explicit: str | None) -> str:
    """The token to send (see ``find_token``)."""
    return find_token(explicit).token


@dataclass
class CLIContext:
    url: str
    token: str | None
    output: str  # "table" | "json"
    project: str | None = None
    """Name or id of the project requests act in (None: the caller's default)."""

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> ApiClient:
        found = find_token(self.token)
        hint = None
        if found.source == str(login_token_path()):
            # The stored login expires (30 days) or is revoked elsewhere: say what to do.
            hint = f"token from {found.source}: run novacron login"
        return ApiClient(self.url, found.token, project=self.project, unauthorized_hint=hint)

    def anonymous_client(self) -> ApiClient:
        """A client without a token, for signing in."""
        return ApiClient(self.url, None, project=self.project)


def get_context(obj: Any) -> CLIContext:
    """The ``CLIContext`` from a ``typer.Context`` (or its ``obj``); defaults if absent."""
    found = obj.find_object(CLIContext) if hasattr(obj, "find_object") else obj
    if isinstance(found, CLIContext):
        return found
    return CLIContext(
        url=os.environ.get("NOVACRON_URL", "http://127.0.0.1:8080"),
        token=os.environ.get("NOVACRON_TOKEN"),
        output="table",
        project=os.environ.get("NOVACRON_PROJECT") or None,
    )
