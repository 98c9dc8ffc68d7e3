"""A fake OpenID provider and one NovaCron server configured to trust it, per module, on
SQLite and (with ``NOVACRON_TEST_DATABASE_URL``) PostgreSQL.

New SSO users get ``operator`` in project ``sso-team``; members of ``novacron-admins``
are platform admins. Tests give each signing-in user a unique subject and name, so they
share the server without depending on each other, and put back what they change
(``idp.reset`` runs before every test)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fake_idp import FakeIdP
from oidc_helpers import ADMIN_GROUP, PROJECT, ROLE

from novacron.core.database import Database
from novacron.security.api import oidc_routes
from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database
from novacron.testing.security import create_project

PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdP]:
    provider = FakeIdP().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, idp: FakeIdP
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("oidc")
    with fresh_database(str(request.param), tmp, PG_URL) as url:
        started = Cluster.start(
            tmp / "cluster",
            url,
            with_agent=False,
            oidc_issuer=idp.issuer,
            oidc_client_id=idp.client_id,
            oidc_client_secret=idp.client_secret,
            oidc_default_project=PROJECT,
            oidc_default_role=ROLE,
            oidc_admin_group=ADMIN_GROUP,
            login_rate_per_minute=10_000,  # every test signs in from 127.0.0.1
        )
        try:
            assert started.server is not None
            mount_oidc(started.server.app)
            create_project(started.url, started.token, PROJECT)
            yield started
        finally:
            started.stop()


def mount_oidc(app: Any) -> None:
    """Until the app factory mounts the router itself (then this is a no-op)."""
    if not any(getattr(r, "path", "") == "/auth/oidc/callback" for r in app.routes):
        app.include_router(oidc_routes.router)


@pytest.fixture(scope="module")
def db(cluster: Cluster) -> Iterator[Database]:
    database = Database(cluster.settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def person(idp: FakeIdP) -> dict[str, Any]:
    """A fresh provider user (unique subject and name) that ``/authorize`` approves."""
    tag = secrets.token_hex(3)
    claims = {
        "sub": f"subject-{tag}",
        "preferred_username": f"alice-{tag}",
        "email": f"alice-{tag}@example.test",
        "email_verified": True,
        "name": f"Alice {tag}",
        "groups": ["staff"],
    }
    idp.reset(**claims)
    return claims
