"""Mutes and reports over the real API: a mute needs a known check, a reason and a
future expiry; it turns the matching failure into ``muted`` until it expires or is
deleted; every report format downloads with its media type and parses; the trend
names new and resolved failures."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from compliance_live_helpers import BASE, finding, ok, problem, run
from sqlalchemy import update

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.compliance.models import ComplianceMute
from novacron.testing.cluster import Cluster


def _later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def test_a_mute_is_validated_all_at_once(live: Cluster) -> None:
    bad = {
        "check_id": "NC-NOPE-001",
        "resource_pattern": " ",
        "reason": "  ",
        "expires_at": _later(days=-1),
    }
    body = problem(live.api.post(f"{BASE}/mutes", json=bad), 422)
    fields = {e["loc"][-1]: e["msg"] for e in body["errors"]}
    assert fields == {
        "check_id": "no compliance check NC-NOPE-001",
        "resource_pattern": "a resource pattern is required ('*' for all)",
        "reason": "a mute needs a reason",
        "expires_at": "must be in the future",
    }
    missing = problem(live.api.post(f"{BASE}/mutes", json={"check_id": "NC-TLS-001"}), 422)
    assert {e["loc"][-1] for e in missing["errors"]} == {"reason", "expires_at"}
    stored = ok(live.api.get(f"{BASE}/mutes", params={"include_expired": True}))
    assert all(m["check_id"] != "NC-NOPE-001" for m in stored)


def test_a_mute_applies_until_it_expires(live: Cluster, live_db: Database) -> None:
    assert finding(run(live), "NC-TLS-001")["status"] == "fail"
    created = live.api.post(
        f"{BASE}/mutes",
        json={
            "check_id": "NC-TLS-001",
            "resource_pattern": "plat*",
            "reason": "TLS terminates at the lab's proxy",
            "expires_at": _later(days=7),
        },
    )
    mute = ok(created, 201)
    assert created.headers["location"] == f"/api/v1{BASE}/mutes/{mute['id']}"
    assert mute["created_by"] == "admin" and mute["active"] is True
    assert ok(live.api.get(f"{BASE}/mutes/{mute['id']}")) == mute
    try:
        detail = run(live)
        muted = finding(detail, "NC-TLS-001")
        assert muted["status"] == "muted" and muted["muted_status"] == "fail"
        assert muted["mute_reason"].startswith(
            "TLS terminates at the lab's proxy (muted by admin until "
        )
        assert detail["summary"]["counts"]["muted"] >= 1
        # Only the matching check is muted.
        assert finding(detail, "NC-AGT-001")["status"] == "fail"

        with live_db.session() as s:
            s.execute(
                update(ComplianceMute)
                .where(ComplianceMute.id == mute["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert finding(run(live), "NC-TLS-001")["status"] == "fail"
        assert mute["id"] not in {m["id"] for m in ok(live.api.get(f"{BASE}/mutes"))}
        everything = ok(live.api.get(f"{BASE}/mutes", params={"include_expired": True}))
        expired = next(m for m in everything if m["id"] == mute["id"])
        assert expired["active"] is False
    finally:
        assert live.api.delete(f"{BASE}/mutes/{mute['id']}").status_code == 204
    problem(live.api.get(f"{BASE}/mutes/{mute['id']}"), 404)
    problem(live.api.delete(f"{BASE}/mutes/{mute['id']}"), 404)
    audit = ok(live.api.get("/audit", params={"action": "compliance.mute."}))["items"]
    actions = [a["action"] for a in audit if a["target"] == f"compliance-mute:{mute['id']}"]
    assert actions == ["compliance.mute.create", "compliance.mute.delete"]


def test_a_deleted_mute_stops_applying(live: Cluster) -> None:
    mute = ok(
        live.api.post(
            f"{BASE}/mutes",
            json={
                "check_id": "NC-AGT-001",
                "reason": "agents on the lab bench",
                "expires_at": _later(hours=1),
            },
        ),
        201,
    )
    assert mute["resource_pattern"] == "*"
    assert finding(run(live), "NC-AGT-001")["status"] == "muted"
    assert live.api.delete(f"{BASE}/mutes/{mute['id']}").status_code == 204
    assert finding(run(live), "NC-AGT-001")["status"] == "fail"


def _report(live: Cluster, run_id: str, fmt: str) -> tuple[str, str, str]:
    response = live.api.get(f"{BASE}/runs/{run_id}/report", params={"format": fmt})
    assert response.status_code == 200, response.text
    return (
        response.headers["content-type"],
        response.headers["content-disposition"],
        response.text,
    )


def test_every_report_format_downloads_and_parses(live: Cluster) -> None:
    detail = run(live)
    run_id, total = detail["id"], len(detail["findings"])
    failing = {(f["check_id"], f["resource"]) for f in detail["findings"] if f["status"] == "fail"}

    media, disposition, html = _report(live, run_id, "html")
    assert media == "text/html; charset=utf-8"
    assert disposition == f'attachment; filename="novacron-compliance-{run_id}.html"'
    assert html.lstrip().lower().startswith("<!doctype html>") and run_id in html
    assert "the API is served over plain HTTP" in html

    media, disposition, text = _report(live, run_id, "csv")
    assert media == "text/csv; charset=utf-8"
    assert disposition.endswith(f'filename="novacron-compliance-{run_id}.csv"')
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == total
    tls_row = next(r for r in rows if r["check_id"] == "NC-TLS-001")
    assert tls_row["status"] == "fail" and tls_row["resource"] == "platform"

    media, disposition, text = _report(live, run_id, "ocsf")
    assert media == "application/json"
    assert disposition.endswith(f'filename="novacron-compliance-{run_id}.ocsf.json"')
    events = json.loads(text)
    assert len(events) == total and {e["class_uid"] for e in events} == {2003}

    media, disposition, text = _report(live, run_id, "sarif")
    assert media == "application/sarif+json"
    assert disposition.endswith(f'filename="novacron-compliance-{run_id}.sarif"')
    sarif = json.loads(text)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {check for check, _ in failing}
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == 15

    problem(live.api.get(f"{BASE}/runs/{run_id}/report", params={"format": "pdf"}), 422)


def test_the_trend_names_new_and_resolved_failures(live: Cluster) -> None:
    before = run(live)
    mute = ok(
        live.api.post(
            f"{BASE}/mutes",
            json={
                "check_id": "NC-SES-001",
                "reason": "HTTP only on the test bench",
                "expires_at": _later(hours=1),
            },
        ),
        201,
    )
    try:
        muted = run(live)
    finally:
        live.api.delete(f"{BASE}/mutes/{mute['id']}")
    after = run(live)
    page = ok(live.api.get(f"{BASE}/runs", params={"limit": 3, "trend_runs": 3}))
    assert [r["id"] for r in page["items"]] == [after["id"], muted["id"], before["id"]]
    trend = {t["run_id"]: t for t in page["trend"]}
    assert [t["run_id"] for t in page["trend"]] == [before["id"], muted["id"], after["id"]]
    ses = {"check_id": "NC-SES-001", "resource": "platform"}
    # Muted is neither failing nor passing: it drops out, then comes back as new.
    assert ses not in trend[muted["id"]]["new_failures"]
    assert trend[muted["id"]]["counts"]["muted"] == before["summary"]["counts"]["muted"] + 1
    assert ses in trend[after["id"]]["new_failures"]
    assert trend[after["id"]]["pass_rate"] == after["summary"]["pass_rate"]
    assert page["total"] >= 3
    assert ok(live.api.get(f"{BASE}/runs", params={"trend_runs": 0}))["trend"] == []
