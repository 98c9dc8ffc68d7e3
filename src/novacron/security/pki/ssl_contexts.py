"""``ssl.SSLContext`` factories for the server, the agent and the CLI, and uvicorn options.

Both sides: TLS 1.2 at least; for TLS 1.2, only ECDHE key exchange with AEAD ciphers
(forward secrecy, no CBC); TLS 1.3 suites are OpenSSL's defaults, all of which are good.
Compression and renegotiation stay off (Python's defaults).

Client certificates on the server:

    client_ca=None                     no client certificates asked for
    client_ca=…, require_client=False  asked for (CERT_OPTIONAL): a client without one
                                       still connects (browsers, the CLI with a token);
                                       one that sends a certificate our CA did not
                                       issue, or an expired one, fails the handshake
    client_ca=…, require_client=True   CERT_REQUIRED: no certificate, no connection

The handshake proves the chain; the application still reads the identity per request
(``agents.identity_from_client_cert``), which also checks revocation.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

from novacron.core.errors import Invalid

#: TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only (no CBC padding oracles).
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS:!SHA1"

StrPath = str | os.PathLike[str]


def server_ssl_context(
    cert: StrPath,
    key: StrPath,
    client_ca: StrPath | None = None,
    require_client: bool = False,
) -> ssl.SSLContext:
    """The server side of TLS, with client certificates as the table above says."""
    if require_client and client_ca is None:
        raise Invalid("requiring client certificates needs a CA to verify them (client_ca)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(ctx)
    _load_chain(ctx, cert, key)
    if client_ca is not None:
        _load_ca(ctx, client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client else ssl.CERT_OPTIONAL
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_ssl_context(
    ca: StrPath | None = None,
    cert: StrPath | None = None,
    key: StrPath | None = None,
) -> ssl.SSLContext:
    """The client side: verify the server against ``ca`` (our CA file), or against the
    system's trust store when ``ca`` is None (a server with a public certificate);
    present ``cert``/``key`` when given (agents). Hostnames are always checked.

    Use with httpx as ``httpx.Client(verify=client_ssl_context(...))``.
    """
    if key is not None and cert is None:
        raise Invalid("a client key without its certificate")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED + check_hostname
    _harden(ctx)
    if ca is None:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        _load_ca(ctx, ca)
    if cert is not None:
        _load_chain(ctx, cert, key)
    return ctx


def uvicorn_ssl_kwargs(
    cert: StrPath,
    key: StrPath,
    client_ca: StrPath | None = None,
    require_client: bool = False,
    *,
    expose_client_cert: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``/``uvicorn.run`` serving HTTPS.

    Uvicorn builds its own context from these (``PROTOCOL_TLS_SERVER``, whose minimum
    on Python 3.10+ is TLS 1.2) with our cipher list. The files are checked here first,
    so a bad path fails with a message naming it rather than deep inside uvicorn.

    With ``expose_client_cert`` the ``http`` protocol is one that puts the client
    certificate into each request's ASGI scope (``asgi.client_cert_from_scope``); it is
    the protocol uvicorn's ``auto`` would have picked, plus that.
    """
    # Building the context validates files and options; uvicorn then builds its own.
    server_ssl_context(cert, key, client_ca, require_client)
    if client_ca is None:
        reqs = ssl.CERT_NONE
    else:
        reqs = ssl.CERT_REQUIRED if require_client else ssl.CERT_OPTIONAL
    kwargs: dict[str, Any] = {
        "ssl_certfile": os.fspath(cert),
        "ssl_keyfile": os.fspath(key),
        "ssl_ca_certs": os.fspath(client_ca) if client_ca is not None else None,
        "ssl_cert_reqs": int(reqs),
        "ssl_ciphers": CIPHERS,
    }
    if expose_client_cert:
        from novacron.security.pki.asgi import client_cert_protocol

        kwargs["http"] = client_cert_protocol()
    return kwargs


def _harden(ctx: ssl.SSLContext) -> None:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION


def _load_chain(ctx: ssl.SSLContext, cert: StrPath, key: StrPath | None) -> None:
    for path, what in ((cert, "TLS certificate"), (key, "TLS key")):
        if path is not None and not Path(path).is_file():
            raise Invalid(f"{what} {os.fspath(path)}: file not found")
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise Invalid(
            f"TLS certificate {os.fspath(cert)} / key {os.fspath(key or cert)}: "
            f"cannot be used together ({exc.reason or exc})"
        ) from None


def _load_ca(ctx: ssl.SSLContext, ca: StrPath) -> None:
    if not Path(ca).is_file():
        raise Invalid(f"CA certificate {os.fspath(ca)}: file not found")
    try:
        ctx.load_verify_locations(cafile=ca)
    except ssl.SSLError as exc:
        raise Invalid(
            f"CA certificate {os.fspath(ca)}: not a PEM certificate ({exc.reason or exc})"
        ) from None
