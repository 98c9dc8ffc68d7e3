"""NovaCron's PKI: its own CA, the server's TLS certificate, agent client certificates.

Pure (files they are told to read and write, no database, no HTTP):

    ca.py                 the CA directory (ca.key 0600, ca.crt): create, load, ensure
    server.py             the server certificate: issue, keep fresh, or check the user's
    agents.py             agent CSRs, signing, identity from a client certificate, rotation
    agent_credentials.py  the agent's own directory: enrol, rotate, load
    enrolment.py          one-time expiring enrolment tokens over a store protocol
    ssl_contexts.py       SSLContext factories and uvicorn options
    asgi.py               the client certificate in each request's ASGI scope

Wired into the server and the agent:

    models.py, store.py   the tables: enrolment tokens (SQL store), issued certificates
    service.py            enrol, rotate, verify, revoke; registration tokens
    guard.py              require_agent_cert: the mTLS check of agent routes
    serving.py            a server start's HTTPS: files, CA, uvicorn options, public URL
    agent_tls.py          the agent's side: trust, enrolment, client certificate, rotation
    schemas.py            API types of security/api/pki_routes.py

Errors come from ``novacron.core.errors``: ``Invalid`` for bad files and requests
(naming the file), ``Unauthorized`` for credentials that do not authenticate,
``Forbidden`` for a CSR asking for a name its enrolment does not allow.
"""

from __future__ import annotations

from novacron.security.pki._x509 import cert_pem, fingerprint, key_pem
from novacron.security.pki.agent_credentials import (
    AgentCredentials,
    check_ca_fingerprint,
    enrol,
    load_agent_credentials,
    rotate,
)
from novacron.security.pki.agents import (
    AgentKeyRequest,
    agent_uri,
    check_not_revoked,
    identity_from_client_cert,
    make_csr,
    needs_rotation,
    sign_agent_csr,
    sign_rotation_csr,
)
from novacron.security.pki.ca import CertificateAuthority, create_ca, ensure_ca, load_ca, save_ca
from novacron.security.pki.enrolment import (
    EnrolmentToken,
    EnrolmentTokens,
    EnrolmentTokenStore,
    InMemoryEnrolmentTokenStore,
)
from novacron.security.pki.server import (
    IssuedCert,
    ServerCert,
    default_server_names,
    ensure_server_cert,
    issue_server_cert,
    load_server_cert_files,
)
from novacron.security.pki.ssl_contexts import (
    client_ssl_context,
    server_ssl_context,
    uvicorn_ssl_kwargs,
)

__all__ = [
    "AgentCredentials",
    "AgentKeyRequest",
    "CertificateAuthority",
    "EnrolmentToken",
    "EnrolmentTokenStore",
    "EnrolmentTokens",
    "InMemoryEnrolmentTokenStore",
    "IssuedCert",
    "ServerCert",
    "agent_uri",
    "cert_pem",
    "check_ca_fingerprint",
    "check_not_revoked",
    "client_ssl_context",
    "create_ca",
    "default_server_names",
    "enrol",
    "ensure_ca",
    "ensure_server_cert",
    "fingerprint",
    "identity_from_client_cert",
    "issue_server_cert",
    "key_pem",
    "load_agent_credentials",
    "load_ca",
    "load_server_cert_files",
    "make_csr",
    "needs_rotation",
    "rotate",
    "save_ca",
    "server_ssl_context",
    "sign_agent_csr",
    "sign_rotation_csr",
    "uvicorn_ssl_kwargs",
]
