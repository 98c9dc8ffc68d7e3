"""The security pages in headless Debian Chromium: a real server with one agent (sim
hosts), users made through the REST API, then everything else done as a person would —
signing in with a password, turning two-factor on with a code computed from the secret the
page shows, minting an API token and using it, creating a project and adding a member,
reading and verifying the audit log, and switching projects from the sidebar.

``NOVACRON_UPDATE_SCREENSHOT=1`` also refreshes ``docs/screenshot-security.png``, as the
other browser tests do theirs; otherwise the picture goes to a temporary directory.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from novacron.testing.browser import Tab
from novacron.testing.cluster import Cluster, wait_until

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-security.png"
PASSWORD = "browser-Passphrase-2026"
EXPECTED_STATUS = "Failed to load resource: the server responded with a status of"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One server and agent for the module (the tests use their own users and projects)."""
    c = Cluster.start(tmp_path_factory.mktemp("security-ui"), None)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def tab(browser: Any, cluster: Cluster) -> Iterator[Tab]:
    t = Tab(browser, cluster)
    console: list[str] = []
    t.page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    yield t
    assert t.errors == [], t.errors
    # CSP violations are console errors; the statuses the tests provoke on purpose (a
    # wrong code: 422, the sign-in form asking for a code: 401, a 403 page) are logged too.
    assert [m for m in console if not m.startswith(EXPECTED_STATUS)] == [], console
    t.context.close()


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def new_user(cluster: Cluster, name: str, grants: dict[str, str] | None = None) -> str:
    ok(cluster.api.post("/users", json={"name": name, "password": PASSWORD}))
    for project, role in (grants or {}).items():
        ok(cluster.api.post(f"/projects/{project}/members", json={"user": name, "role": role}))
    return name


def sign_in_with_password(tab: Tab, name: str, next_path: str = "/account") -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(tab.cluster.url + next_path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_test_id("login-name").fill(name)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_password_sign_in_and_two_factor_set_up_in_the_ui(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    new_user(cluster, "carol", {"default": "viewer"})
    sign_in_with_password(tab, "carol")
    expect(page).to_have_url(cluster.url + "/account")
    expect(page.get_by_test_id("account-name")).to_have_text("carol")
    expect(page.get_by_test_id("membership-default")).to_contain_text("viewer")
    # Not a platform admin: no admin pages in the sidebar, and a 403 page if typed in.
    expect(page.get_by_test_id("nav-account")).to_have_class(re.compile("active"))
    expect(page.get_by_test_id("nav-users")).to_have_count(0)
    expect(page.get_by_test_id("project-current")).to_have_text("default")
    expect(page.get_by_test_id("totp-state")).to_have_text("off")

    page.get_by_test_id("totp-setup").click()
    expect(page.get_by_test_id("totp-qr").locator("svg path.qrline")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32,}", secret), secret
    uri = page.get_by_test_id("totp-uri").text_content() or ""
    assert uri.startswith("otpauth://totp/NovaCron:carol?") and f"secret={secret}" in uri
    # A wrong code is refused next to the field; the right one turns two-factor on.
    page.get_by_test_id("totp-code").fill("12345a")
    page.get_by_test_id("totp-confirm").click()
    expect(page.locator('[data-error-for="code"]')).to_have_text("wrong code")
    page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("totp-confirm").click()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", codes.first.inner_text())
    expect(page.get_by_test_id("totp-setup-panel")).to_be_hidden()
    page.get_by_test_id("recovery-done").click()
    expect(page.get_by_test_id("totp-state")).to_have_text("on")
    expect(page.get_by_test_id("recovery-left")).to_have_text("10")

    # Sign out, and back in: the password, then a code.
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in_with_password(tab, "carol")
    expect(page.get_by_test_id("login-code-hint")).to_be_visible()
    # The code of the next 30 s step: the one used to confirm cannot be replayed.
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(cluster.url + "/account")
    expect(page.get_by_test_id("account-mfa")).to_have_text("on")

    page.goto(cluster.url + "/security/users")
    expect(page.get_by_test_id("error-page")).to_contain_text("403")
    expect(page.get_by_test_id("error-detail")).to_have_text(
        "This page is for platform admins; carol is not one."
    )


def test_a_token_made_in_the_ui_works_against_the_api_until_revoked(
    tab: Tab, cluster: Cluster
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    new_user(cluster, "dave", {"default": "operator"})
    sign_in_with_password(tab, "dave")
    expect(page).to_have_url(cluster.url + "/account")
    # A scope that does not exist is refused under its field.
    page.get_by_test_id("token-name").fill("ci")
    page.get_by_test_id("token-scopes").fill("compute:fly")
    page.get_by_test_id("token-submit").click()
    expect(page.locator('[data-error-for="scopes"]')).to_contain_text("unknown scope")
    page.get_by_test_id("token-scopes").fill("compute:read")
    page.get_by_test_id("token-project").select_option(label="default")
    page.get_by_test_id("token-expiry").fill("7")
    page.get_by_test_id("token-submit").click()
    secret_box = page.get_by_test_id("token-secret")
    expect(secret_box).to_have_text(re.compile(r"^nct_"))
    secret = secret_box.inner_text().strip()
    row = page.get_by_test_id("token-row-ci")
    expect(row.get_by_test_id("token-status")).to_have_text("active")
    expect(row).to_contain_text("compute:read")
    expect(row).to_contain_text("default")

    api = httpx.Client(
        base_url=f"{cluster.url}/api/v1", headers={"Authorization": f"Bearer {secret}"}
    )
    assert api.get("/vms").status_code == 200
    # Only what its scopes say, even where dave himself may do more.
    assert api.post("/vms", json={"name": "nope", "vcpus": 1}).status_code == 403
    assert api.get("/auth/whoami").status_code == 403

    revoke = row.get_by_test_id("token-revoke")
    revoke.click()
    expect(revoke).to_have_text("Confirm revoke")
    revoke.click()
    expect(row.get_by_test_id("token-status")).to_have_text("revoked")
    assert api.get("/vms").status_code == 401
    api.close()


def test_platform_admin_manages_users_and_projects_and_audits_it(
    tab: Tab, cluster: Cluster, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.sign_in()  # the bootstrap admin, with its token

    page.get_by_test_id("nav-users").click()
    expect(page.locator("h1")).to_have_text("Users")
    page.get_by_test_id("user-name").fill("Not Valid")
    page.get_by_test_id("user-submit").click()
    expect(page.locator('[data-error-for="name"]')).not_to_be_empty()
    page.get_by_test_id("user-name").fill("erin")
    page.get_by_test_id("user-display-name").fill("Erin Example")
    page.get_by_test_id("user-password").fill(PASSWORD)
    page.get_by_test_id("user-submit").click()
    erin = page.get_by_test_id("user-row-erin")
    expect(erin.get_by_test_id("user-status")).to_have_text("active")
    disable = erin.get_by_test_id("user-disable")
    disable.click()
    disable.click()  # confirm
    expect(erin.get_by_test_id("user-status")).to_have_text("disabled")
    erin.get_by_test_id("user-enable").click()
    expect(erin.get_by_test_id("user-status")).to_have_text("active")

    page.get_by_test_id("nav-projects").click()
    page.get_by_test_id("project-name").fill("gamma")
    page.get_by_test_id("project-description").fill("Team Gamma's VMs")
    page.get_by_test_id("project-quota_vms").fill("2")
    page.get_by_test_id("project-quota_memory_mib").fill("4096")
    page.get_by_test_id("project-submit").click()
    row = page.get_by_test_id("project-row-gamma")
    expect(row.get_by_test_id("quota-vms-text")).to_have_text("0 / 2 · 0%")
    expect(row.get_by_test_id("quota-vcpus-text")).to_have_text("0 · no limit")
    expect(row.get_by_test_id("quota-memory-text")).to_have_text("0 MiB / 4 GiB · 0%")

    row.get_by_test_id("project-link").click()
    expect(page.get_by_test_id("project-title")).to_have_text("gamma")
    page.get_by_test_id("member-user").select_option("erin")
    page.get_by_test_id("member-role").select_option("operator")
    page.get_by_test_id("member-submit").click()
    expect(page.get_by_test_id("member-row-erin-operator")).to_be_visible()
    page.get_by_test_id("quota-quota_vms").fill("5")
    page.get_by_test_id("quota-submit").click()
    expect(page.get_by_test_id("quota-vms-text")).to_have_text("0 / 5 · 0%")
    members = ok(cluster.api.get("/projects/gamma/members"), 200)
    assert [(m["user"], m["role"]) for m in members] == [("erin", "operator")]
    assert ok(cluster.api.get("/projects/gamma"), 200)["quota_vms"] == 5

    page.get_by_test_id("nav-audit").click()
    actions = page.get_by_test_id("audit-action-cell")
    for action in ("user.create", "user.update", "project.create", "role.grant", "project.update"):
        expect(actions.filter(has_text=re.compile(f"^{re.escape(action)}$")).first).to_be_visible()
    page.get_by_test_id("audit-verify").click()
    result = page.get_by_test_id("audit-verify-result")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("audit chain intact")

    page.get_by_test_id("audit-action").fill("project.")
    page.get_by_test_id("audit-filter-submit").click()
    expect(page).to_have_url(re.compile(r"action=project\."))
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_be_visible()
    assert {
        a.startswith("project.") for a in rows.evaluate_all("rs => rs.map(r => r.dataset.action)")
    } == {True}
    expect(page.get_by_test_id("audit-export-csv")).to_have_attribute(
        "href", "/api/v1/audit/export?format=csv"
    )

    # The docs' picture: the whole log, just verified.
    page.get_by_test_id("audit-filter-clear").click()
    page.get_by_test_id("audit-verify").click()
    expect(page.get_by_test_id("audit-verify-result")).to_have_attribute("data-ok", "true")
    shot = SCREENSHOT if os.environ.get("NOVACRON_UPDATE_SCREENSHOT") == "1" else tmp_path / "s.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 30_000


def _vm_in(cluster: Cluster, project: str, name: str) -> None:
    headers = {"Authorization": f"Bearer {cluster.token}", "X-NovaCron-Project": project}
    with httpx.Client(base_url=f"{cluster.url}/api/v1", headers=headers, timeout=30) as api:
        op = ok(api.post("/vms", json={"name": name, "vcpus": 1, "memory_mib": 256}), 202)
        wait_until(
            lambda: api.get(f"/operations/{op['id']}").json()["state"] == "succeeded",
            30,
            what=f"{name} in {project}",
        )


def test_the_project_switcher_changes_what_the_overview_lists(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    for name in ("north", "south"):
        ok(cluster.api.post("/projects", json={"name": name}))
        _vm_in(cluster, name, f"vm-{name}")
    tab.sign_in()
    expect(page.get_by_test_id("project-current")).to_have_text("default")
    expect(page.get_by_test_id("vm-row-vm-north")).to_have_count(0)

    page.get_by_test_id("project-switcher").select_option(label="north")
    expect(page.get_by_test_id("project-current")).to_have_text("north")
    expect(page.get_by_test_id("vm-row-vm-north")).to_be_visible()
    expect(page.get_by_test_id("vm-row-vm-south")).to_have_count(0)

    page.get_by_test_id("project-switcher").select_option(label="south")
    expect(page.get_by_test_id("project-current")).to_have_text("south")
    expect(page.get_by_test_id("vm-row-vm-south")).to_be_visible()
    expect(page.get_by_test_id("vm-row-vm-north")).to_have_count(0)
    # The choice is the project cookie: it holds on the next page too.
    page.goto(cluster.url + "/account")
    expect(page.get_by_test_id("project-current")).to_have_text("south")


def test_a_project_admin_adds_a_member_from_the_project_page(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    ok(cluster.api.post("/projects", json={"name": "delta"}))
    new_user(cluster, "petra", {"delta": "admin", "default": "viewer"})
    new_user(cluster, "quinn")
    sign_in_with_password(tab, "petra", "/project")
    expect(page.get_by_test_id("project-title")).to_have_text("default")
    expect(page.get_by_test_id("project-rights")).to_contain_text("Read only")
    expect(page.get_by_test_id("member-form")).to_have_count(0)

    page.get_by_test_id("project-switcher").select_option(label="delta")
    expect(page.get_by_test_id("project-title")).to_have_text("delta")
    expect(page.get_by_test_id("project-rights")).to_have_text("You manage its members.")
    page.get_by_test_id("member-user").fill("quinn")
    page.get_by_test_id("member-role").select_option("operator")
    page.get_by_test_id("member-submit").click()
    expect(page.get_by_test_id("member-row-quinn-operator")).to_be_visible()
    members = ok(cluster.api.get("/projects/delta/members"), 200)
    assert ("quinn", "operator") in [(m["user"], m["role"]) for m in members]
