"""Running uvicorn inside our own event loop: pre-bound sockets, no signal capture.

``uvicorn.Server.serve`` installs its own SIGINT/SIGTERM handlers and re-raises the
signal after shutdown; an embedded server must leave signals to its host program.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any, Literal

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to whoever runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def embedded_config(
    app: Callable[..., Any], *, lifespan: Literal["auto", "on", "off"] = "auto"
) -> uvicorn.Config:
    """Config for an embedded server: our logging untouched, no access log."""
    return uvicorn.Config(
        app,
        lifespan=lifespan,
        log_config=None,  # keep the host program's logging as it is
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def url_for(host: str, port: int) -> str:
    """``http://host:port`` for a listen address; a wildcard address becomes this host's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
