"""Fixtures for the PKI tests: CAs and a fixed clock (pure tests never read the time)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cryptography import x509

from novacron.security.pki import CertificateAuthority, create_ca, make_csr, sign_agent_csr
from novacron.security.pki.agents import AgentKeyRequest

NOW = datetime.datetime(2031, 3, 1, 12, 0, tzinfo=datetime.UTC)

IssueAgent = Callable[..., tuple[AgentKeyRequest, x509.Certificate]]


@pytest.fixture
def now() -> datetime.datetime:
    return NOW


@pytest.fixture(scope="session")
def ca() -> CertificateAuthority:
    return create_ca(now=NOW - datetime.timedelta(days=1))


@pytest.fixture(scope="session")
def other_ca() -> CertificateAuthority:
    return create_ca("Someone else's CA", now=NOW - datetime.timedelta(days=1))


@pytest.fixture
def issue_agent(ca: CertificateAuthority) -> IssueAgent:
    """``issue_agent(name, ca=..., now=..., days=...)``: a key and its agent certificate."""

    def issue(
        name: str,
        *,
        by: CertificateAuthority | None = None,
        at: datetime.datetime = NOW,
        days: int = 90,
    ) -> tuple[AgentKeyRequest, x509.Certificate]:
        request = make_csr(name)
        return request, sign_agent_csr(by or ca, request.csr_pem, name, days, now=at)

    return issue
