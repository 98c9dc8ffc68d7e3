"""Compliance runs against a real server: every check reports, and the platform facts
behind them are the real ones — plain HTTP, administrators' second factors, the audit
chain (tampered with in the database), credentials left as the installer made them,
idle tokens — and only platform admins may run or read them."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from compliance_live_helpers import BASE, finding, findings, ok, problem, run, unique
from sqlalchemy import select, update

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security.models import ApiToken, AuditRecord, User
from novacron.testing.cluster import Cluster
from novacron.testing.security import PASSWORD, user_token


def test_a_run_reports_every_check_and_is_kept(live: Cluster) -> None:
    checks = ok(live.api.get(f"{BASE}/checks"))
    response = live.api.post(f"{BASE}/runs")
    detail = ok(response, 201)
    assert response.headers["location"] == f"/api/v1{BASE}/runs/{detail['id']}"

    assert {f["check_id"] for f in detail["findings"]} == {c["id"] for c in checks}
    assert detail["status"] == "done" and detail["trigger"] == "manual"
    assert detail["requested_by"] == "admin"
    assert detail["finished_at"] >= detail["started_at"]
    counts = detail["summary"]["counts"]
    assert sum(counts.values()) == detail["summary"]["findings"] == len(detail["findings"])
    judged = counts["pass"] + counts["fail"]
    assert detail["summary"]["pass_rate"] == counts["pass"] / judged
    # Severity and title come from the catalogue.
    tls = finding(detail, "NC-TLS-001")
    assert tls["severity"] == "high" and tls["title"] == "API and web UI are served over TLS"

    # Read back: the same findings, in the same order.
    again = ok(live.api.get(f"{BASE}/runs/{detail['id']}"))
    assert again["findings"] == detail["findings"]
    listed = ok(live.api.get(f"{BASE}/runs", params={"limit": 5}))
    assert listed["items"][0]["id"] == detail["id"]
    assert listed["trend"][-1]["run_id"] == detail["id"]

    audit = ok(live.api.get("/audit", params={"action": "compliance.run"}))["items"]
    assert any(a["target"] == f"compliance-run:{detail['id']}" for a in audit)


def test_plain_http_fails_transport_checks(live: Cluster) -> None:
    detail = run(live)
    tls = finding(detail, "NC-TLS-001")
    assert (tls["status"], tls["evidence"]) == ("fail", "the API is served over plain HTTP")
    for dependent in ("NC-TLS-002", "NC-TLS-003"):
        assert finding(detail, dependent)["status"] == "skipped"
    assert finding(detail, "NC-AGT-001")["status"] == "fail"
    cookie = finding(detail, "NC-SES-001")
    # HttpOnly and SameSite=Strict are set; Secure only over HTTPS.
    assert cookie["status"] == "fail"
    assert cookie["evidence"] == ("Secure=False, HttpOnly=True, SameSite=strict; missing: Secure")
    policy = finding(detail, "NC-IAM-003")
    assert policy["status"] == "pass"
    assert policy["evidence"] == "min length 12, argon2id m=19456 KiB t=2 p=1"


def _enable_totp(live: Cluster, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    setup = ok(live.api.post("/auth/totp/setup", headers=headers))
    code = pyotp.TOTP(setup["secret"]).now()
    ok(live.api.post("/auth/totp/confirm", json={"code": code}, headers=headers))


def test_each_administrator_is_judged_on_their_second_factor(live: Cluster) -> None:
    with_mfa, without, project_admin, disabled = (
        unique("adm-mfa"),
        unique("adm-plain"),
        unique("proj-adm"),
        unique("adm-off"),
    )
    for name in (with_mfa, without, disabled):
        body = {"name": name, "password": PASSWORD, "platform_admin": True}
        ok(live.api.post("/users", json=body), 201)
    ok(live.api.patch(f"/users/{disabled}", json={"disabled": True}))
    _enable_totp(live, user_token(live.url, live.token, with_mfa))
    ok(live.api.post("/users", json={"name": project_admin, "password": PASSWORD}), 201)
    grant = {"user": project_admin, "role": "admin"}
    ok(live.api.post("/projects/proj-default/members", json=grant), 201)

    mfa = findings(run(live), "NC-IAM-001")
    assert mfa[f"user:{with_mfa}"]["status"] == "pass"
    assert mfa[f"user:{with_mfa}"]["evidence"] == "a second factor is enrolled"
    assert mfa[f"user:{without}"]["status"] == "fail"
    assert mfa[f"user:{project_admin}"]["status"] == "fail"  # project admins count too
    assert mfa[f"user:{disabled}"]["status"] == "skipped"
    assert mfa["user:admin"]["status"] == "fail"  # the bootstrap admin has no second factor


def test_a_tampered_audit_chain_fails_the_audit_check(live: Cluster, live_db: Database) -> None:
    assert finding(run(live), "NC-LOG-001")["status"] == "pass"
    with live_db.session() as s:
        first = s.scalar(select(AuditRecord).order_by(AuditRecord.seq).limit(1))
        assert first is not None
        seq, actor = first.seq, first.actor
        s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(actor="mallory"))
    try:
        check = finding(run(live), "NC-LOG-001")
        assert check["status"] == "fail"
        assert check["evidence"].startswith(f"chain broken at record {seq} (0 checked)")
        assert check["evidence"].endswith("record content was changed")
        assert check["severity"] == "critical"
    finally:
        with live_db.session() as s:
            s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(actor=actor))
    assert finding(run(live), "NC-LOG-001")["status"] == "pass"


def test_bootstrap_credentials_count_as_default_once_the_grace_period_is_over(
    live: Cluster, live_db: Database
) -> None:
    temp_user = unique("temp")
    ok(live.api.post("/users", json={"name": temp_user, "password": PASSWORD}), 201)
    reset = {"new_password": "Provisional-Passphrase-77"}
    assert live.api.post(f"/users/{temp_user}/password", json=reset).status_code == 204
    # Fresh from the installer: still within the 7 days to finish setting up.
    assert finding(run(live), "NC-IAM-002")["status"] == "pass"

    month_ago = utcnow() - timedelta(days=30)
    with live_db.session() as s:
        boot = [
            t
            for t in s.scalars(select(ApiToken).where(ApiToken.name.in_(["admin", "enrolment"])))
            if t.kind in ("user", "enrolment")
        ]
        saved = {t.id: t.created_at for t in boot}
        for token in boot:
            token.created_at = month_ago
        user = s.scalar(select(User).where(User.name == temp_user))
        assert user is not None and user.must_change_password
        user.password_changed_at = month_ago
    try:
        check = finding(run(live), "NC-IAM-002")
    finally:
        with live_db.session() as s:
            for token_id, created in saved.items():
                s.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(created_at=created)
                )
            s.execute(
                update(User).where(User.name == temp_user).values(password_changed_at=utcnow())
            )
    assert check["status"] == "fail" and check["severity"] == "critical"
    evidence = check["evidence"]
    assert evidence.startswith("3 default credential(s) in use: ")
    admin_file = live.settings.data_dir / "admin-token"
    assert (
        f"token:bootstrap-admin: bootstrap admin token {live.token[:8]}… issued "
        f"{month_ago:%Y-%m-%d} was never rotated and is still stored in {admin_file} "
        "(the admin user has no password: the token is its only credential)"
    ) in evidence
    assert (
        f"enrolment-secret: agent enrolment token {live.enrolment_token[:8]}… created "
        f"{month_ago:%Y-%m-%d} never expires and was never rotated "
        "(set by NOVACRON_ENROLMENT_TOKEN)"
    ) in evidence
    assert (
        f"user:{temp_user}: temporary password set by an administrator on "
        f"{month_ago:%Y-%m-%d} was never changed"
    ) in evidence


def test_a_token_unused_for_90_days_is_idle(live: Cluster, live_db: Database) -> None:
    name = unique("idle")
    token = user_token(live.url, live.token, name)
    with live_db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == f"{name}-token"))
        assert row is not None
        long_ago = utcnow() - timedelta(days=120)
        row.created_at, row.last_used_at = long_ago, long_ago
    check = finding(run(live), "NC-IAM-004")
    assert check["status"] == "fail"
    assert f"{name}-token (last used {long_ago.date().isoformat()})" in check["evidence"]
    # Revoking it is the remediation.
    tokens = ok(live.api.get("/tokens", headers={"Authorization": f"Bearer {token}"}))
    mine = next(t for t in tokens if t["name"] == f"{name}-token")
    revoked = live.api.delete(f"/tokens/{mine['id']}", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 204
    assert f"{name}-token" not in finding(run(live), "NC-IAM-004")["evidence"]


def test_only_platform_admins_reach_compliance(live: Cluster) -> None:
    name = unique("projadmin")
    token = user_token(live.url, live.token, name, {"proj-default": "admin"})
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", f"{BASE}/checks"),
        ("GET", f"{BASE}/runs"),
        ("POST", f"{BASE}/runs"),
        ("POST", f"{BASE}/mutes"),
    ):
        problem(live.api.request(method, path, headers=headers, json={}), 403)
    problem(live.api.get(f"{BASE}/runs", headers={"Authorization": ""}), 401)


def test_run_findings_filter_and_missing_runs(live: Cluster) -> None:
    detail = run(live)
    failing = ok(live.api.get(f"{BASE}/runs/{detail['id']}", params={"status": "fail"}))
    assert failing["findings"] and {f["status"] for f in failing["findings"]} == {"fail"}
    assert len(failing["findings"]) == detail["summary"]["counts"]["fail"]
    one = ok(live.api.get(f"{BASE}/runs/{detail['id']}", params={"check": "NC-IAM-003"}))
    assert [f["check_id"] for f in one["findings"]] == ["NC-IAM-003"]
    problem(live.api.get(f"{BASE}/runs/{detail['id']}", params={"status": "bad"}), 422)
    assert problem(live.api.get(f"{BASE}/runs/crun-missing"), 404)["detail"] == (
        "no compliance run crun-missing"
    )
    problem(live.api.get(f"{BASE}/runs/crun-missing/report"), 404)


def test_the_catalogue_maps_every_check_to_five_frameworks(live: Cluster) -> None:
    checks = ok(live.api.get(f"{BASE}/checks"))
    assert len(checks) == 15
    assert [c["id"] for c in checks][:2] == ["NC-TLS-001", "NC-TLS-002"]
    assert all(len(c["frameworks"]) == 5 for c in checks)
    tls = checks[0]
    assert tls["frameworks"]["PCI DSS v4.0"] == ["4.2.1", "2.2.7"]
    assert tls["scope"] == "platform" and tls["remediation"]
    hosts = {c["id"] for c in checks if c["scope"] == "host"}
    assert hosts == {"NC-AGT-002", "NC-HST-001", "NC-HST-002", "NC-HST-003", "NC-HST-004"}
