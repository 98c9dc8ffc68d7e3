"""The security pages over real HTTP (a server without agents), read as HTML: who may open
which page, the sidebar's projects and the project switcher, two-factor set-up with its
QR code, quota bars, the audit log's filters and pages, and the single sign-on button.
The browser flows are in ``tests/browser/test_security_pages.py``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pyotp
import pytest

from novacron.core.config import Settings
from novacron.security import web_views
from novacron.security.context import PROJECT_COOKIE
from novacron.testing.cluster import ServerThread, free_port, web_session_cookies

PASSWORD = "pages-Passphrase-2026"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text[:500]
    return response.json() if "json" in response.headers.get("content-type", "") else None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data_dir = tmp_path_factory.mktemp("security-pages")
    settings = Settings(
        data_dir=data_dir, port=free_port(), enrolment_token=None, login_rate_per_minute=10_000
    )
    thread = ServerThread(settings, workers=False).start()
    token = (data_dir / "admin-token").read_text().strip()
    admin = httpx.Client(
        base_url=f"{thread.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    ok(
        admin.post("/projects", json={"name": "alpha", "quota_vms": 2, "quota_memory_mib": 4096}),
        201,
    )
    ok(admin.post("/projects", json={"name": "beta"}), 201)
    for name in ("bob", "carol"):
        ok(admin.post("/users", json={"name": name, "password": PASSWORD}), 201)
    ok(admin.post("/projects/alpha/members", json={"user": "bob", "role": "viewer"}), 201)
    ok(admin.post("/projects/beta/members", json={"user": "bob", "role": "operator"}), 201)
    try:
        yield SimpleNamespace(url=thread.url, token=token, admin=admin, settings=settings)
    finally:
        admin.close()
        thread.stop()


def browser_as(server: SimpleNamespace, name: str | None = None) -> httpx.Client:
    """A client holding a web session like a browser (the admin's via its token), sending
    the page's CSRF token and its own origin with every request."""
    if name is None:
        cookies = web_session_cookies(server.url, server.token)
    else:
        login = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"name": name, "password": PASSWORD}
        )
        cookies = dict(ok(login) and login.cookies)
    client = httpx.Client(base_url=server.url, cookies=cookies, timeout=30)
    page = client.get("/account").text
    csrf = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page)
    assert csrf, page[:300]
    client.headers.update({"X-CSRF-Token": csrf.group(1), "Origin": server.url})
    return client


def texts_of(page: str, testid: str) -> list[str]:
    """The text of each element with ``data-testid=testid`` (up to its first child tag)."""
    found = re.findall(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', page)
    return [html.unescape(t).strip() for t in found]


def selected_project(page: str) -> str:
    switcher = re.search(r'data-testid="project-switcher">(.*?)</select>', page, re.S)
    assert switcher, "no project switcher"
    chosen = re.findall(r"<option [^>]*selected>([^<]*)</option>", switcher.group(1))
    assert len(chosen) == 1, chosen
    return chosen[0]


def switcher_options(page: str) -> list[str]:
    switcher = re.search(r'data-testid="project-switcher">(.*?)</select>', page, re.S)
    return re.findall(r"<option [^>]*>([^<]*)</option>", switcher.group(1)) if switcher else []


# -- who may open what -------------------------------------------------------------------------


def test_pages_send_strangers_to_sign_in_and_fragments_answer_401(
    server: SimpleNamespace,
) -> None:
    anon = httpx.Client(base_url=server.url, follow_redirects=False)
    for path in ("/account", "/security/users", "/security/projects/alpha", "/security/audit"):
        resp = anon.get(path)
        assert resp.status_code == 303, path
        assert resp.headers["location"] == f"/login?next={path.replace('/', '%2F')}"
    for method, path in (
        ("GET", "/account/fragments/tokens"),
        ("GET", "/security/fragments/users/bob"),
        ("POST", "/account/project"),
        ("POST", "/account/totp/setup"),
    ):
        assert anon.request(method, path, json={"project": "alpha"}).status_code == 401, path


def test_a_platform_admin_sees_every_page_and_the_admin_links(server: SimpleNamespace) -> None:
    web = browser_as(server)
    for path, heading in (
        ("/account", "admin"),
        ("/security/users", "Users"),
        ("/security/projects", "Projects"),
        ("/security/projects/alpha", "alpha"),
        ("/security/audit", "Audit log"),
    ):
        resp = web.get(path)
        assert resp.status_code == 200, path
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        assert re.search(rf"<h1[^>]*>\s*{heading}\b", resp.text), path
        for link in ("nav-account", "nav-users", "nav-projects", "nav-audit"):
            assert f'data-testid="{link}"' in resp.text, (path, link)
    page = web.get("/security/users").text
    assert 'class="active" data-testid="nav-users"' in page
    # Every project is the admin's to switch to; the default one is current.
    assert switcher_options(page) == ["alpha", "beta", "default"]
    assert selected_project(page) == "default"
    assert texts_of(page, "user-status") == ["active", "active", "active"]  # admin, bob, carol


def test_a_user_gets_a_403_page_for_admin_pages_and_only_their_projects(
    server: SimpleNamespace,
) -> None:
    web = browser_as(server, "bob")
    page = web.get("/security/users")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert texts_of(page.text, "error-detail") == [
        "This page is for platform admins; bob is not one."
    ]
    fragment = web.get("/security/fragments/users/bob")
    assert fragment.status_code == 403
    assert fragment.headers["content-type"] == "application/problem+json"
    account = web.get("/account").text
    assert 'data-testid="nav-account"' in account and 'data-testid="nav-users"' not in account
    assert switcher_options(account) == ["alpha", "beta"]  # not the default project
    assert texts_of(account, "membership-alpha") == [""]  # the row is there
    assert "viewer" in account and "operator" in account


# -- the project switcher ----------------------------------------------------------------------


def test_switching_project_sets_a_strict_cookie_for_projects_of_ones_own(
    server: SimpleNamespace,
) -> None:
    web = browser_as(server, "bob")
    first = selected_project(web.get("/account").text)  # one of bob's (the lowest id)
    other = {"alpha": "beta", "beta": "alpha"}[first]
    resp = web.post("/account/project", json={"project": other})
    chosen = ok(resp)
    assert chosen["name"] == other and chosen["id"].startswith("proj-")
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{PROJECT_COOKIE}={chosen['id']};")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    page = web.get("/account").text
    assert selected_project(page) == other
    assert texts_of(page, "project-current") == [other]

    # Not bob's, or no such project: one answer, the cookie untouched.
    for ref in ("default", "no-such-project"):
        refused = web.post("/account/project", json={"project": ref})
        problem = ok(refused, 422)
        assert problem["errors"][0]["loc"] == ["body", "project"]
        assert "set-cookie" not in refused.headers
    # A change made with the session cookie needs the page's CSRF token.
    no_csrf = web.post(
        "/account/project", json={"project": first}, headers={"X-CSRF-Token": "nope"}
    )
    assert no_csrf.status_code == 403
    assert selected_project(web.get("/account").text) == other


# -- account -----------------------------------------------------------------------------------


def test_two_factor_set_up_shows_secret_uri_and_its_qr_code(server: SimpleNamespace) -> None:
    web = browser_as(server, "carol")
    assert texts_of(web.get("/account").text, "totp-state") == ["off"]
    panel = web.post("/account/totp/setup")
    assert panel.status_code == 200 and panel.headers["content-type"].startswith("text/html")
    (secret,) = texts_of(panel.text, "totp-secret")
    (uri,) = texts_of(panel.text, "totp-uri")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert uri == f"otpauth://totp/NovaCron:carol?secret={secret}&issuer=NovaCron"
    # The QR code is the shown URI, drawn as inline SVG (no script, no external image).
    assert str(web_views.qr_svg(uri)) in panel.text
    assert "<title>QR code</title>" in panel.text and '<path class="qrline"' in panel.text

    codes = ok(web.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}))
    assert len(codes["recovery_codes"]) == 10
    page = web.get("/account").text
    assert texts_of(page, "totp-state") == ["on"]
    assert texts_of(page, "recovery-left") == ["10"]
    assert 'data-testid="totp-setup"' not in page
    again = web.post("/account/totp/setup")
    assert again.status_code == 409
    assert "already on" in again.json()["detail"]


def test_the_tokens_fragment_marks_revoked_tokens(server: SimpleNamespace) -> None:
    web = browser_as(server, "bob")
    made = ok(web.post("/api/v1/tokens", json={"name": "cron", "scopes": ["compute:read"]}), 201)
    part = web.get("/account/fragments/tokens").text
    row = re.search(r'data-testid="token-row-cron"(.*?)</tr>', part, re.S)
    assert row and texts_of(row.group(1), "token-status") == ["active"]
    assert made["prefix"] in row.group(1) and made["token"] not in part
    web.delete(f"/api/v1/tokens/{made['id']}")
    part = web.get("/account/fragments/tokens").text
    row = re.search(r'data-testid="token-row-cron"(.*?)</tr>', part, re.S)
    assert row and texts_of(row.group(1), "token-status") == ["revoked"]
    assert 'data-testid="token-revoke"' not in row.group(1)


# -- projects and audit --------------------------------------------------------------------------


def test_project_page_shows_quota_bars_and_members(server: SimpleNamespace) -> None:
    web = browser_as(server)
    page = web.get("/security/projects/alpha").text
    assert texts_of(page, "quota-vms-text") == ["0 / 2 · 0%"]
    assert texts_of(page, "quota-vcpus-text") == ["0 · no limit"]
    assert texts_of(page, "quota-memory-text") == ["0 MiB / 4 GiB · 0%"]
    assert 'data-testid="member-row-bob-viewer"' in page
    assert 'value="2"' in page  # the quota form starts from the current quota
    listing = web.get("/security/projects").text
    row = re.search(r'data-testid="project-row-beta"(.*?)</tr>', listing, re.S)
    assert row and texts_of(row.group(1), "project-members") == ["1"]
    missing = web.get("/security/projects/no-such-project")
    assert missing.status_code == 404 and 'data-testid="error-page"' in missing.text


def test_audit_page_filters_newest_first_and_pages_back(
    server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = browser_as(server)
    browser_as(server, "bob").get("/security/audit")  # refused: recorded as denied
    page = web.get("/security/audit", params={"outcome": "denied", "actor": "bob"}).text
    rows = re.findall(r'data-testid="audit-row" data-seq="(\d+)" data-action="([^"]+)"', page)
    assert rows and {a for _, a in rows} == {"access.denied"}
    seqs = [int(s) for s, _ in rows]
    assert seqs == sorted(seqs, reverse=True)

    creates = web.get("/security/audit", params={"action": "project.create"}).text
    actions = re.findall(r'data-testid="audit-row" data-seq="\d+" data-action="([^"]+)"', creates)
    assert actions == ["project.create", "project.create"]  # beta, then alpha

    monkeypatch.setattr(web_views, "AUDIT_PAGE", 3)  # the server runs in this process
    first = web.get("/security/audit").text
    shown = [int(s) for s in re.findall(r'data-testid="audit-row" data-seq="(\d+)"', first)]
    assert len(shown) == 3
    older = re.search(r'href="\?before=(\d+)" data-testid="audit-older"', first)
    assert older and int(older.group(1)) == shown[-1]
    second = web.get("/security/audit", params={"before": older.group(1)}).text
    next_seqs = [int(s) for s in re.findall(r'data-testid="audit-row" data-seq="(\d+)"', second)]
    assert next_seqs == [shown[-1] - 1, shown[-1] - 2, shown[-1] - 3]
    assert 'data-testid="audit-newest"' in second


def test_login_offers_single_sign_on_only_when_an_issuer_is_set(
    server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'data-testid="login-oidc"' not in httpx.get(f"{server.url}/login").text
    # The page reads the server's settings per request (the server runs in this process).
    monkeypatch.setattr(server.settings, "oidc_issuer", "https://idp.example.test/realms/main")
    monkeypatch.setattr(server.settings, "oidc_display_name", "Example SSO")
    page = httpx.get(f"{server.url}/login", params={"next": "/account"}).text
    link = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="login-oidc">([^<]+)</a>', page)
    assert link, page
    assert html.unescape(link.group(1)) == "/auth/oidc/login?next=/account"
    assert link.group(2) == "Sign in with Example SSO"
    # In token mode too: it is the other way in.
    token_mode = httpx.get(f"{server.url}/login", params={"mode": "token"}).text
    assert 'data-testid="login-oidc"' in token_mode


# -- view models ---------------------------------------------------------------------------------


def test_quota_bars_say_usage_against_limit_or_no_limit() -> None:
    from datetime import datetime

    from novacron.security.schemas import ProjectOut, Usage

    project = ProjectOut(
        id="proj-x",
        name="x",
        description="",
        quota_vms=4,
        quota_vcpus=None,
        quota_memory_mib=1024,
        quota_disk_gib=0,
        created_at=datetime(2026, 1, 1),
    )
    bars = web_views.quota_bars(project, Usage(vms=3, vcpus=6, memory_mib=1024, disk_gib=0))
    assert [(b.key, b.text, b.level, b.open) for b in bars] == [
        ("vms", "3 / 4 · 75%", "warn", False),
        ("vcpus", "6 · no limit", "ok", True),
        ("memory", "1 GiB / 1 GiB · 100%", "crit", False),
        ("disk", "0 GiB / 0 GiB · 100%", "crit", False),  # a zero quota allows nothing
    ]
    assert [b.width for b in bars] == ["75.0", "0.0", "100.0", "100.0"]
    over = web_views.quota_bars(project, Usage(vms=6, vcpus=0, memory_mib=0, disk_gib=0))[0]
    assert (over.text, over.width) == ("6 / 4 · 150%", "100.0")  # lowered below its usage


def test_audit_filter_query_string_keeps_filters_and_drops_blanks() -> None:
    f = web_views.AuditFilter(actor="bob", outcome="denied", before=40)
    assert f.active
    assert f.query_string() == "actor=bob&outcome=denied&before=40"
    assert f.query_string(before=12) == "actor=bob&outcome=denied&before=12"
    assert f.query_string(before=None) == "actor=bob&outcome=denied"
    assert not web_views.AuditFilter(before=3).active


def test_token_status_compares_naive_and_zoned_times_alike() -> None:
    from datetime import UTC, datetime, timedelta

    from novacron.security.schemas import TokenOut

    now = datetime(2026, 3, 1, 12, 0)  # naive UTC, as the database keeps it

    def token(**times: Any) -> TokenOut:
        base: dict[str, Any] = dict(
            id="tok-1",
            name="t",
            prefix="nct_abcd",
            scopes=["*"],
            project_id=None,
            created_at=now - timedelta(days=1),
            expires_at=None,
            last_used_at=None,
            last_used_ip=None,
            revoked_at=None,
        )
        return TokenOut(**{**base, **times})

    aware_past = (now - timedelta(minutes=1)).replace(tzinfo=UTC)
    assert web_views.token_status(token(expires_at=aware_past), now) == "expired"
    assert web_views.token_status(token(expires_at=now + timedelta(minutes=1)), now) == "active"
    assert web_views.token_status(token(), now) == "active"
    assert web_views.token_status(token(revoked_at=now, expires_at=aware_past), now) == "revoked"


def test_the_project_page_lets_its_admins_manage_members(server: SimpleNamespace) -> None:
    gamma = ok(server.admin.post("/projects", json={"name": "gamma"}), 201)
    ok(server.admin.post("/users", json={"name": "dora", "password": PASSWORD}), 201)
    for name, role in (("dora", "admin"), ("bob", "viewer")):
        ok(server.admin.post("/projects/gamma/members", json={"user": name, "role": role}), 201)

    dora = browser_as(server, "dora")
    dora.cookies.set(PROJECT_COOKIE, gamma["id"])
    page = dora.get("/project").text
    assert texts_of(page, "project-title") == ["gamma"]
    assert 'data-testid="nav-project"' in page and 'data-testid="member-form"' in page
    # A project admin types a name (as with the API): no directory of every user.
    assert '<select name="user"' not in page and "carol" not in page
    assert 'data-testid="quota-form"' not in page  # quotas are the platform admins'
    ok(dora.post("/api/v1/projects/gamma/members", json={"user": "carol", "role": "operator"}), 201)
    members = dora.get("/project/fragments/members").text
    assert 'data-testid="member-row-carol-operator"' in members

    bob = browser_as(server, "bob")
    bob.cookies.set(PROJECT_COOKIE, gamma["id"])
    page = bob.get("/project").text
    assert 'data-testid="member-row-dora-admin"' in page
    assert 'data-testid="member-form"' not in page and 'data-testid="member-remove"' not in page
    assert texts_of(page, "project-rights") == ["Read only: its admins manage the members."]
    assert (
        bob.post(
            "/api/v1/projects/gamma/members", json={"user": "carol", "role": "admin"}
        ).status_code
        == 403
    )

    admin = browser_as(server)
    admin.cookies.set(PROJECT_COOKIE, gamma["id"])
    page = admin.get("/project").text
    assert 'data-testid="quota-form"' in page and '<select name="user"' in page
    for client in (dora, bob, admin):
        client.close()
