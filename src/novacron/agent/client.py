"""The server's client for one agent's HTTP API (synchronous; used from worker threads).

Errors arrive as the agent raised them: a problem+json body is rebuilt with
``from_problem`` (a 409 ``InvalidState`` stays ``InvalidState``). Two exceptions:

- the agent cannot be reached (connect error, timeout, broken connection) →
  ``AgentUnreachable("agent at <url> unreachable: …")``;
- the agent rejects the server's secret (401/403) → ``DriverError``, not
  ``Unauthorized``: the fault is in the server's record of the agent, and the
  server's API must not answer its own user with a 401 for it.

``agent_client()`` hands out one cached client per (url, secret, timeout) so the
connection pool is shared by every thread that talks to the same agent.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import httpx

from novacron import __version__
from novacron.core.errors import (
    AgentUnreachable,
    DriverError,
    NotFound,
    NovaCronError,
    from_problem,
)
from novacron.hypervisor.base import MigrationProgress, VMSpec

#: Default wait the drivers give a guest to shut down when no timeout is sent.
DEFAULT_SHUTDOWN_TIMEOUT_S = 60.0
#: Enough for ~32 concurrent calls from server workers, with headroom.
MAX_CONNECTIONS = 64
MAX_KEEPALIVE = 32


def _seg(value: str) -> str:
    return quote(value, safe="")


class AgentClient:
    def __init__(
        self,
        base_url: str,
        api_secret: str,
        timeout_s: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_secret}",
                "User-Agent": f"novacron-server/{__version__}",
            },
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE
            ),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"<AgentClient {self.base_url}>"

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def close(self) -> None:
        self._http.close()

    # -- API --------------------------------------------------------------------------

    def healthz(self) -> dict[str, Any]:
        return dict(self._request("GET", "/healthz").json())

    def hosts(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/v1/hosts").json())

    def list_vms(self, host: str) -> list[dict[str, Any]]:
        return list(self._request("GET", f"/v1/hosts/{_seg(host)}/vms").json())

    def get_vm(self, host: str, vm_id: str) -> dict[str, Any] | None:
        """The VM, or None when the host has no such VM (an unknown host raises ``NotFound``)."""
        try:
            return dict(self._request("GET", f"/v1/hosts/{_seg(host)}/vms/{_seg(vm_id)}").json())
        except _MissingVM:
            return None

    def create_vm(self, host: str, spec: VMSpec) -> dict[str, Any]:
        """May take long: the host fetches the image on first use and boots the VM."""
        path = f"/v1/hosts/{_seg(host)}/vms"
        return dict(self._request("POST", path, json=asdict(spec), timeout=self.long_s).json())

    def vm_action(
        self, host: str, vm_id: str, action: str, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Run ``action`` (start|shutdown|stop|reboot|pause|resume); ``timeout_s`` for shutdown."""
        body = None if timeout_s is None else {"timeout_s": timeout_s}
        http_timeout = None
        if action == "shutdown":  # the agent may legitimately wait that long for the guest
            wait = DEFAULT_SHUTDOWN_TIMEOUT_S if timeout_s is None else timeout_s
            http_timeout = self.timeout_s + wait
        path = f"/v1/hosts/{_seg(host)}/vms/{_seg(vm_id)}/actions/{_seg(action)}"
        return dict(self._request("POST", path, json=body, timeout=http_timeout).json())

    def destroy_vm(self, host: str, vm_id: str) -> None:
        self._request("DELETE", f"/v1/hosts/{_seg(host)}/vms/{_seg(vm_id)}")

    def console(
        self, host: str, vm_id: str, offset: int = 0, limit: int = 65536
    ) -> tuple[bytes, int]:
        """Serial output from ``offset`` (negative: from the end) and the next offset."""
        response = self._request(
            "GET", self._vm_path(host, vm_id, "console"), params={"offset": offset, "limit": limit}
        )
        return response.content, int(response.headers.get("X-Console-Offset", offset))

    def console_stream_url(self, host: str, vm_id: str) -> str:
        return self.base_url + self._vm_path(host, vm_id, "console/stream")

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": str(self._http.headers["Authorization"])}

    def vm_stats(self, host: str, vm_id: str) -> dict[str, Any]:
        return dict(self._request("GET", self._vm_path(host, vm_id, "stats")).json())

    def snapshots(self, host: str, vm_id: str) -> list[dict[str, Any]]:
        return list(self._request("GET", self._vm_path(host, vm_id, "snapshots")).json())

    def snapshot_create(self, host: str, vm_id: str, name: str) -> dict[str, Any]:
        path = self._vm_path(host, vm_id, "snapshots")
        return dict(self._request("POST", path, json={"name": name}, timeout=self.long_s).json())

    def snapshot_revert(self, host: str, vm_id: str, name: str) -> dict[str, Any]:
        path = self._vm_path(host, vm_id, f"snapshots/{_seg(name)}/revert")
        return dict(self._request("POST", path, timeout=self.long_s).json())

    def snapshot_delete(self, host: str, vm_id: str, name: str) -> None:
        path = self._vm_path(host, vm_id, f"snapshots/{_seg(name)}")
        self._request("DELETE", path, timeout=self.long_s)

    def resize(self, host: str, vm_id: str, **changes: int | None) -> dict[str, Any]:
        body = {k: v for k, v in changes.items() if v is not None}
        path = self._vm_path(host, vm_id, "resize")
        return dict(self._request("POST", path, json=body, timeout=self.long_s).json())

    def clone(self, host: str, vm_id: str, spec: VMSpec) -> dict[str, Any]:
        path = self._vm_path(host, vm_id, "clone")
        return dict(self._request("POST", path, json=asdict(spec), timeout=self.long_s).json())

    # -- live migration (see agent/migration_routes.py) ---------------------------------

    def migration_outgoing(
        self, host: str, vm_id: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        path = self._vm_path(host, vm_id, "migration/outgoing")
        body = {"options": options or {}}
        return dict(self._request("POST", path, json=body, timeout=self.long_s).json())

    def migration_incoming(
        self, host: str, spec: VMSpec, options: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"spec": asdict(spec), "options": options}
        path = f"/v1/hosts/{_seg(host)}/incoming"
        return dict(self._request("POST", path, json=body, timeout=self.long_s).json())

    def migration_start(
        self, host: str, vm_id: str, target: dict[str, Any], options: dict[str, Any]
    ) -> None:
        path = self._vm_path(host, vm_id, "migration")
        self._request("POST", path, json={"target": target, "options": options})

    def migration_status(self, host: str, vm_id: str) -> MigrationProgress:
        path = self._vm_path(host, vm_id, "migration")
        return MigrationProgress.from_dict(self._request("GET", path).json())

    def migration_cancel(self, host: str, vm_id: str) -> None:
        path = self._vm_path(host, vm_id, "migration/cancel")
        self._request("POST", path, timeout=self.long_s)

    def migration_finish(self, host: str, vm_id: str, *, source: bool) -> dict[str, Any]:
        path = self._vm_path(host, vm_id, "migration/finish")
        params = {"source": str(source).lower()}
        return dict(self._request("POST", path, params=params, timeout=self.long_s).json())

    def migration_rollback(self, host: str, vm_id: str, *, source: bool) -> None:
        path = self._vm_path(host, vm_id, "migration/rollback")
        params = {"source": str(source).lower()}
        self._request("POST", path, params=params, timeout=self.long_s)

    @property
    def long_s(self) -> float:
        """Timeout for calls that copy disks or RAM (snapshots, clones, image fetches):
        longer than the agent's own limit on a snapshot job (600 s)."""
        return max(self.timeout_s, 900.0)

    @staticmethod
    def _vm_path(host: str, vm_id: str, tail: str) -> str:
        return f"/v1/hosts/{_seg(host)}/vms/{_seg(vm_id)}/{tail}"

    # -- sim driver controls ----------------------------------------------------------

    def crash_host(self, host: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/sim/hosts/{_seg(host)}/crash").json())

    def recover_host(self, host: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/sim/hosts/{_seg(host)}/recover").json())

    def crash_vm(self, host: str, vm_id: str) -> dict[str, Any]:
        path = f"/v1/sim/hosts/{_seg(host)}/vms/{_seg(vm_id)}/crash"
        return dict(self._request("POST", path).json())

    def sim_config(
        self,
        delays: dict[str, float] | None = None,
        failure_rates: dict[str, float] | None = None,
        speed: float | None = None,
    ) -> dict[str, Any]:
        """The sim fleet's config; with arguments, merge them in first."""
        if delays is None and failure_rates is None and speed is None:
            return dict(self._request("GET", "/v1/sim/config").json())
        body: dict[str, Any] = {}
        if delays is not None:
            body["delays"] = delays
        if failure_rates is not None:
            body["failure_rates"] = failure_rates
        if speed is not None:
            body["speed"] = speed
        return dict(self._request("PUT", "/v1/sim/config", json=body).json())

    # -- plumbing ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        timeout: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if json is not None:
            kwargs["json"] = json
        if params is not None:
            kwargs["params"] = params
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise AgentUnreachable(
                f"agent at {self.base_url} unreachable: {method} {path} timed out "
                f"({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise AgentUnreachable(f"agent at {self.base_url} unreachable: {reason}") from exc
        if response.is_success:
            return response
        raise self.error_for(response)

    def error_for(self, response: httpx.Response) -> NovaCronError:
        """The error an agent's failed (and read) response stands for."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not (isinstance(body, dict) and ("type" in body or "detail" in body)):
            text = response.text.strip().replace("\n", " ")[:200]
            if status in (502, 503, 504):
                return AgentUnreachable(
                    f"agent at {self.base_url} unreachable: HTTP {status} {text}".rstrip()
                )
            return DriverError(f"agent at {self.base_url} answered HTTP {status}: {text}")
        if status in (401, 403):
            detail = body.get("detail") or body.get("title") or status
            return DriverError(
                f"agent at {self.base_url} rejected the server's credentials: {detail}"
            )
        error = from_problem(body)
        if status == 404 and isinstance(error, NotFound) and body.get("missing") != "host":
            return _MissingVM(error.detail)
        return error


class _MissingVM(NotFound):
    """A 404 about a VM (not a host); ``get_vm`` turns it into None."""


_cache: dict[tuple[str, str, float], AgentClient] = {}
_cache_lock = threading.Lock()


def agent_client(base_url: str, api_secret: str, timeout_s: float = 30.0) -> AgentClient:
    """A shared client for this agent (thread-safe; reuses its connection pool)."""
    key = (base_url.rstrip("/"), api_secret, float(timeout_s))
    with _cache_lock:
        client = _cache.get(key)
        if client is None or client.closed:
            client = _cache[key] = AgentClient(base_url, api_secret, timeout_s)
        return client


def close_agent_clients() -> None:
    """Close and forget every cached client (server shutdown, tests)."""
    with _cache_lock:
        clients = list(_cache.values())
        _cache.clear()
    for client in clients:
        client.close()
