"""``require_agent_cert``: the mutual-TLS check of the routes agents call.

The TLS handshake only *asks* for client certificates (``CERT_OPTIONAL``) even when
``tls_client_certs`` is ``required``: browsers, the CLI and agents that have not enrolled
yet must still connect to the same port. "Required" is enforced here, per route, after
the bearer token:

    off        nothing checked (and nothing asked for)
    optional   a certificate, if presented, must be valid, ours, unrevoked, and name the
               agent the bearer token belongs to
    required   as optional, and a request without one is refused

The agent a request must come from is ``agent_name`` when given (register: the name in
the body) or else the agent whose token authenticated the request (``require_agent``
leaves its ``Principal`` on ``request.state``; agent tokens are named ``agent:<name>``).
"""

from __future__ import annotations

from fastapi import Request

from novacron.core.database import Database
from novacron.core.errors import Forbidden, Unauthorized
from novacron.security.pki import service
from novacron.security.pki.asgi import client_cert_from_scope
from novacron.security.pki.ca import CertificateAuthority


def request_ca(request: Request) -> CertificateAuthority:
    """The CA, loaded once per app (it never changes while a server runs)."""
    ca: CertificateAuthority | None = getattr(request.app.state, "pki_ca", None)
    if ca is None:
        ca = service.server_ca(request.app.state.settings)
        request.app.state.pki_ca = ca
    return ca


def require_agent_cert(request: Request, agent_name: str | None = None) -> str | None:
    """The agent name the request's client certificate proves, or None when none was
    presented and none is required. ``Unauthorized`` for a missing (when required),
    foreign, expired, unknown or revoked certificate; ``Forbidden`` for another
    agent's certificate."""
    mode = service.client_cert_mode(request.app.state.settings)
    if mode == "off":
        return None
    cert = client_cert_from_scope(request.scope)
    if cert is None:
        if mode == "required":
            raise Unauthorized(
                "this server requires agents to present their client certificate "
                "(mutual TLS); enrol the agent with a one-time token: novacron pki token create"
            )
        return None
    db: Database = request.app.state.db
    ca = request_ca(request)
    with db.read() as s:
        name = service.verify_agent_cert(s, ca, cert)
    expected = agent_name or _token_agent(request)
    if expected is not None and expected != name:
        raise Forbidden(f"the client certificate is agent {name!r}'s, not {expected!r}'s")
    request.state.agent_cert_name = name
    return name


def _token_agent(request: Request) -> str | None:
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.kind != "agent":
        return None
    name: str = principal.name
    return name.removeprefix(service.AGENT_TOKEN_PREFIX)
