"""A compliant platform as plain facts, where tests break one fact at a time; and a live
server (``live``) for the tests of the wiring."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from novacron.core.database import Database
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
from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database

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


# --- a real server, for the tests of the wiring (API, CLI, agent facts, scheduler) -----

PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """One server with a sim agent (two sim hosts on this machine) for every live test
    file of the folder: starting one takes most of the time. Tests make their own users
    and runs; one that changes shared state (the audit log, token dates) puts it back."""
    tmp = tmp_path_factory.mktemp("compliance")
    with fresh_database(str(request.param), tmp, PG_URL) as url:
        # This fleet's agent collects every fact, apt's pending updates included.
        os.environ["NOVACRON_FACTS_INTERVAL"] = "6h"
        try:
            started = Cluster.start(tmp / "cluster", url, with_agent=True, sim_hosts=2)
        finally:
            del os.environ["NOVACRON_FACTS_INTERVAL"]
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture(scope="session")
def live_db(live: Cluster) -> Iterator[Database]:
    """The live server's database, for moving timestamps instead of sleeping and for
    tampering with the audit log."""
    database = Database(live.settings.resolved_database_url)
    yield database
    database.dispose()
