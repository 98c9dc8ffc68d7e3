"""Signing in over the real API: password storage, the session cookie, failures and
lockout, disabled users, CSRF on cookie requests, and the life of a session (logout,
password change, idle and absolute expiry)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher, Type
from identity_helpers import (
    PASSWORD,
    bearer,
    grant,
    login_response,
    new_user,
    ok,
    problem,
    sign_in,
)
from sqlalchemy import select, update

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.security import sessions
from novacron.security.models import AuditRecord, User, WebSession
from novacron.testing.cluster import Cluster
from novacron.testing.security import user_token

BAD_LOGIN = "wrong user name or password"
CLUSTER_SETTINGS = {"session_idle_minutes": 120}  # not the 8 h default: the setting counts


def _user(db: Database, name: str) -> User:
    with db.read() as s:
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None
        return user


def _set_user(db: Database, name: str, **values: object) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.name == name).values(**values))


# -- password storage and policy -------------------------------------------------------------


def test_login_sets_a_strict_httponly_cookie_and_stores_only_hashes(
    cluster: Cluster, db: Database
) -> None:
    name = new_user(cluster, "alice")
    stored = _user(db, name).password_hash
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored

    response = login_response(cluster, name.upper())  # names are case-insensitive
    body = ok(response)
    assert body["user"] == name and len(body["csrf_token"]) == 64
    header = response.headers["set-cookie"]
    parts = [p.strip() for p in header.split(";")]
    cookie_name, _, cookie = parts[0].partition("=")
    # Over plain http: no Secure flag, so no __Host- prefix either.
    assert cookie_name == "novacron_session"
    lowered = [p.lower() for p in parts]
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered and not any(p.startswith("domain") for p in lowered)

    with db.read() as s:
        row = s.scalar(select(WebSession).where(WebSession.user_id == _user(db, name).id))
        assert row is not None
        assert row.token_hash == hashlib.sha256(cookie.encode()).hexdigest()
        assert row.source_ip == "127.0.0.1" and not row.mfa_pending
        assert row.expires_at - row.created_at == timedelta(days=7)
    me = ok(httpx.get(f"{cluster.url}/api/v1/auth/whoami", cookies={cookie_name: cookie}))
    assert (me["name"], me["via"], me["platform_admin"]) == (name, "session", False)
    assert _user(db, name).last_login_at is not None


def test_password_policy_errors_are_problems_with_field_paths(cluster: Cluster) -> None:
    created = problem(cluster.api.post("/users", json={"name": "pat", "password": "short"}), 422)
    assert created["type"].endswith("/invalid")
    assert created["errors"] == [
        {"loc": ["body", "password"], "msg": "must be at least 12 characters"}
    ]
    assert cluster.api.get("/users/pat").status_code == 404  # nothing was created

    name = new_user(cluster, "quinn")
    common = problem(
        cluster.api.post(f"/users/{name}/password", json={"new_password": "password1234"}), 422
    )
    assert common["errors"] == [
        {"loc": ["body", "new_password"], "msg": "is a commonly used password"}
    ]
    own_name = problem(
        cluster.api.post(f"/users/{name}/password", json={"new_password": f"My-{name}-passphrase"}),
        422,
    )
    assert own_name["errors"][0]["msg"] == "must not contain the user name"
    # The schema's own checks name their fields the same way.
    bad_name = problem(cluster.api.post("/users", json={"name": "Bad Name!"}), 422)
    assert bad_name["errors"][0]["loc"] == ["body", "name"]

    browser = sign_in(cluster, name)
    weak = problem(
        browser.post(
            "/auth/password", json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaab"}
        ),
        422,
    )
    assert weak["errors"] == [
        {"loc": ["body", "new_password"], "msg": "repeats one or two characters"}
    ]
    wrong = problem(
        browser.post(
            "/auth/password",
            json={"current_password": "not-my-password", "new_password": "Fresh-Meadow-77-Kite"},
        ),
        422,
    )
    assert wrong["errors"] == [{"loc": ["body", "current_password"], "msg": "wrong password"}]
    browser.close()


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in(cluster: Cluster, db: Database) -> None:
    name = new_user(cluster, "legacy")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = weak.hash(PASSWORD)
    _set_user(db, name, password_hash=old)

    ok(login_response(cluster, name))
    upgraded = _user(db, name).password_hash
    assert upgraded is not None and upgraded != old
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    ok(login_response(cluster, name))  # still the same password
    assert _user(db, name).password_hash == upgraded  # nothing more to upgrade


# -- failures and lockout --------------------------------------------------------------------


def test_wrong_password_and_unknown_user_get_the_same_answer(cluster: Cluster) -> None:
    name = new_user(cluster, "bob")
    wrong = login_response(cluster, name, "Not-The-Password-1")
    unknown = login_response(cluster, "nobody-here", "Not-The-Password-1")
    no_password = login_response(cluster, new_user(cluster, "sso", password=None), PASSWORD)
    bodies = [problem(r, 401) for r in (wrong, unknown, no_password)]
    assert {b["detail"] for b in bodies} == {BAD_LOGIN}
    assert {b["type"] for b in bodies} == {"https://novacron.dev/problems/unauthorized"}
    assert all("set-cookie" not in r.headers for r in (wrong, unknown, no_password))


def test_lockout_after_five_failures_with_growing_back_off(cluster: Cluster, db: Database) -> None:
    name = new_user(cluster, "mallet")
    for attempt in range(1, 5):
        problem(login_response(cluster, name, "Guess-Number-0000"), 401)
        user = _user(db, name)
        assert (user.failed_logins, user.locked_until) == (attempt, None)

    before = utcnow()
    fifth = problem(login_response(cluster, name, "Guess-Number-0000"), 401)
    after = utcnow()
    assert fifth["detail"] == BAD_LOGIN
    locked_until = _user(db, name).locked_until
    assert locked_until is not None
    assert before + timedelta(seconds=30) <= locked_until <= after + timedelta(seconds=30)

    # Locked: even the right password is refused, and says why.
    locked = problem(login_response(cluster, name), 401)
    assert locked["type"] == "https://novacron.dev/problems/locked"
    assert locked["detail"].startswith("too many failed sign-ins: try again in ")
    assert _user(db, name).failed_logins == 5  # refused attempts while locked don't count

    # The lock runs out (moved into the past rather than waited for); the next failure
    # locks for twice as long.
    _set_user(db, name, locked_until=utcnow() - timedelta(seconds=1))
    before = utcnow()
    problem(login_response(cluster, name, "Guess-Number-0001"), 401)
    after = utcnow()
    user = _user(db, name)
    assert user.failed_logins == 6 and user.locked_until is not None
    assert before + timedelta(seconds=60) <= user.locked_until <= after + timedelta(seconds=60)

    _set_user(db, name, locked_until=utcnow() - timedelta(seconds=1))
    ok(login_response(cluster, name))
    user = _user(db, name)
    assert (user.failed_logins, user.locked_until) == (0, None)

    with db.read() as s:
        actions = [
            (r.action, r.outcome, r.status_code)
            for r in s.scalars(select(AuditRecord).where(AuditRecord.actor == name))
        ]
    assert actions.count(("auth.login", "failure", 401)) == 6
    assert actions.count(("auth.lockout", "failure", 401)) == 1
    assert actions[-1] == ("auth.login", "success", 200)


def test_an_admin_unlocks_a_locked_account(cluster: Cluster, db: Database) -> None:
    name = new_user(cluster, "locked")
    for _ in range(5):
        problem(login_response(cluster, name, "Guess-Number-0000"), 401)
    listed = ok(cluster.api.get(f"/users/{name}"))
    assert listed["failed_logins"] == 5 and listed["locked_until"] is not None
    assert problem(login_response(cluster, name), 401)["type"].endswith("/locked")

    unlock = cluster.api.post(f"/users/{name}/unlock")
    assert unlock.status_code == 204
    user = _user(db, name)
    assert (user.failed_logins, user.locked_until) == (0, None)
    ok(login_response(cluster, name))


def test_a_disabled_user_cannot_sign_in_and_loses_sessions_and_tokens(
    cluster: Cluster, db: Database
) -> None:
    name = new_user(cluster, "leaver")
    token = user_token(cluster.url, cluster.token, name, {"default": "viewer"}, password=PASSWORD)
    browser = sign_in(cluster, name)
    ok(browser.get("/auth/whoami"))
    with bearer(cluster, token) as api:
        ok(api.get("/auth/whoami"))

        out = ok(cluster.api.patch(f"/users/{name}", json={"disabled": True}))
        assert out["disabled_at"] is not None

        assert problem(browser.get("/auth/whoami"), 401)
        assert problem(api.get("/vms"), 401)
        assert problem(login_response(cluster, name), 401)["detail"] == BAD_LOGIN
        with db.read() as s:
            live = s.scalars(
                select(WebSession).where(
                    WebSession.user_id == _user(db, name).id, WebSession.revoked_at.is_(None)
                )
            ).all()
            assert live == []

        # Enabled again: the password and the token work, old sessions stay ended.
        ok(cluster.api.patch(f"/users/{name}", json={"disabled": False}))
        ok(api.get("/auth/whoami"))
        assert browser.get("/auth/whoami").status_code == 401
        _set_user(db, name, failed_logins=0, locked_until=None)
        ok(login_response(cluster, name))
    browser.close()


# -- CSRF ------------------------------------------------------------------------------------


def test_cookie_requests_that_change_things_need_the_csrf_token(cluster: Cluster) -> None:
    name = new_user(cluster, "carol")
    browser = sign_in(cluster, name)
    other = sign_in(cluster, name)
    body = {"name": "script", "scopes": ["compute:read"]}

    missing = problem(browser.client.post("/tokens", json=body), 403)
    assert "CSRF" in missing["detail"]
    problem(browser.client.post("/tokens", json=body, headers={"X-CSRF-Token": "0" * 64}), 403)
    # Another session's token is no good either: it is bound to its cookie.
    problem(browser.client.post("/tokens", json=body, headers={"X-CSRF-Token": other.csrf}), 403)
    # Cross-site requests are refused even with the token.
    problem(browser.post("/tokens", json=body, headers={"Origin": "http://evil.example"}), 403)
    problem(browser.post("/tokens", json=body, headers={"Sec-Fetch-Site": "cross-site"}), 403)
    assert ok(browser.get("/tokens")) == []  # none of them made a token

    made = ok(browser.post("/tokens", json=body, headers={"Origin": cluster.url}), 201)
    assert made["token"].startswith("nct_")
    # Reads need no CSRF token.
    assert [t["id"] for t in ok(browser.get("/tokens"))] == [made["id"]]

    # A bearer token never needs one: browsers don't send it by themselves.
    with bearer(cluster, cluster.token) as api:
        ok(api.post("/users", json={"name": f"{name}-x", "password": PASSWORD}), 201)
    browser.close()
    other.close()


# -- the life of a session -------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(cluster: Cluster, db: Database) -> None:
    name = new_user(cluster, "dora")
    browser = sign_in(cluster, name)
    cookies = dict(browser.client.cookies)
    problem(browser.client.post("/auth/logout"), 403)  # CSRF applies to logout too
    out = browser.post("/auth/logout")
    assert out.status_code == 204
    assert 'novacron_session=""' in out.headers["set-cookie"]
    # The old cookie, replayed by someone who kept it, is dead.
    assert problem(httpx.get(f"{cluster.url}/api/v1/auth/whoami", cookies=cookies), 401)
    with db.read() as s:
        rows = s.scalars(select(WebSession).where(WebSession.user_id == _user(db, name).id)).all()
        assert len(rows) == 1 and rows[0].revoked_at is not None
    browser.close()


def test_changing_the_password_ends_every_session(cluster: Cluster) -> None:
    name = new_user(cluster, "eve")
    first, second = sign_in(cluster, name), sign_in(cluster, name)
    new = "Fresh-Meadow-77-Kite"
    changed = first.post("/auth/password", json={"current_password": PASSWORD, "new_password": new})
    assert changed.status_code == 204
    assert problem(first.get("/auth/whoami"), 401)
    assert problem(second.get("/auth/whoami"), 401)
    assert problem(login_response(cluster, name), 401)["detail"] == BAD_LOGIN
    again = sign_in(cluster, name, new)
    assert ok(again.get("/auth/whoami"))["must_change_password"] is False
    for b in (first, second, again):
        b.close()


def test_an_admin_reset_makes_the_user_change_the_password(cluster: Cluster) -> None:
    name = new_user(cluster, "fay")
    grant(cluster, "default", name, "viewer")
    browser = sign_in(cluster, name)
    reset = cluster.api.post(f"/users/{name}/password", json={"new_password": "Given-By-Admin-42"})
    assert reset.status_code == 204
    assert problem(browser.get("/auth/whoami"), 401)
    browser.close()
    browser = sign_in(cluster, name, "Given-By-Admin-42")
    assert ok(browser.get("/auth/whoami"))["must_change_password"] is True
    # Until then the session reaches its own account only: the API refuses the rest, and
    # pages send the user to the account page.
    refused = problem(browser.get("/vms"), 403)
    assert "administrator set your password" in refused["detail"]
    pages = httpx.Client(base_url=cluster.url, cookies=browser.client.cookies, timeout=30)
    home = pages.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/account")
    assert pages.get("/account").status_code == 200
    pages.close()
    # Typing the temporary password again as the new one does not count.
    same = {"current_password": "Given-By-Admin-42", "new_password": "Given-By-Admin-42"}
    assert problem(browser.post("/auth/password", json=same), 422)["errors"][0]["loc"] == [
        "body",
        "new_password",
    ]
    assert ok(browser.get("/auth/whoami"))["must_change_password"] is True
    ok(
        browser.post(
            "/auth/password",
            json={"current_password": "Given-By-Admin-42", "new_password": "Chosen-By-Me-4242"},
        ),
        204,
    )
    browser.close()
    browser = sign_in(cluster, name, "Chosen-By-Me-4242")
    assert ok(browser.get("/auth/whoami"))["must_change_password"] is False
    ok(browser.get("/vms"))
    browser.close()


@pytest.mark.parametrize(
    ("idle", "expires_in", "alive"),
    [
        (timedelta(hours=1, minutes=59), timedelta(days=1), True),
        (timedelta(hours=2, minutes=1), timedelta(days=1), False),  # idle too long
        (timedelta(minutes=1), timedelta(seconds=-1), False),  # past the absolute limit
    ],
)
def test_idle_and_absolute_expiry(
    cluster: Cluster, db: Database, idle: timedelta, expires_in: timedelta, alive: bool
) -> None:
    name = new_user(cluster, "gus")
    browser = sign_in(cluster, name)
    user_id = _user(db, name).id
    now = utcnow()
    with db.session() as s:
        s.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(last_seen_at=now - idle, expires_at=now + expires_in)
        )
    response = browser.get("/auth/whoami")
    assert response.status_code == (200 if alive else 401), response.text
    if alive:
        # Being used moves the idle clock on.
        with db.read() as s:
            row = s.scalar(select(WebSession).where(WebSession.user_id == user_id))
            assert row is not None and row.last_seen_at >= now
    browser.close()


def test_password_rechecks_count_towards_lockout(cluster: Cluster, db: Database) -> None:
    """A stolen session must not become a way to guess the password without limit."""
    name = new_user(cluster, "hal")
    browser = sign_in(cluster, name)
    wrong = {"current_password": "Guess-Number-0000", "new_password": "Fresh-Meadow-77-Kite"}
    for attempt in range(1, 6):
        problem(browser.post("/auth/password", json=wrong), 422)
        assert _user(db, name).failed_logins == attempt
    assert _user(db, name).locked_until is not None
    right = {**wrong, "current_password": PASSWORD}
    assert problem(browser.post("/auth/password", json=right), 401)["type"].endswith("/locked")
    for path in ("/auth/totp/disable", "/auth/recovery-codes"):
        problem(browser.post(path, json={"password": PASSWORD}), 401)
    assert problem(login_response(cluster, name), 401)["type"].endswith("/locked")
    browser.close()


def test_the_web_form_signs_in_and_out_with_the_same_rules(cluster: Cluster) -> None:
    name = new_user(cluster, "ivy")
    with httpx.Client(base_url=cluster.url, timeout=30) as web:
        wrong = web.post("/login", data={"name": name, "password": "Not-The-Password-1"})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        assert "set-cookie" not in wrong.headers

        signed = web.post(
            "/login", data={"name": name, "password": PASSWORD, "next": "//evil.example/x"}
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        lowered = signed.headers["set-cookie"].lower()
        assert "httponly" in lowered and "samesite=strict" in lowered
        cookie = web.cookies["novacron_session"]
        assert ok(web.get("/api/v1/auth/whoami"))["name"] == name

        # The sign-out form carries the CSRF token the page rendered.
        assert web.post("/logout", data={"csrf_token": "nope"}).status_code == 403
        out = web.post("/logout", data={"csrf_token": sessions.csrf_for(cookie)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
    dead = httpx.get(f"{cluster.url}/api/v1/auth/whoami", cookies={"novacron_session": cookie})
    assert dead.status_code == 401
