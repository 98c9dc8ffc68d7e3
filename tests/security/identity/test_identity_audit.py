"""The audit log over the real API: one record per mutating request (and per refused
one) carrying the response's request id; the hash chain verifies, and tampering with the
database (changing, deleting a middle or the last record) is found at the right record;
pruning keeps it verifiable; exports round-trip and verify on their own."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from identity_helpers import (
    PASSWORD,
    audit_of,
    bearer,
    login_response,
    new_user,
    ok,
    problem,
    sign_in,
    unique,
)
from sqlalchemy import delete, func, select, update

from novacron.core.database import Database
from novacron.security.audit import log as audit_log
from novacron.security.models import AuditRecord
from novacron.testing.cluster import Cluster
from novacron.testing.security import user_token


def _one(db: Database, response: httpx.Response) -> AuditRecord:
    """The request's one record (besides ``token.use``, which notes a token's use at most
    once a minute whatever the request)."""
    request_id = response.headers["x-request-id"]
    records = [r for r in audit_of(db, request_id) if r.action != "token.use"]
    assert len(records) == 1, [(r.action, r.status_code) for r in records]
    record = records[0]
    assert record.request_id == request_id and record.source_ip == "127.0.0.1"
    assert record.status_code == response.status_code
    return record


def _fields(record: AuditRecord) -> tuple[str, str, str, str, str]:
    return (record.actor, record.actor_kind, record.action, record.target, record.outcome)


def _count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def test_every_mutating_request_appends_exactly_one_record(cluster: Cluster, db: Database) -> None:
    api = cluster.api
    name = unique("ada")
    created = api.post("/users", json={"name": name, "password": PASSWORD})
    record = _one(db, created)
    assert _fields(record) == ("admin", "user", "user.create", f"user:{name}", "success")
    assert (record.status_code, record.project_id) == (201, "proj-default")
    assert record.detail == {"platform_admin": False}

    patched = api.patch(f"/users/{name}", json={"display_name": "Ada L."})
    assert _fields(_one(db, patched))[2:] == ("user.update", f"user:{name}", "success")

    project = unique("audited")
    made = api.post("/projects", json={"name": project})
    assert _fields(_one(db, made))[2:] == ("project.create", f"project:{project}", "success")

    # Failures of routes that write no event of their own: the middleware records them.
    invalid = api.post("/users", json={"name": "x y"})
    assert _fields(_one(db, invalid)) == (
        "admin",
        "user",
        "http.create_user",
        "POST /api/v1/users",
        "failure",
    )
    assert _one(db, invalid).detail == {"route": "/api/v1/users"}
    missing = api.delete("/vms/no-such-vm")
    assert _fields(_one(db, missing))[2:] == (
        "http.delete_vm",
        "DELETE /api/v1/vms/no-such-vm",
        "failure",
    )
    assert _one(db, missing).status_code == 404

    # Sign-in, good and bad: one record each, the actor is the name tried.
    good = login_response(cluster, name)
    assert _fields(_one(db, good)) == (name, "user", "auth.login", "", "success")
    bad = login_response(cluster, name, "Not-The-Password-1")
    failed = _one(db, bad)
    assert _fields(failed) == (name, "user", "auth.login", "", "failure")
    assert failed.detail == {"method": "password", "reason": "wrong user name or password"}
    ghost = login_response(cluster, "no-such-user", "Not-The-Password-1")
    assert _fields(_one(db, ghost))[:3] == ("no-such-user", "user", "auth.login")

    browser = sign_in(cluster, name)
    token = browser.post("/tokens", json={"name": "t", "scopes": ["compute:read"]})
    token_id = token.json()["id"]
    assert _fields(_one(db, token))[2:] == ("token.create", f"token:{token_id}", "success")
    revoked = browser.send("DELETE", f"/tokens/{token_id}")
    assert _fields(_one(db, revoked))[2:] == ("token.revoke", f"token:{token_id}", "success")
    logout = browser.post("/auth/logout")
    assert _fields(_one(db, logout)) == (name, "user", "auth.logout", "", "success")
    assert _one(db, logout).status_code == 204
    browser.close()

    # Reads leave no trace.
    before = _count(db)
    ok(api.get("/users"))
    ok(api.get("/audit", params={"limit": 1}))
    assert _count(db) == before


def test_refused_requests_are_recorded_as_denied_under_their_caller(
    cluster: Cluster, db: Database
) -> None:
    viewer = unique("vera")
    token = user_token(cluster.url, cluster.token, viewer, {"default": "viewer"})
    with bearer(cluster, token) as api:
        forbidden = api.post("/users", json={"name": unique("x"), "password": PASSWORD})
        problem(forbidden, 403)
        record = _one(db, forbidden)
        assert _fields(record) == (viewer, "user", "access.denied", "POST /api/v1/users", "denied")
        # Refused reads are recorded too.
        read = api.get("/audit")
        assert _fields(_one(db, read))[:3] == (viewer, "user", "access.denied")

    anonymous = httpx.get(f"{cluster.url}/api/v1/vms")
    assert _fields(_one(db, anonymous)) == (
        "anonymous",
        "anonymous",
        "access.denied",
        "GET /api/v1/vms",
        "denied",
    )
    assert _one(db, anonymous).status_code == 401

    # A cookie request without its CSRF token: refused, and attributed to the user.
    name = new_user(cluster, "cora")
    browser = sign_in(cluster, name)
    no_csrf = browser.client.post("/tokens", json={"name": "x"})
    assert _fields(_one(db, no_csrf)) == (name, "user", "access.denied", "POST /api/v1/tokens",
                                          "denied")  # fmt: skip
    browser.close()

    # The platform admin sees them through the API, filtered.
    page = ok(cluster.api.get("/audit", params={"actor": viewer, "outcome": "denied"}))
    assert [i["action"] for i in page["items"]] == ["access.denied", "access.denied"]
    assert {i["status_code"] for i in page["items"]} == {403}


def test_audit_list_filters_and_pages(cluster: Cluster) -> None:
    name = new_user(cluster, "pam")
    for _ in range(3):
        login_response(cluster, name, "Not-The-Password-1")
    query = {"actor": name, "action": "auth.", "limit": 2}
    first = ok(cluster.api.get("/audit", params=query))
    assert [i["outcome"] for i in first["items"]] == ["failure", "failure"]
    assert first["next_after_seq"] == first["items"][-1]["seq"]
    rest = ok(cluster.api.get("/audit", params={**query, "after_seq": first["next_after_seq"]}))
    assert len(rest["items"]) == 1 and rest["next_after_seq"] is None
    assert problem(cluster.api.get("/audit", params={"outcome": "maybe"}), 422)["errors"][0][
        "loc"
    ] == ["query", "outcome"]


# -- the chain -------------------------------------------------------------------------------


def _verify(cluster: Cluster) -> dict[str, Any]:
    body: dict[str, Any] = ok(cluster.api.get("/audit/verify"))
    return body


def _snapshot(db: Database, seq: int) -> dict[str, Any]:
    with db.read() as s:
        row = s.get(AuditRecord, seq)
        assert row is not None
        return {c.key: getattr(row, c.key) for c in AuditRecord.__table__.columns}


@contextmanager
def _tampered(db: Database, seq: int, change: Callable[[Any], None]) -> Any:
    """Apply ``change`` to the database, then put record ``seq`` back as it was."""
    saved = _snapshot(db, seq)
    with db.session() as s:
        change(s)
    try:
        yield
    finally:
        with db.session() as s:
            s.execute(delete(AuditRecord).where(AuditRecord.seq == seq))
            s.add(AuditRecord(**saved))


def _records_for_tampering(cluster: Cluster, db: Database) -> tuple[int, int]:
    """At least a few records; returns (a middle seq, the last seq)."""
    for _ in range(3):
        login_response(cluster, "tamper-probe", "Not-The-Password-1")
    with db.read() as s:
        last = int(s.scalar(select(func.max(AuditRecord.seq))) or 0)
        first = int(s.scalar(select(func.min(AuditRecord.seq))) or 0)
    return (first + last) // 2, last


def test_verify_finds_each_kind_of_tampering_at_the_right_record(
    cluster: Cluster, db: Database
) -> None:
    middle, last = _records_for_tampering(cluster, db)
    assert _verify(cluster)["ok"] is True

    def set_values(**values: Any) -> Callable[[Any], None]:
        return lambda s: s.execute(
            update(AuditRecord).where(AuditRecord.seq == middle).values(**values)
        )

    for change in (set_values(detail={"forged": True}), set_values(actor="mallory")):
        with _tampered(db, middle, change):
            broken = _verify(cluster)
            assert (broken["ok"], broken["broken_at"]) == (False, middle)
            assert broken["reason"] == "record content was changed"
            assert broken["summary"].startswith(f"audit chain BROKEN at seq {middle}")
        assert _verify(cluster)["ok"] is True

    remove_middle: Callable[[Any], None] = lambda s: s.execute(  # noqa: E731
        delete(AuditRecord).where(AuditRecord.seq == middle)
    )
    with _tampered(db, middle, remove_middle):
        broken = _verify(cluster)
        assert (broken["ok"], broken["broken_at"]) == (False, middle)
        assert broken["reason"] == f"record {middle} is missing (the next one is {middle + 1})"
    assert _verify(cluster)["ok"] is True

    remove_last: Callable[[Any], None] = lambda s: s.execute(  # noqa: E731
        delete(AuditRecord).where(AuditRecord.seq == last)
    )
    with _tampered(db, last, remove_last):
        broken = _verify(cluster)
        assert (broken["ok"], broken["broken_at"], broken["last_seq"]) == (False, last, last - 1)
        assert broken["reason"] == (
            f"records after seq {last - 1} were removed (the log had reached seq {last})"
        )
    intact = _verify(cluster)
    assert intact["ok"] is True and intact["last_seq"] == last


def test_prune_keeps_the_chain_verifiable_and_is_recorded(cluster: Cluster, db: Database) -> None:
    for _ in range(4):
        login_response(cluster, "prune-probe", "Not-The-Password-1")
    with db.read() as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    cut = rows[len(rows) // 2]
    # Everything strictly older than the record after the cut goes.
    older_than = rows[len(rows) // 2 + 1].ts
    assert cut.ts < older_than
    with db.session() as s:
        pruned = audit_log.prune(s, older_than, actor="admin")
    assert pruned == cut.seq - rows[0].seq + 1

    result = _verify(cluster)
    assert result["ok"] is True and result["first_seq"] == cut.seq + 1
    with db.read() as s:
        newest = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert newest is not None
        assert (newest.action, newest.actor, newest.actor_kind) == (
            "audit.prune",
            "admin",
            "system",
        )
        assert newest.detail["pruned"] == pruned and newest.detail["through_seq"] == cut.seq
    with db.session() as s:
        assert audit_log.prune(s, rows[0].ts) == 0  # nothing that old is left

    # New records chain on, and tampering with the first retained one is still caught.
    login_response(cluster, "prune-probe", "Not-The-Password-1")
    assert _verify(cluster)["ok"] is True
    first = cut.seq + 1
    remove_first: Callable[[Any], None] = lambda s: s.execute(  # noqa: E731
        delete(AuditRecord).where(AuditRecord.seq == first)
    )
    with _tampered(db, first, remove_first):
        broken = _verify(cluster)
        assert (broken["ok"], broken["broken_at"]) == (False, first)
    assert _verify(cluster)["ok"] is True


# -- exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_round_trip_and_verify(cluster: Cluster, fmt: str) -> None:
    login_response(cluster, "export-probe", "Not-The-Password-1")
    response = cluster.api.get("/audit/export", params={"format": fmt})
    assert response.status_code == 200
    media = "application/x-ndjson" if fmt == "json" else "text/csv"
    assert response.headers["content-type"].startswith(media)
    suffix = "jsonl" if fmt == "json" else "csv"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="novacron-audit.{suffix}"'
    )
    body = response.text
    records = audit_log.read_export(body, fmt)
    listed = ok(cluster.api.get("/audit", params={"limit": 1000}))["items"]
    assert [r["seq"] for r in records] == [i["seq"] for i in listed]
    for record, item in zip(records, listed, strict=True):
        assert (record["hash"], record["actor"], record["action"], record["detail"]) == (
            item["hash"],
            item["actor"],
            item["action"],
            item["detail"],
        )
    assert audit_log.verify_export(body, fmt).ok
    if fmt == "json":
        first = json.loads(body.splitlines()[0])
        assert first["ts"].endswith("Z") and set(first) == set(audit_log.EXPORT_COLUMNS)
    else:
        header = next(csv.reader(io.StringIO(body)))
        assert tuple(header) == audit_log.EXPORT_COLUMNS
    # An edited copy does not verify.
    target = records[-1]
    edited = body.replace(target["hash"], "f" * 64)
    assert not audit_log.verify_export(edited, fmt).ok


def test_a_time_window_export_verifies_on_its_own(cluster: Cluster) -> None:
    for _ in range(3):
        login_response(cluster, "window-probe", "Not-The-Password-1")
    items = ok(cluster.api.get("/audit", params={"actor": "window-probe"}))["items"]
    since = items[1]["ts"]
    body = cluster.api.get("/audit/export", params={"since": since}).text
    records = audit_log.read_export(body, "json")
    assert records[0]["ts"].isoformat(timespec="microseconds") == since.removesuffix("Z")
    assert records[0]["seq"] == items[1]["seq"]
    assert audit_log.verify_export(body, "json").ok
    until = (records[0]["ts"] + timedelta(microseconds=1)).isoformat() + "Z"
    just_one = cluster.api.get("/audit/export", params={"since": since, "until": until}).text
    assert len(just_one.splitlines()) == 1
