"""API client: a synchronous httpx client of ``<url>/api/v1``.

Every failure (transport trouble, problem+json, any other non-2xx answer) leaves it
as a ``NovaCronError`` with a message fit for one ``error:`` line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from novacron.core.errors import NovaCronError, from_problem

API_PREFIX = "/api/v1"


def seg(value: str) -> str:
    """One path segment, quoted (names and ids never contain '/', user input might)."""
    return quote(str(value), safe="")


class ApiClient:
    """Synchronous client of ``<url>/api/v1``; raises ``NovaCronError`` for every failure."""

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        try:
            self._http = httpx.Client(
                base_url=f"{self.url}{API_PREFIX}",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=timeout,
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
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        with self._transport_errors():
            response = self._http.request(
                method, path, json=json, params=query, content=content, headers=headers, **extra
            )
        return self._decode(response)

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
                self._decode(response)  # raises: the problem, or the status line
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

    def _decode(self, response: httpx.Response) -> Any:
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
            raise from_problem(body)
        text = " ".join(response.text.split())[:200]
        reason = response.reason_phrase or "error"
        raise NovaCronError(
            f"server answered {response.status_code} {reason}" + (f": {text}" if text else "")
        )
