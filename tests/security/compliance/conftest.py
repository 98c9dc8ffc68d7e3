"""A compliant platform as plain facts; tests break one fact at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from novacron.security.compliance import (
    AdminAccount,
    AuditChainStatus,
    CookieFlags,
    DiskEncryption,
    HostFacts,
    ListeningPort,
    PasswordPolicy,
    PathEncryption,
    PendingUpdates,
    StaticContext,
    TlsFacts,
    TokenInfo,
)

NOW = datetime(2025, 3, 14, 12, 0, 0)


def good_host(name: str = "hv1", **changes: Any) -> HostFacts:
    host = HostFacts(
        name=name,
        agent_version="0.1.0",
        collected_at=NOW - timedelta(hours=1),
        disk_encryption=DiskEncryption(
            (
                PathEncryption("/", "/", "vg-root", True, "nvme0n1p3 (crypto_LUKS)"),
                PathEncryption("[SWAP]", "[SWAP]", "vg-swap", True, "nvme0n1p3 (crypto_LUKS)"),
            )
        ),
        listening_ports=(
            ListeningPort("tcp", "0.0.0.0", 22, "sshd", 812),
            ListeningPort("tcp", "0.0.0.0", 9443, "novacron-agent", 1020),
            ListeningPort("tcp", "127.0.0.1", 5432, "postgres", 640),
        ),
        pending_updates=PendingUpdates("known", ()),
        expected_ports=(9443,),
    )
    return replace(host, **changes)


def good_context(**changes: Any) -> StaticContext:
    ctx = StaticContext(
        version="0.1.0",
        tls_facts=TlsFacts(True, "TLSv1.2", NOW + timedelta(days=80)),
        mtls=True,
        admin_accounts=[AdminAccount("alice", True), AdminAccount("bob", True)],
        audit=AuditChainStatus(True, 1234),
        defaults=[],
        passwords=PasswordPolicy(12, "argon2id", 19456, 2, 1, max_length=128),
        cookie=CookieFlags(True, True, "Lax"),
        tokens=[TokenInfo("ci", "user", NOW - timedelta(days=400), NOW - timedelta(days=2))],
        host_facts=[good_host("hv1"), good_host("hv2")],
    )
    return replace(ctx, **changes)


@pytest.fixture
def make_context() -> Callable[..., StaticContext]:
    return good_context


@pytest.fixture
def make_host() -> Callable[..., HostFacts]:
    return good_host


@pytest.fixture
def now() -> datetime:
    return NOW
