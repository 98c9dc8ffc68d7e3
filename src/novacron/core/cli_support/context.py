"""Context and token: where the server is, how to authenticate, how to print.

The root callback in ``novacron.cli`` stores a ``CLIContext`` on the Typer context;
each command finds it with ``get_context``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from novacron.core.cli_support.client import ApiClient
from novacron.core.config import default_data_dir
from novacron.core.errors import NovaCronError

TOKEN_FILE = "admin-token"


def data_dir() -> Path:
    """``$NOVACRON_DATA_DIR``, else the settings' default data dir."""
    env = os.environ.get("NOVACRON_DATA_DIR")
    return Path(env).expanduser() if env else default_data_dir()


def token_path() -> Path:
    return data_dir() / TOKEN_FILE


def resolve_token(explicit: str | None) -> str:
    """The explicit token (``--token`` or ``$NOVACRON_TOKEN``), else the admin-token file."""
    if explicit and explicit.strip():
        return explicit.strip()
    path = token_path()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise NovaCronError(f"cannot read API token from {path}: {exc.strerror}") from exc
    if not token:
        raise NovaCronError(
            f"no API token: set NOVACRON_TOKEN or pass --token (novacron up writes one to {path})"
        )
    return token


@dataclass
class CLIContext:
    url: str
    token: str | None
    output: str  # "table" | "json"

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> ApiClient:
        return ApiClient(self.url, resolve_token(self.token))


def get_context(obj: Any) -> CLIContext:
    """The ``CLIContext`` from a ``typer.Context`` (or its ``obj``); defaults if absent."""
    found = obj.find_object(CLIContext) if hasattr(obj, "find_object") else obj
    if isinstance(found, CLIContext):
        return found
    return CLIContext(
        url=os.environ.get("NOVACRON_URL", "http://127.0.0.1:8080"),
        token=os.environ.get("NOVACRON_TOKEN"),
        output="table",
    )
