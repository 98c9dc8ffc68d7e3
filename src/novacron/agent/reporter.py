"""Registration and heartbeats: how an agent tells the server what it runs.

Protocol (agent → server)::

    POST {server}/api/v1/agents/register
        {"enrolment_token", "name", "url", "api_secret", "version", "hosts": [HostInfo]}
      → {"agent_id", "token", "hosts": {host_name: host_id}, "heartbeat_interval_s"}
    POST {server}/api/v1/agents/heartbeat      Authorization: Bearer <token>
        {"hosts": [{"name", "info": HostInfo, "vms": [VMInfo]}]}
      → {"orphans": {host_name: [vm_id, ...]}}

Over https the client verifies the server and, once the agent is enrolled, presents
its client certificate (``AgentTLS``); the certificate is rotated when due, checked at
start and then daily, and the HTTP client is replaced to use the new one.

The agent destroys the orphans (VMs the server deleted while their host was away).
Hosts that are down (crashed sim hosts) are left out; a host that comes back shows
up in the next heartbeat. A 401 on heartbeat means the server forgot our token:
register again. A 401 on register means the enrolment token is wrong: say so and
retry slowly. An unreachable server is logged once per outage and retried with
capped exponential backoff; the reporter never gives up and never crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Mapping
from typing import Any

import httpx

from novacron import __version__
from novacron.agent.inventory import host_infos, host_reports
from novacron.agent.watchdog import SelfFence
from novacron.core.errors import DriverError
from novacron.hypervisor.base import HypervisorDriver
from novacron.security.pki.agent_tls import AgentTLS

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL_S = 2.0
MIN_HEARTBEAT_INTERVAL_S = 0.01
CERT_CHECK_INTERVAL_S = 86400.0
CERT_RETRY_S = 3600.0


class ServerUnavailable(Exception):
    """No answer, a timeout or a 5xx: try again later."""


class EnrolmentRejected(Exception):
    """401 on register: the enrolment token is wrong."""


class TokenRejected(Exception):
    """401 on heartbeat: the server no longer knows our token; register again."""


class RequestRefused(Exception):
    """Another 4xx: the server understood and said no."""


class Reporter:
    """Registers the agent, then heartbeats every ``heartbeat_interval_s`` until cancelled."""

    def __init__(
        self,
        *,
        server_url: str,
        enrolment_token: str,
        name: str,
        agent_url: str,
        api_secret: str,
        drivers: Mapping[str, HypervisorDriver],
        version: str = __version__,
        request_timeout_s: float = 10.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
        enrolment_retry_s: float = 30.0,
        tls: AgentTLS | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.name = name
        self.agent_url = agent_url
        self.version = version
        self.drivers = drivers
        self.request_timeout_s = request_timeout_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.enrolment_retry_s = enrolment_retry_s
        self._enrolment_token = enrolment_token
        self._api_secret = api_secret
        self.tls = tls
        self._next_cert_check = 0.0  # loop time: at start, then daily

        self.agent_id: str | None = None
        self.host_ids: dict[str, str] = {}
        self.heartbeat_interval_s = DEFAULT_HEARTBEAT_INTERVAL_S
        self.heartbeats_sent = 0
        self.registered = asyncio.Event()
        self._token: str | None = None
        self._http: httpx.AsyncClient | None = None
        self._outage = False
        self._destroying: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self.fence = SelfFence(drivers)

    @property
    def token(self) -> str | None:
        """The agent's token while registered (image downloads use it too)."""
        return self._token

    def wake(self) -> None:
        """Send the next heartbeat now: a VM changed state on its own (crash, power-off)."""
        self._wake.set()

    def __repr__(self) -> str:
        return f"<Reporter {self.name} → {self.server_url} agent_id={self.agent_id}>"

    # -- main loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Report forever; returns only by cancellation."""
        loop = asyncio.get_running_loop()
        backoff = self.retry_initial_s
        rejected_tokens = 0
        async with self._new_http() as http:
            self._http = http
            watchdog = asyncio.create_task(self.fence.run())
            self._tasks.add(watchdog)
            try:
                while True:
                    try:
                        if self.tls is not None and loop.time() >= self._next_cert_check:
                            await self._check_certificate()
                        if self._token is None:
                            await self.register()
                        started = loop.time()
                        await self.heartbeat()
                        self._reachable()
                        backoff = self.retry_initial_s
                        rejected_tokens = 0
                        elapsed = loop.time() - started
                        await self._pause(max(0.0, self.heartbeat_interval_s - elapsed))
                        continue
                    except ServerUnavailable as exc:
                        self._unreachable(exc)
                    except EnrolmentRejected as exc:
                        self._reachable()
                        log.error(
                            "enrolment token rejected by the server at %s (%s); %s. "
                            "Retrying in %.0fs",
                            self.server_url,
                            exc,
                            "the agent's certificate may have been revoked: enrol it again "
                            "with a new one-time token (novacron pki token create)"
                            if self.tls is not None and self.tls.enrolled
                            else "check the agent's enrolment token",
                            self.enrolment_retry_s,
                        )
                        await asyncio.sleep(self.enrolment_retry_s)
                        continue
                    except TokenRejected:
                        self._reachable()
                        self._forget_registration()
                        rejected_tokens += 1
                        log.info(
                            "the server at %s no longer accepts this agent's token; "
                            "registering again",
                            self.server_url,
                        )
                        if rejected_tokens == 1:
                            continue  # re-register at once; back off if it keeps happening
                    except RequestRefused as exc:
                        self._reachable()
                        log.error("the server at %s refused a request: %s", self.server_url, exc)
                    except Exception:
                        log.exception("reporter error; retrying in %.1fs", backoff)
                    # Jitter, so agents don't retry in lockstep after a server restart.
                    await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                    backoff = min(backoff * 2, self.retry_max_s)
            finally:
                if self._http is not http and self._http is not None:
                    await self._http.aclose()  # the client made after a rotation
                self._http = None
                for task in list(self._tasks):
                    task.cancel()
                if self._tasks:
                    await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pause(self, seconds: float) -> None:
        """Sleep until the next heartbeat is due, or until ``wake()``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    # -- one step each ----------------------------------------------------------------

    async def register(self) -> None:
        payload = {
            "enrolment_token": self._enrolment_token,
            "name": self.name,
            "url": self.agent_url,
            "api_secret": self._api_secret,
            "version": self.version,
            "hosts": await host_infos(self.drivers),
        }
        response = await self._post("/api/v1/agents/register", payload)
        if response.status_code == 401:
            raise EnrolmentRejected(_detail(response))
        body = _json_body(response)
        token, agent_id = body.get("token"), body.get("agent_id")
        if not isinstance(token, str) or not token or not isinstance(agent_id, str):
            raise RequestRefused("register answer lacks agent_id or token")
        self._token = token
        self.agent_id = agent_id
        hosts = body.get("hosts")
        self.host_ids = {}
        if isinstance(hosts, dict):
            self.host_ids = {str(k): str(v) for k, v in hosts.items()}
        interval = body.get("heartbeat_interval_s")
        if isinstance(interval, int | float) and not isinstance(interval, bool):
            self.heartbeat_interval_s = max(MIN_HEARTBEAT_INTERVAL_S, float(interval))
        self.registered.set()
        log.info(
            "agent %s registered with %s as %s (%d hosts, heartbeat every %.1fs)",
            self.name,
            self.server_url,
            self.agent_id,
            len(payload["hosts"]),
            self.heartbeat_interval_s,
        )

    async def heartbeat(self) -> dict[str, list[str]]:
        """Send one heartbeat; start destroying the orphans it returns; return them."""
        if self._token is None:
            raise TokenRejected("not registered")
        hosts = await host_reports(self.drivers)
        fenced = dict(self.fence.fenced)
        response = await self._post(
            "/api/v1/agents/heartbeat",
            {"hosts": hosts, "self_fenced": fenced},
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if response.status_code == 401:
            raise TokenRejected(_detail(response))
        body = _json_body(response)
        self.heartbeats_sent += 1
        self.fence.answered(body.get("self_fence") or {})
        self.fence.reported(fenced)
        orphans = _orphans(body.get("orphans"))
        for host, vm_ids in orphans.items():
            for vm_id in vm_ids:
                self._destroy_orphan(host, vm_id)
        return orphans

    # -- helpers ----------------------------------------------------------------------

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.request_timeout_s,
            headers={"User-Agent": f"novacron-agent/{self.version}"},
            verify=self.tls.ssl_context() if self.tls is not None else True,
        )

    async def _check_certificate(self) -> None:
        """Rotate the client certificate if it is due; a failure is retried within the hour
        (the current certificate stays valid for weeks after rotation becomes due)."""
        assert self.tls is not None
        loop = asyncio.get_running_loop()
        try:
            rotated = await asyncio.to_thread(
                self.tls.rotate_if_due, self.server_url, timeout=self.request_timeout_s
            )
        except Exception as exc:
            self._next_cert_check = loop.time() + CERT_RETRY_S
            log.warning("could not rotate the agent's certificate (%s); retrying later", exc)
            return
        self._next_cert_check = loop.time() + CERT_CHECK_INTERVAL_S
        if rotated and self._http is not None:
            old, self._http = self._http, self._new_http()
            await old.aclose()

    async def _post(
        self, path: str, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        if self._http is None:
            raise RuntimeError("Reporter.run() owns the HTTP client; call it first")
        # Encoding a 10,000-host payload takes a while: keep it off the event loop.
        content = await asyncio.to_thread(json.dumps, payload, separators=(",", ":"))
        try:
            response = await self._http.post(
                self.server_url + path,
                content=content.encode(),
                headers={"Content-Type": "application/json", **(headers or {})},
            )
        except httpx.TransportError as exc:  # includes timeouts
            raise ServerUnavailable(str(exc) or type(exc).__name__) from exc
        if response.status_code >= 500:
            raise ServerUnavailable(f"HTTP {response.status_code}: {_detail(response)}")
        if response.status_code >= 400 and response.status_code != 401:
            raise RequestRefused(f"{path}: HTTP {response.status_code}: {_detail(response)}")
        return response

    def _forget_registration(self) -> None:
        self._token = None
        self.registered.clear()

    def _unreachable(self, exc: Exception) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "server at %s unreachable (%s); retrying with backoff up to %.0fs",
                self.server_url,
                exc,
                self.retry_max_s,
            )

    def _reachable(self) -> None:
        if self._outage:
            self._outage = False
            log.info("server at %s reachable again", self.server_url)

    def _destroy_orphan(self, host: str, vm_id: str) -> None:
        key = (host, vm_id)
        if key in self._destroying:
            return
        driver = self.drivers.get(host)
        if driver is None:
            log.warning("server listed orphan %s on unknown host %s; ignored", vm_id, host)
            return
        self._destroying.add(key)
        task = asyncio.create_task(self._destroy(driver, host, vm_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _destroy(self, driver: HypervisorDriver, host: str, vm_id: str) -> None:
        try:
            await driver.destroy(vm_id)
            log.info("destroyed orphan VM %s on host %s (deleted on the server)", vm_id, host)
        except DriverError as exc:
            log.warning("could not destroy orphan VM %s on host %s: %s", vm_id, host, exc)
        except Exception:
            log.exception("could not destroy orphan VM %s on host %s", vm_id, host)
        finally:
            self._destroying.discard((host, vm_id))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:200]
    return str(body)[:200]


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise RequestRefused(f"answer is not JSON (HTTP {response.status_code})") from exc
    if not isinstance(body, dict):
        raise RequestRefused(f"answer is not a JSON object (HTTP {response.status_code})")
    return body


def _orphans(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        return {}
    return {
        str(host): [str(v) for v in vm_ids]
        for host, vm_ids in value.items()
        if isinstance(vm_ids, list)
    }
