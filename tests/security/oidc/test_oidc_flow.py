"""Single sign-on end to end: a real NovaCron server, the fake provider, a browser-like
client following every redirect by hand."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fake_idp import FakeIdP
from oidc_helpers import ADMIN_GROUP, PROJECT, ROLE, audit, sso
from sqlalchemy import select

from novacron.core.database import Database
from novacron.security.models import User
from novacron.security.oidc import FLOW_COOKIE
from novacron.testing.cluster import Cluster, free_port


def whoami(client: httpx.Client, url: str) -> dict[str, Any]:
    resp = client.get(f"{url}/api/v1/auth/whoami")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def user_of(db: Database, issuer: str, subject: str) -> User | None:
    with db.read() as s:
        return s.scalar(
            select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
        )


def start_flow(url: str) -> tuple[httpx.Client, str]:
    """Up to the provider's redirect back: the client and the callback URL."""
    client = httpx.Client(timeout=30, follow_redirects=False)
    start = client.get(f"{url}/auth/oidc/login")
    at_idp = client.get(start.headers["location"])
    assert at_idp.status_code == 302, at_idp.text
    return client, at_idp.headers["location"]


def assert_refused(resp: httpx.Response, reason: str) -> None:
    assert resp.status_code == 401, resp.text
    assert "Single sign-on failed" in resp.text
    assert reason.lower() in resp.text.lower()
    assert "novacron_session" not in resp.cookies


# -- the happy path ------------------------------------------------------------------------


def test_first_sign_in_creates_the_user_with_profile_and_default_role(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any], db: Database
) -> None:
    client, back = sso(cluster.url, next_path="/vms?state=running")

    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/vms?state=running"
    assert back.cookies.get("novacron_session")
    set_cookies = back.headers.get_list("set-cookie")
    assert any(c.startswith(f'{FLOW_COOKIE}=""') and "Max-Age=0" in c for c in set_cookies)
    name = person["preferred_username"]
    assert whoami(client, cluster.url)["name"] == name

    # PKCE S256 went to the provider, and the verifier came with the code.
    sent = idp.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert sent["scope"].split()[0] == "openid"
    assert len(idp.token_requests[-1]["code_verifier"]) >= 43

    user = cluster.api.get(f"/users/{name}").json()
    assert user["email"] == person["email"]
    assert user["display_name"] == person["name"]
    assert user["platform_admin"] is False
    assert user["has_password"] is False
    members = cluster.api.get(f"/projects/{PROJECT}/members").json()
    assert {"user": name, "role": ROLE} in [{"user": m["user"], "role": m["role"]} for m in members]
    row = user_of(db, idp.issuer, person["sub"])
    assert row is not None and row.name == name

    mine = audit(cluster, actor=name)
    login = [r for r in mine if r["action"] == "auth.login"]
    assert login[-1]["outcome"] == "success"
    assert login[-1]["detail"] == {"method": "oidc", "issuer": idp.issuer}
    assert login[-1]["status_code"] == 303
    actions = {r["action"] for r in mine}
    assert {"user.create", "role.grant", "auth.login"} <= actions
    grant = next(r for r in mine if r["action"] == "role.grant")
    assert grant["detail"]["role"] == ROLE and grant["detail"]["project"] == PROJECT


def test_second_sign_in_finds_the_same_user_and_refreshes_the_profile(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any], db: Database
) -> None:
    sso(cluster.url)
    first = user_of(db, idp.issuer, person["sub"])
    assert first is not None

    idp.user["name"] = "Alice Renamed"
    idp.user["preferred_username"] = "someone-else-entirely"  # the name stays
    client, back = sso(cluster.url)

    assert back.status_code == 303
    again = user_of(db, idp.issuer, person["sub"])
    assert again is not None
    assert (again.id, again.name) == (first.id, first.name)
    assert again.display_name == "Alice Renamed"
    assert whoami(client, cluster.url)["name"] == first.name
    names = [u["name"] for u in cluster.api.get("/users").json()]
    assert "someone-else-entirely" not in names
    assert len([r for r in audit(cluster, actor=first.name) if r["action"] == "user.create"]) == 1


def test_platform_admin_follows_the_admin_group_on_every_sign_in(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    idp.user["groups"] = ["staff", ADMIN_GROUP]
    sso(cluster.url)
    name = person["preferred_username"]
    assert cluster.api.get(f"/users/{name}").json()["platform_admin"] is True

    idp.user["groups"] = ["staff"]
    sso(cluster.url)
    assert cluster.api.get(f"/users/{name}").json()["platform_admin"] is False

    changes = [
        (r["action"], r["detail"].get("platform_admin"))
        for r in audit(cluster, actor=name)
        if r["action"].startswith("role.") and "platform_admin" in r["detail"]
    ]
    assert changes == [("role.grant", True), ("role.revoke", False)]


def test_a_taken_name_gets_a_suffix_and_the_local_account_is_not_linked(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any], db: Database
) -> None:
    taken = f"bob-{secrets.token_hex(3)}"
    made = cluster.api.post("/users", json={"name": taken, "password": "Bob-Passphrase-2026"})
    assert made.status_code == 201, made.text
    idp.user["preferred_username"] = taken.upper()

    client, back = sso(cluster.url)

    assert back.status_code == 303
    assert whoami(client, cluster.url)["name"] == f"{taken}-2"
    local = user_of(db, idp.issuer, person["sub"])
    assert local is not None and local.name == f"{taken}-2"
    assert cluster.api.get(f"/users/{taken}").json()["has_password"] is True


def test_the_user_name_is_sanitised_from_the_claim(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    tag = secrets.token_hex(3)
    idp.user["preferred_username"] = f"42 Émile Zola! {tag}@Example.org"
    client, _ = sso(cluster.url)
    assert whoami(client, cluster.url)["name"] == f"emile-zola-{tag}"


def test_userinfo_supplies_claims_the_id_token_lacks(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    idp.userinfo_only = ("preferred_username", "email", "groups")
    idp.user["groups"] = [ADMIN_GROUP]
    client, back = sso(cluster.url)
    assert back.status_code == 303
    name = person["preferred_username"]
    assert whoami(client, cluster.url)["name"] == name
    user = cluster.api.get(f"/users/{name}").json()
    assert user["email"] == person["email"]
    assert user["platform_admin"] is True
    # put it back: platform admins made by a test must not linger for the others
    idp.user["groups"] = []
    sso(cluster.url)
    assert cluster.api.get(f"/users/{name}").json()["platform_admin"] is False


def test_es256_id_tokens_are_accepted(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    idp.sign_with = "es256"
    client, back = sso(cluster.url)
    assert back.status_code == 303
    assert whoami(client, cluster.url)["name"] == person["preferred_username"]


def test_cross_site_callback_moves_on_from_our_own_page(
    cluster: Cluster, person: dict[str, Any]
) -> None:
    """The browser would not send the Strict session cookie along a 303 that follows a
    cross-site redirect: the callback answers with a page that navigates instead."""
    client, back = sso(cluster.url, next_path="/hosts", headers={"Sec-Fetch-Site": "cross-site"})
    assert back.status_code == 200, back.text
    assert '<meta http-equiv="refresh" content="0;url=/hosts">' in back.text
    assert back.cookies.get("novacron_session")
    assert whoami(client, cluster.url)["name"] == person["preferred_username"]


@pytest.mark.parametrize("evil", ["https://evil.example/steal", "//evil.example/x"])
def test_next_is_a_local_path_only(cluster: Cluster, person: dict[str, Any], evil: str) -> None:
    _, back = sso(cluster.url, next_path=evil)
    assert back.status_code == 303
    assert back.headers["location"] == "/"


def test_login_when_already_signed_in_goes_straight_on(
    cluster: Cluster, person: dict[str, Any]
) -> None:
    client, _ = sso(cluster.url)
    resp = client.get(f"{cluster.url}/auth/oidc/login", params={"next": "/images"})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/images"


def test_the_flow_cookie_is_httponly_lax_short_lived_and_path_scoped(cluster: Cluster) -> None:
    resp = httpx.get(f"{cluster.url}/auth/oidc/login", follow_redirects=False, timeout=30)
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith(FLOW_COOKIE))
    attrs = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attrs
    assert "SameSite=lax" in cookie and "Path=/auth/oidc" in cookie and "Max-Age=600" in cookie
    location = urlsplit(resp.headers["location"])
    query = parse_qs(location.query)
    assert query["redirect_uri"] == [f"{cluster.url}/auth/oidc/callback"]


# -- refusals ------------------------------------------------------------------------------


def test_a_tampered_state_is_refused_and_audited(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any], db: Database
) -> None:
    client, callback = start_flow(cluster.url)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"]

    resp = client.get(f"{cluster.url}{parts.path}?{urlencode(query)}")

    assert_refused(resp, "state does not match")
    assert user_of(db, idp.issuer, person["sub"]) is None
    failures = audit(cluster, action="auth.login", outcome="failure")
    assert any(
        r["detail"].get("method") == "oidc" and "state does not match" in r["detail"]["reason"]
        for r in failures
    )


def test_a_non_ascii_state_is_refused_not_a_crash(cluster: Cluster, person: dict[str, Any]) -> None:
    client, callback = start_flow(cluster.url)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "état-ünïcode"
    assert_refused(client.get(f"{cluster.url}{parts.path}?{urlencode(query)}"), "state")


def test_an_unverified_email_is_not_stored(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    idp.user["email_verified"] = False
    client, _ = sso(cluster.url)
    name = whoami(client, cluster.url)["name"]
    assert cluster.api.get(f"/users/{name}").json()["email"] == ""


def test_a_tampered_flow_cookie_is_refused(cluster: Cluster, person: dict[str, Any]) -> None:
    client, callback = start_flow(cluster.url)
    value = client.cookies[FLOW_COOKIE]
    client.cookies.clear()
    client.cookies.set(FLOW_COOKIE, value[:-4] + "AAAA", path="/auth/oidc")
    assert_refused(client.get(callback), "tampered with")


def test_a_callback_without_the_flow_cookie_is_refused(
    cluster: Cluster, person: dict[str, Any]
) -> None:
    _, callback = start_flow(cluster.url)
    assert_refused(httpx.get(callback, timeout=30), "no sign-in is under way")


def test_a_code_is_good_once(cluster: Cluster, person: dict[str, Any]) -> None:
    client, callback = start_flow(cluster.url)
    flow_cookie = client.cookies[FLOW_COOKIE]
    assert client.get(callback).status_code == 303
    replay = httpx.get(callback, cookies={FLOW_COOKIE: flow_cookie}, timeout=30)
    assert_refused(replay, "refused the code")


def test_the_provider_saying_no_is_refused(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    idp.deny = "access_denied"
    _, back = sso(cluster.url)
    assert_refused(back, "refused the sign-in: the user said no")


def _now() -> int:
    return int(time.time())


# A few end to end; test_oidc_protocol checks every claim and signature rule one by one.
BAD_TOKENS: dict[str, tuple[dict[str, Any], str, str]] = {
    "wrong nonce": ({"nonce": "not-the-one"}, "rs256", "nonce does not match"),
    "wrong audience": ({"aud": "another-client"}, "rs256", "meant for another client"),
    "wrong issuer": ({"iss": "http://127.0.0.1:1/evil"}, "rs256", "was issued by"),
    "expired": ({"exp": _now() - 3600, "iat": _now() - 7200}, "rs256", "has expired"),
    "bad signature": ({}, "foreign", "not validly signed"),
    "unknown key": ({}, "foreign-kid", "does not publish"),
    "hs256 with the client secret": ({}, "hs256", "not validly signed"),
    "alg none": ({}, "none", "not validly signed"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_an_invalid_id_token_is_refused(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any], db: Database, case: str
) -> None:
    tamper, sign_with, reason = BAD_TOKENS[case]
    idp.tamper, idp.sign_with = dict(tamper), sign_with
    _, back = sso(cluster.url)
    assert_refused(back, reason)
    assert user_of(db, idp.issuer, person["sub"]) is None


def test_a_disabled_user_cannot_sign_in_by_sso(
    cluster: Cluster, idp: FakeIdP, person: dict[str, Any]
) -> None:
    client, _ = sso(cluster.url)
    name = whoami(client, cluster.url)["name"]
    disabled = cluster.api.patch(f"/users/{name}", json={"disabled": True})
    assert disabled.status_code == 200, disabled.text

    _, back = sso(cluster.url)

    assert_refused(back, "is disabled")
    refused = [r for r in audit(cluster, actor=name) if r["outcome"] == "failure"]
    assert refused[-1]["action"] == "auth.login"
    assert refused[-1]["detail"]["method"] == "oidc"
    assert refused[-1]["status_code"] == 401
    cluster.api.patch(f"/users/{name}", json={"disabled": False})
    assert sso(cluster.url)[1].status_code == 303


def test_the_routes_answer_404_while_sso_is_off(cluster: Cluster) -> None:
    assert cluster.server is not None
    settings = cluster.server.app.state.settings
    issuer = settings.oidc_issuer
    settings.oidc_issuer = None
    try:
        for path in ("/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"):
            resp = httpx.get(f"{cluster.url}{path}", follow_redirects=False, timeout=30)
            assert resp.status_code == 404, (path, resp.text)
            assert "not configured" in resp.json()["detail"]
    finally:
        settings.oidc_issuer = issuer


def test_an_unreachable_provider_gets_a_clear_page(cluster: Cluster) -> None:
    assert cluster.server is not None
    settings = cluster.server.app.state.settings
    issuer = settings.oidc_issuer
    settings.oidc_issuer = f"http://127.0.0.1:{free_port()}"
    try:
        resp = httpx.get(f"{cluster.url}/auth/oidc/login", follow_redirects=False, timeout=30)
    finally:
        settings.oidc_issuer = issuer
    assert resp.status_code == 502, resp.text
    assert "Identity provider error" in resp.text
    assert "discovery document failed" in resp.text
    assert FLOW_COOKIE not in resp.cookies
