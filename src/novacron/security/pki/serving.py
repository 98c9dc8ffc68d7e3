"""What a server start needs for HTTPS: the certificate files, the CA, uvicorn's options.

    settings.tls off                      plain HTTP (nothing here runs)
    tls on, no tls_cert_file/key_file     our CA in <data_dir>/tls issues server.crt,
                                          reissued at start when due (the log says why)
    tls on, tls_cert_file + tls_key_file  the operator's certificate, checked first

Either way, with ``tls_client_certs`` optional or required the handshake asks clients for
a certificate from our CA (``CERT_OPTIONAL``; "required" is enforced per route, see
``guard.py``) and the certificate reaches the app through the ASGI TLS extension.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from novacron.core.config import Settings
from novacron.core.errors import Invalid
from novacron.security.pki import service
from novacron.security.pki.ca import CA_CERT_FILE, ensure_ca
from novacron.security.pki.server import (
    ServerCert,
    default_server_names,
    ensure_server_cert,
    load_server_cert_files,
)
from novacron.security.pki.ssl_contexts import client_ssl_context, uvicorn_ssl_kwargs

log = logging.getLogger("novacron.tls")


@dataclass(frozen=True)
class ServerTLS:
    cert: ServerCert
    ca_file: Path
    """Our CA: it signs agent certificates (and the server's, unless ``own_cert``)."""
    client_certs: str
    own_cert: bool
    """True when the operator supplied the server certificate."""

    def uvicorn_kwargs(self) -> dict[str, Any]:
        client_ca = None if self.client_certs == "off" else self.ca_file
        return uvicorn_ssl_kwargs(
            self.cert.cert_file, self.cert.key_file, client_ca, require_client=False
        )

    def client_context(self) -> ssl.SSLContext:
        """For this process's own calls to the server (``up``'s health checks): trust our
        CA, or the system's trust store for an operator's certificate."""
        return client_ssl_context(None if self.own_cert else self.ca_file)


def public_url(settings: Settings) -> str:
    """``public_url``, else the listen address with the scheme TLS implies."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if settings.tls else 'http'}://{host}:{settings.port}"


def server_names(settings: Settings) -> list[str]:
    """The certificate's names: loopback, this machine, the listen and public hosts."""
    names = default_server_names(settings.host)
    if settings.public_url:
        host = urlsplit(settings.public_url).hostname
        if host and host not in names:
            names.append(host)
    return names


def prepare_server_tls(settings: Settings) -> ServerTLS | None:
    """The files for HTTPS (None when TLS is off); ``Invalid`` naming the file at fault."""
    if not settings.tls:
        if settings.tls_client_certs != "off":
            log.warning(
                "tls_client_certs=%s has no effect while tls is off: agents connect over "
                "plain HTTP",
                settings.tls_client_certs,
            )
        return None
    directory = service.tls_dir(settings)
    ca = ensure_ca(directory)
    cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
    if (cert_file is None) != (key_file is None):
        given, missing = (
            ("tls_cert_file", "tls_key_file") if cert_file else ("tls_key_file", "tls_cert_file")
        )
        raise Invalid(f"{given} is set but {missing} is not: give both, or neither")
    if cert_file is not None and key_file is not None:
        cert = load_server_cert_files(cert_file, key_file)
        log.info("serving HTTPS with the certificate in %s", cert_file)
        own = True
    else:
        cert = ensure_server_cert(directory, ca, server_names(settings))
        if cert.issued:
            log.warning(
                "issued a TLS certificate for %s (%s); clients trust %s (%s)",
                ", ".join(sorted(cert.names)),
                cert.reason,
                directory / CA_CERT_FILE,
                ca.fingerprint,
            )
        own = False
    return ServerTLS(
        cert=cert,
        ca_file=directory / CA_CERT_FILE,
        client_certs=service.client_cert_mode(settings),
        own_cert=own,
    )
