"""API client: a synchronous httpx client of ``<url>/api/v1``.

Every failure (transport trouble, problem+json, any other non-2xx answer) leaves it
as a ``NovaCronError`` with a message fit for one ``error:`` line."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from novacron.core.config import default_data_dir
from novacron.core.errors import NovaCronError, Unauthorized, from_problem

API_PREFIX = "/api/v1"
PROJECT_HEADER = "X-NovaCron-Project"
"""The project a request acts in (the server's ``novacron.security.context``)."""


def seg(value: str) -> str:
    """One path segment, quoted (names and ids never contain '/', user input might)."""
    return quote(str(value), safe="")


def problem_slug(response: httpx.Response) -> str:
    """The last segment of a problem+json answer's ``type`` (``mfa-required``), else ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    kind = body.get("type") if isinstance(body, dict) else None
    return str(kind).rsplit("/", 1)[-1] if kind else ""


CA_FILE_ENV = "NOVACRON_CA_FILE"


def trust_for(url: str) -> ssl.SSLContext | bool:
    """What an https server's certificate must chain to: ``$NOVACRON_CA_FILE``, else the
    CA that ``novacron up --tls`` made in the data dir when there is one, else the
    system's trust store."""
    if not url.startswith("https://"):
        return True
    data_dir = Path(os.environ.get("NOVACRON_DATA_DIR") or default_data_dir())
    candidates = [os.environ.get(CA_FILE_ENV), str(data_dir / "tls" / "ca.crt")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return ssl.create_default_context(cafile=candidate)
    return True


class ApiClient:
    """Synchronous client of ``<url>/api/v1``; raises ``NovaCronError`` for every failure.

    ``token`` None sends no credentials (sign-in: the session cookie the server sets is
    kept for the client's life). ``project`` goes with every request as
    ``X-NovaCron-Project``. ``unauthorized_hint`` is added to a 401's message, e.g. where
    the rejected token came from and how to get a new one."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        project: str | None = None,
        unauthorized_hint: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.unauthorized_hint = unauthorized_hint
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if project:
            headers[PROJECT_HEADER] = project
        try:
            self._http = httpx.Client(
                base_url=f"{self.url}{API_PREFIX}",
                headers=headers,
                timeout=timeout,
                verify=trust_for(self.url),
            )
        except httpx.InvalidURL as exc:
            raise NovaCronError(f"invalid server URL {url!r}: {exc}") from exc

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, json=json, params=params)

    def delete(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, json=json, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        """``content`` is a raw body, streamed when it is an iterable (file uploads);
        ``timeout`` replaces the client's for this request."""
        response = self.send(
            method,
            path,
            json=json,
            params=params,
            content=content,
            headers=headers,
            timeout=timeout,
        )
        return self.decode(response)

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """The raw response, whatever its status (transport trouble still raises), for a
        caller that must look at a failure before it becomes an error (``decode``)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        with self._transport_errors():
            return self._http.request(
                method, path, json=json, params=query, content=content, headers=headers, **extra
            )

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Iterator[httpx.Response]:
        """A response whose body is read as it comes (``response.iter_bytes()``), for raw
        or endless answers (a console log). A failure status raises like ``request`` before
        anything is yielded; transport trouble while reading raises ``NovaCronError`` too."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        with (
            self._transport_errors(),
            self._http.stream(method, path, params=query, headers=headers, **extra) as response,
        ):
            if not response.is_success:
                response.read()
                self.decode(response)  # raises: the problem, or the status line
            yield response

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        """httpx's transport exceptions as ``NovaCronError``s that say what went wrong."""
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NovaCronError(
                f"cannot reach NovaCron at {self.url}: is the server running?"
            ) from exc
        except httpx.TimeoutException as exc:
            raise NovaCronError(f"NovaCron at {self.url} did not answer in time") from exc
        except httpx.UnsupportedProtocol as exc:
            raise NovaCronError(f"invalid server URL {self.url!r}: {exc}") from exc
        except httpx.TransportError as exc:
            raise NovaCronError(
                f"lost connection to NovaCron at {self.url}: {exc or type(exc).__name__}"
            ) from exc

    def decode(self, response: httpx.Response) -> Any:
        """The JSON of a 2xx answer (None when empty); else raises the ``NovaCronError``
        its problem+json describes."""
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise NovaCronError(
                    f"unexpected non-JSON answer from {response.request.url}"
                ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("type" in body or "detail" in body or "title" in body):
            error = from_problem(body)
            if response.status_code == 401 and self.unauthorized_hint:
                raise Unauthorized(
                    f"{error.detail} ({self.unauthorized_hint})", errors=error.errors
                )
            raise error
        text = " ".join(response.text.split())[:200]
        reason = response.reason_phrase or "error"
        raise NovaCronError(
            f"server answered {response.status_code} {reason}" + (f": {text}" if text else "")
        )
