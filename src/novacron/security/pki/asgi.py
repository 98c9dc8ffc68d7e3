"""The client certificate of a TLS connection, in the ASGI scope of each request.

Uvicorn verifies client certificates but does not hand them to the application. These
protocol classes (uvicorn's own, plus one step when a connection opens) add the ASGI
TLS extension to every HTTP request's scope::

    scope["extensions"]["tls"] = {
        "client_cert_chain": ["-----BEGIN CERTIFICATE-----…"],  # the leaf; [] if none
        "client_cert_name": "CN=…",                             # or None
        "client_cert_error": None,
        "tls_version": 0x0304,                                  # or None
        "cipher_suite": None,
        "server_cert": None,
    }

A FastAPI dependency then reads it with ``client_cert_from_scope(request.scope)`` and
turns it into an agent name with ``agents.identity_from_client_cert``. The certificate is
read once per connection (it cannot change within one). WebSocket connections are
handed over to a separate protocol and do not get the extension.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cryptography import x509
from uvicorn.protocols.http.h11_impl import H11Protocol

from novacron.security.pki import _x509

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_info(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ASGI TLS extension for one connection; None on plain HTTP."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    subject: str | None = None
    if der:
        cert = x509.load_der_x509_certificate(der)
        chain.append(_x509.cert_pem(cert))
        subject = cert.subject.rfc4514_string()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": subject,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


def with_tls_extension(app: ASGIApp, info: dict[str, Any]) -> ASGIApp:
    """``app`` with ``info`` as the TLS extension of every HTTP scope."""

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = dict(scope)
            scope["extensions"] = {**(scope.get("extensions") or {}), "tls": info}
        await app(scope, receive, send)

    return wrapped


def client_cert_from_scope(scope: Scope) -> x509.Certificate | None:
    """The client's certificate for this request, or None (no TLS, no certificate, or a
    server not started with ``uvicorn_ssl_kwargs``)."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    return x509.load_pem_x509_certificate(str(chain[0]).encode())


def _install(protocol: Any, transport: asyncio.BaseTransport) -> None:
    info = tls_info(transport.get_extra_info("ssl_object"))
    if info is not None:
        # Per connection, so the wrapper closes over this connection's certificate only.
        protocol.app = with_tls_extension(protocol.app, info)


class H11ClientCertProtocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _install(self, transport)


@functools.cache
def client_cert_protocol() -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``: httptools when installed
    (what uvicorn's ``auto`` picks), else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without the [standard] extra
        return H11ClientCertProtocol

    class HttpToolsClientCertProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            _install(self, transport)

    return HttpToolsClientCertProtocol
