"""API tokens over the real API: the secret is shown once and stored as a hash; scopes,
project binding, expiry and revocation are enforced; use is recorded."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from identity_helpers import PASSWORD, bearer, new_user, ok, problem, sign_in, unique
from sqlalchemy import select, update

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.models import ApiToken, AuditRecord
from novacron.testing.cluster import Cluster
from novacron.testing.security import create_project, user_token

VM = {"name": "tok-vm", "vcpus": 1, "memory_mib": 64, "disk_gib": 1}


def _row(db: Database, token_id: str) -> ApiToken:
    with db.read() as s:
        row = s.get(ApiToken, token_id)
        assert row is not None
        return row


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    cluster: Cluster, db: Database
) -> None:
    name = new_user(cluster, "tess")
    browser = sign_in(cluster, name)
    made = ok(browser.post("/tokens", json={"name": "ci", "scopes": ["compute:read"]}), 201)
    secret = made["token"]
    assert secret.startswith("nct_") and len(secret) > 40
    assert made["prefix"] == secret[:8] and made["scopes"] == ["compute:read"]
    assert made["project_id"] is None and made["last_used_at"] is None
    # Expires in 90 days unless asked otherwise.
    assert made["expires_at"] is not None

    listed = ok(browser.get("/tokens"))
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0] and secret not in str(listed)

    row = _row(db, made["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.name, row.prefix, row.token_hash}
    assert row.user_id is not None and row.kind == "user"
    # Each user sees only their own tokens.
    assert made["id"] not in [t["id"] for t in ok(cluster.api.get("/tokens"))]
    browser.close()


def test_scopes_limit_what_a_token_may_do(cluster: Cluster) -> None:
    name = unique("ursula")
    # An admin of the default project, with a read-only token.
    read_only = user_token(
        cluster.url, cluster.token, name, {"default": "admin"}, scopes=["compute:read"]
    )
    with bearer(cluster, read_only) as api:
        assert ok(api.get("/vms"))["items"] == []
        denied = problem(api.post("/vms", json=VM), 403)
        assert denied["detail"] == "the token's scopes do not allow compute:write"
        problem(api.get("/corporate/targets"), 403)
        problem(api.get("/projects/default/members"), 403)
        # Its own account is out of scope too: it cannot mint or revoke tokens.
        problem(api.post("/tokens", json={"name": "more", "scopes": ["compute:read"]}), 403)
        problem(api.get("/auth/whoami"), 403)

    minter = user_token(
        cluster.url,
        cluster.token,
        name,
        scopes=["compute:read", "self:read", "self:write"],
    )
    with bearer(cluster, minter) as api:
        assert ok(api.get("/auth/whoami"))["scopes"] == ["compute:read", "self:read", "self:write"]
        for wider in (["compute:write"], ["*"], ["compute:*"], ["*:read"]):
            refused = problem(api.post("/tokens", json={"name": "wider", "scopes": wider}), 422)
            assert refused["errors"][0]["loc"] == ["body", "scopes"]
        narrower = ok(api.post("/tokens", json={"name": "narrow", "scopes": ["compute:read"]}), 201)
    with bearer(cluster, narrower["token"]) as api:
        ok(api.get("/vms"))
        problem(api.post("/vms", json=VM), 403)

    # The scope never widens the user's roles: '*' for a viewer is still a viewer.
    viewer = user_token(cluster.url, cluster.token, unique("val"), {"default": "viewer"})
    with bearer(cluster, viewer) as api:
        ok(api.get("/vms"))
        assert "not" in problem(api.post("/vms", json=VM), 403)["detail"]


def test_unknown_scopes_are_refused_with_a_field_path(cluster: Cluster) -> None:
    bad = problem(cluster.api.post("/tokens", json={"name": "x", "scopes": ["vm:delete"]}), 422)
    assert bad["errors"][0]["loc"] == ["body", "scopes"]


def test_a_project_bound_token_cannot_act_in_another_project(cluster: Cluster) -> None:
    project = create_project(cluster.url, cluster.token, unique("bound"))
    name = unique("bea")
    token = user_token(
        cluster.url, cluster.token, name, {"default": "operator", project["name"]: "operator"}
    )
    with bearer(cluster, token) as api:
        bound = ok(api.post("/tokens", json={"name": "b", "project": project["name"]}), 201)
        assert bound["project_id"] == project["id"]
        # Not a project of the user's: refused with the field named.
        stranger = create_project(cluster.url, cluster.token, unique("stranger"))
        other = problem(api.post("/tokens", json={"name": "x", "project": stranger["id"]}), 422)
        assert other["errors"][0]["loc"] == ["body", "project"]

    with bearer(cluster, bound["token"]) as api:
        # Without a project header it acts in its own project …
        assert ok(api.get("/auth/whoami"))["project"] == project["id"]
        ok(api.get("/vms"))
        # … and nowhere else, by header or query parameter, though the user could.
        for kwargs in (
            {"headers": {"X-NovaCron-Project": "default"}},
            {"params": {"project": "proj-default"}},
        ):
            refused = problem(api.get("/vms", **kwargs), 403)  # type: ignore[arg-type]
            assert refused["detail"] == "this token is bound to another project"
        # Nor can it mint a token for another project; its own tokens are bound like it.
        escape = problem(api.post("/tokens", json={"name": "x", "project": "default"}), 422)
        assert escape["errors"][0]["loc"] == ["body", "project"]
        child = ok(api.post("/tokens", json={"name": "child"}), 201)
        assert child["project_id"] == project["id"]


def test_expired_and_revoked_tokens_are_refused(cluster: Cluster, db: Database) -> None:
    made = ok(cluster.api.post("/tokens", json={"name": "short", "expires_in_days": 1}), 201)
    with bearer(cluster, made["token"]) as api:
        ok(api.get("/auth/whoami"))
        # A token cannot buy itself a longer life.
        child = ok(api.post("/tokens", json={"name": "longer", "expires_in_days": 365}), 201)
        assert child["expires_at"] == made["expires_at"]

        with db.session() as s:
            s.execute(
                update(ApiToken)
                .where(ApiToken.id == made["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert problem(api.get("/auth/whoami"), 401)["detail"] == "token expired"

    with bearer(cluster, child["token"]) as api:
        ok(api.get("/auth/whoami"))
        assert cluster.api.delete(f"/tokens/{child['id']}").status_code == 204
        assert problem(api.get("/auth/whoami"), 401)["detail"] == "invalid or revoked token"
    assert _row(db, child["id"]).revoked_at is not None
    listed = {t["id"]: t for t in ok(cluster.api.get("/tokens"))}
    assert listed[child["id"]]["revoked_at"] is not None


def test_only_the_owner_revokes_a_token(cluster: Cluster) -> None:
    owner = new_user(cluster, "olga")
    browser = sign_in(cluster, owner)
    made = ok(browser.post("/tokens", json={"name": "mine"}), 201)
    other = sign_in(cluster, new_user(cluster, "otto"))
    problem(other.send("DELETE", f"/tokens/{made['id']}"), 404)
    with bearer(cluster, made["token"]) as api:
        ok(api.get("/auth/whoami"))
    problem(browser.send("DELETE", "/tokens/tok-nope"), 404)
    assert browser.send("DELETE", f"/tokens/{made['id']}").status_code == 204
    browser.close()
    other.close()


def test_use_is_recorded_with_time_and_address(cluster: Cluster, db: Database) -> None:
    name = new_user(cluster, "uli")
    browser = sign_in(cluster, name, PASSWORD)
    made = ok(browser.post("/tokens", json={"name": "used"}), 201)
    assert (_row(db, made["id"]).last_used_at, _row(db, made["id"]).last_used_ip) == (None, None)
    before = utcnow()
    with bearer(cluster, made["token"]) as api:
        ok(api.get("/auth/whoami"))
        ok(api.get("/tokens"))  # within the minute: not recorded again
    row = _row(db, made["id"])
    assert row.last_used_at is not None and row.last_used_at >= before - timedelta(seconds=1)
    assert row.last_used_ip == "127.0.0.1"
    shown = ok(browser.get("/tokens"))[0]
    assert shown["last_used_ip"] == "127.0.0.1" and shown["last_used_at"] is not None
    browser.close()
    # The audit log notes the use too (for the token-misuse rule), once a minute.
    with db.read() as s:
        uses = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "token.use", AuditRecord.target == made["id"]
            )
        ).all()
        assert [(u.actor, u.source_ip, u.outcome) for u in uses] == [(name, "127.0.0.1", "success")]
