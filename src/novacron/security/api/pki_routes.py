"""REST routes of pki: agent enrolment and rotation, the CA, tokens and certificates.

POST   /api/v1/agents/enrol                    public; the one-time token is the credential
POST   /api/v1/agents/rotate                   the agent's current client certificate (mTLS)
GET    /api/v1/pki/ca.crt                      public: the CA certificate (public data; an
                                               agent checks it against --ca-fingerprint)
GET    /api/v1/security/pki/ca                 platform admins, like everything below
POST   /api/v1/security/pki/tokens             a one-time enrolment token (secret shown once)
GET    /api/v1/security/pki/tokens
DELETE /api/v1/security/pki/tokens/{token_id}  revoke
GET    /api/v1/security/pki/certs              issued agent certificates
DELETE /api/v1/security/pki/certs/{serial}     revoke (the agent is cut off if it was its
                                               last valid certificate)
"""

from __future__ import annotations

import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse

from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.errors import NotFound, Unauthorized
from novacron.security.api import _events
from novacron.security.auth import require_user
from novacron.security.pki import service, store
from novacron.security.pki._x509 import cert_pem
from novacron.security.pki.asgi import client_cert_from_scope
from novacron.security.pki.enrolment import EnrolmentToken
from novacron.security.pki.guard import request_ca
from novacron.security.pki.models import AgentCertificate
from novacron.security.pki.schemas import (
    AgentCertIssued,
    AgentCertOut,
    AgentCertRevoked,
    CaOut,
    EnrolmentTokenCreate,
    EnrolmentTokenCreated,
    EnrolmentTokenOut,
    EnrolRequest,
    RotateRequest,
)
from novacron.security.tokens import Principal

agents = APIRouter(prefix="/api/v1/agents", tags=["agents"])
public = APIRouter(prefix="/api/v1/pki", tags=["pki"])
admin = APIRouter(prefix="/api/v1/security/pki", tags=["pki"], dependencies=[Depends(require_user)])


def _issued(request: Request, issued: service.Issued) -> AgentCertIssued:
    ca = request_ca(request)
    return AgentCertIssued(
        name=issued.name,
        serial=store.serial_hex(issued.cert),
        certificate=cert_pem(issued.cert),
        ca=ca.cert_pem,
        ca_fingerprint=ca.fingerprint,
        not_after=issued.cert.not_valid_after_utc,
        registration_token=issued.registration_token,
    )


def _as_agent(request: Request, name: str) -> None:
    """Audit records of these routes name the agent, not "anonymous"."""
    request.state.principal = Principal(name=f"{service.AGENT_TOKEN_PREFIX}{name}", kind="agent")


# -- agents ------------------------------------------------------------------------------


@agents.post("/enrol", response_model=AgentCertIssued, status_code=201)
def enrol_agent(request: Request, body: EnrolRequest) -> AgentCertIssued:
    """Exchange a one-time enrolment token and a CSR for a client certificate."""
    service.require_mtls(request.app.state.settings)
    ca = request_ca(request)
    with db_of(request).session() as s:
        issued = service.enrol_agent(s, ca, body.token, body.name, body.csr)
    _as_agent(request, issued.name)
    _events.record(
        request,
        "pki.agent.enrol",
        target=f"agent:{issued.name}",
        detail={"serial": store.serial_hex(issued.cert), "enrolment_token": issued.token_id},
    )
    return _issued(request, issued)


@agents.post("/rotate", response_model=AgentCertIssued, status_code=201)
def rotate_agent_cert(request: Request, body: RotateRequest) -> AgentCertIssued:
    """A new certificate for the agent whose current certificate this connection carries."""
    service.require_mtls(request.app.state.settings)
    presented = client_cert_from_scope(request.scope)
    if presented is None:
        raise Unauthorized("rotation needs the agent's current client certificate (mutual TLS)")
    ca = request_ca(request)
    with db_of(request).session() as s:
        issued = service.rotate_agent(s, ca, presented, body.csr)
    _as_agent(request, issued.name)
    _events.record(
        request,
        "pki.agent.rotate",
        target=f"agent:{issued.name}",
        detail={"serial": store.serial_hex(issued.cert), "previous": store.serial_hex(presented)},
    )
    return _issued(request, issued)


# -- public ------------------------------------------------------------------------------


@public.get(
    "/ca.crt",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def ca_certificate(request: Request) -> PlainTextResponse:
    """The CA certificate (public data: agents pin it by fingerprint before trusting it)."""
    return PlainTextResponse(request_ca(request).cert_pem, media_type="application/x-pem-file")


# -- platform admins ---------------------------------------------------------------------


@admin.get("/ca", response_model=CaOut)
def get_ca(request: Request) -> CaOut:
    settings = request.app.state.settings
    ca = request_ca(request)
    return CaOut(
        fingerprint=ca.fingerprint,
        subject=ca.cert.subject.rfc4514_string(),
        not_before=ca.cert.not_valid_before_utc,
        not_after=ca.cert.not_valid_after_utc,
        certificate=ca.cert_pem,
        tls=settings.tls,
        client_certs=service.client_cert_mode(settings),
    )


def _token_out(token: EnrolmentToken, now: datetime.datetime) -> EnrolmentTokenOut:
    return EnrolmentTokenOut(
        id=token.id,
        state=token.state(now),
        created_at=token.created_at,
        expires_at=token.expires_at,
        for_name=token.for_name,
        used_at=token.used_at,
        used_by=token.used_by,
        revoked_at=token.revoked_at,
        created_by=token.created_by,
    )


@admin.post("/tokens", response_model=EnrolmentTokenCreated, status_code=201)
def create_enrolment_token(request: Request, body: EnrolmentTokenCreate) -> EnrolmentTokenCreated:
    principal: Principal = request.state.principal
    with db_of(request).session() as s:
        token, secret = service.issue_enrolment_token(
            s, datetime.timedelta(seconds=body.ttl_seconds), body.for_name, principal.name
        )
    try:
        ca_fingerprint: str | None = request_ca(request).fingerprint
    except NotFound:
        ca_fingerprint = None  # TLS is off: the token waits for the day it is turned on
    _events.record(
        request,
        "pki.token.create",
        target=f"enrolment-token:{token.id}",
        detail={"for_name": token.for_name, "expires_at": token.expires_at.isoformat()},
    )
    return EnrolmentTokenCreated(
        **_token_out(token, utcnow()).model_dump(),
        token=secret,
        ca_fingerprint=ca_fingerprint,
    )


@admin.get("/tokens", response_model=list[EnrolmentTokenOut])
def list_enrolment_tokens(request: Request) -> list[EnrolmentTokenOut]:
    now = utcnow()
    with db_of(request).read() as s:
        return [_token_out(t, now) for t in service.enrolment_tokens(s).list()]


@admin.delete("/tokens/{token_id}", status_code=204)
def revoke_enrolment_token(request: Request, token_id: str) -> Response:
    with db_of(request).session() as s:
        service.enrolment_tokens(s).revoke(token_id)
    _events.record(request, "pki.token.revoke", target=f"enrolment-token:{token_id}")
    return Response(status_code=204)


def _cert_out(row: AgentCertificate, now: datetime.datetime) -> dict[str, object]:
    return {
        "serial": row.serial,
        "agent_name": row.agent_name,
        "state": store.certificate_state(row, now),
        "issued_at": row.issued_at,
        "not_after": row.not_after,
        "revoked_at": row.revoked_at,
    }


@admin.get("/certs", response_model=list[AgentCertOut])
def list_agent_certs(
    request: Request,
    agent: str | None = Query(None, max_length=64, description="Only this agent's"),
    valid: bool = Query(False, description="Only certificates neither revoked nor expired"),
) -> list[dict[str, object]]:
    now = utcnow()
    with db_of(request).read() as s:
        rows = store.list_certificates(s, agent_name=agent, active_at=now if valid else None)
        return [_cert_out(r, now) for r in rows]


@admin.delete("/certs/{serial}", response_model=AgentCertRevoked)
def revoke_agent_cert(request: Request, serial: str) -> dict[str, object]:
    with db_of(request).session() as s:
        revoked = service.revoke_certificate(s, serial)
        out = {**_cert_out(revoked.certificate, utcnow()), "cut_off": revoked.cut_off}
    _events.record(
        request,
        "pki.cert.revoke",
        target=f"agent:{out['agent_name']}",
        detail={"serial": out["serial"], "cut_off": revoked.cut_off},
    )
    return out


router = APIRouter()
router.include_router(agents)
router.include_router(public)
router.include_router(admin)
