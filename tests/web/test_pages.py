"""Server-rendered pages over real HTTP against a real cluster (server + agent, 3 sim hosts)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from novacron.testing.cluster import Cluster
from novacron.web import ui


@pytest.fixture
def browser_client(cluster: Cluster) -> Iterator[httpx.Client]:
    """A client that behaves like the browser: cookies, no automatic redirects."""
    with httpx.Client(base_url=cluster.url, follow_redirects=False, timeout=30) as client:
        yield client


def sign_in(client: httpx.Client, token: str) -> httpx.Response:
    resp = client.post("/login", data={"token": token})
    assert resp.status_code == 303, resp.text
    return resp


def test_login_page_renders(browser_client: httpx.Client) -> None:
    resp = browser_client.get("/login")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert 'name="name"' in resp.text and 'name="password"' in resp.text
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    token_form = browser_client.get("/login?mode=token")
    assert 'name="token"' in token_form.text
    assert "admin-token" in token_form.text


@pytest.mark.parametrize("path", ["/", "/vms/anything", "/hosts/anything"])
def test_pages_without_cookie_redirect_to_login(browser_client: httpx.Client, path: str) -> None:
    resp = browser_client.get(path)
    assert resp.status_code == 303
    assert resp.headers["location"].split("?")[0] == "/login"


def test_next_survives_sign_in_and_stays_local(
    browser_client: httpx.Client, cluster: Cluster
) -> None:
    resp = browser_client.get("/hosts/anything")
    assert resp.headers["location"] == "/login?next=%2Fhosts%2Fanything"
    resp = browser_client.post("/login", data={"token": cluster.token, "next": "/hosts/x"})
    assert resp.headers["location"] == "/hosts/x"
    browser_client.cookies.clear()
    resp = browser_client.post("/login", data={"token": cluster.token, "next": "//evil.test/"})
    assert resp.headers["location"] == "/"


@pytest.mark.parametrize("token", ["", "nct_not-a-real-token"])
def test_bad_token_shows_the_form_again_with_an_error(
    browser_client: httpx.Client, token: str
) -> None:
    resp = browser_client.post("/login", data={"token": token})
    assert resp.status_code == 401
    assert 'data-testid="login-error"' in resp.text
    assert "novacron_session" not in resp.headers.get("set-cookie", "")


def test_agent_tokens_cannot_sign_in(browser_client: httpx.Client, cluster: Cluster) -> None:
    resp = browser_client.post("/login", data={"token": cluster.enrolment_token})
    assert resp.status_code == 401


def test_good_token_opens_a_session_and_overview_renders(
    browser_client: httpx.Client, cluster: Cluster
) -> None:
    vm = cluster.create_vm("web-1", vcpus=2, memory_mib=2048, disk_gib=5)
    resp = sign_in(browser_client, cluster.token)
    assert resp.headers["location"] == "/"
    cookie = resp.headers["set-cookie"]
    # A fresh session secret, not the API token itself.
    assert cookie.startswith("novacron_session=")
    assert cluster.token not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie

    page = browser_client.get("/")
    assert page.status_code == 200
    html = page.text
    hosts = cluster.api.get("/hosts").json()["items"]
    assert len(hosts) == 3
    for host in hosts:
        assert f'data-testid="host-row-{host["name"]}"' in html
    assert 'data-testid="vm-row-web-1"' in html
    assert f'href="/vms/{vm["id"]}"' in html
    assert 'data-testid="create-vm-form"' in html
    assert "vm.create" in html  # recent operations
    # The page tells live.js where to resume the event stream.
    assert re.search(r'data-events-after="\d+"', html)
    # Times are UTC ISO 8601.
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\">", html)
    # The cookie authenticates the REST API too (what the page's fetch calls rely on).
    assert browser_client.get("/api/v1/vms").status_code == 200


def test_logout_ends_the_session(browser_client: httpx.Client, cluster: Cluster) -> None:
    sign_in(browser_client, cluster.token)
    cookie = browser_client.cookies["novacron_session"]
    page = browser_client.get("/")
    assert page.status_code == 200
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf and csrf.group(1)
    # Without the page's CSRF token a cross-site form cannot sign the user out.
    refused = browser_client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    resp = browser_client.post("/logout", data={"csrf_token": csrf.group(1)})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login"
    assert browser_client.get("/").status_code == 303
    # The old cookie is dead on the server, not just deleted in this browser.
    browser_client.cookies.set("novacron_session", cookie)
    assert browser_client.get("/").status_code == 303


def test_stale_cookie_redirects_to_login(browser_client: httpx.Client) -> None:
    browser_client.cookies.set("novacron_session", "revoked-or-made-up")
    resp = browser_client.get("/")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login"


def test_vm_detail_page(browser_client: httpx.Client, cluster: Cluster) -> None:
    vm = cluster.create_vm("db-1", vcpus=4, memory_mib=4096, disk_gib=20, labels={"tier": "db"})
    sign_in(browser_client, cluster.token)
    for ref in (vm["id"], "db-1"):  # by id or by name
        resp = browser_client.get(f"/vms/{ref}")
        assert resp.status_code == 200
        html = resp.text
        assert "<h1>db-1" in html
        assert 'data-testid="vm-state">running<' in html
        assert f'href="/hosts/{vm["host_id"]}"' in html
        assert vm["host_name"] in html
        assert 'data-testid="vm-action-stop"' in html
        assert 'data-testid="vm-action-start"' not in html  # not legal while running
        assert "tier" in html
        assert "create on " + vm["host_name"] in html  # operation steps


def test_host_detail_page(browser_client: httpx.Client, cluster: Cluster) -> None:
    vm = cluster.create_vm("app-1", vcpus=3, memory_mib=1024, disk_gib=2)
    sign_in(browser_client, cluster.token)
    host = cluster.api.get(f"/hosts/{vm['host_id']}").json()
    resp = browser_client.get(f"/hosts/{host['id']}")
    assert resp.status_code == 200
    html = resp.text
    assert f"<h1>{host['name']}" in html
    assert 'data-testid="host-state">up<' in html
    assert 'data-testid="vm-row-app-1"' in html
    assert 'data-testid="cap-vcpu"' in html
    assert f"{host['alloc_vcpus']} / {host['vcpus'] * host['cpu_allocation_ratio']:g}" in html
    for capability in host["capabilities"]:
        assert capability in html
    # Last heartbeat in UTC ISO 8601 without fractions.
    heartbeat = datetime.fromisoformat(host["last_heartbeat_at"].replace("Z", "+00:00"))
    assert heartbeat.strftime("%Y-%m-%dT%H:") in html


@pytest.mark.parametrize("path", ["/vms/vm-does-not-exist", "/hosts/host-does-not-exist"])
def test_unknown_objects_render_a_404_page(
    browser_client: httpx.Client, cluster: Cluster, path: str
) -> None:
    sign_in(browser_client, cluster.token)
    resp = browser_client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert 'data-testid="error-page"' in resp.text
    assert "does-not-exist" in resp.text


def test_fragments_need_auth_and_render_rows(
    browser_client: httpx.Client, cluster: Cluster
) -> None:
    vm = cluster.create_vm("frag-1")
    assert browser_client.get(f"/ui/vms/{vm['id']}/row").status_code == 401
    sign_in(browser_client, cluster.token)
    row = browser_client.get(f"/ui/vms/{vm['id']}/row")
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<tr")
    assert f'data-key="vm:{vm["id"]}"' in row.text
    ops = cluster.api.get("/operations", params={"target": vm["id"]}).json()["items"]
    for suffix in ("row", "card"):
        resp = browser_client.get(f"/ui/operations/{ops[0]['id']}/{suffix}")
        assert resp.status_code == 200
        assert f'data-key="op:{ops[0]["id"]}"' in resp.text
    for suffix in ("row", "summary"):
        assert browser_client.get(f"/ui/hosts/{vm['host_id']}/{suffix}").status_code == 200
    assert browser_client.get("/ui/fleet").status_code == 200
    assert browser_client.get("/ui/vms/vm-nope/row").status_code == 404


def test_names_are_escaped(browser_client: httpx.Client, cluster: Cluster) -> None:
    vm = cluster.create_vm("esc-1", labels={"note": "<script>alert(1)</script>"})
    sign_in(browser_client, cluster.token)
    html = browser_client.get(f"/vms/{vm['id']}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_static_assets_are_served(browser_client: httpx.Client) -> None:
    for name in ("live.js", "compute.js", "novacron.css", "favicon.svg"):
        resp = browser_client.get(ui.static_url(name))
        assert resp.status_code == 200, name


def test_iso_formatting() -> None:
    assert ui.iso(datetime(2025, 1, 31, 12, 0, 5, 123456)) == "2025-01-31T12:00:05Z"
    assert ui.iso("2025-01-31T12:00:05.123456Z") == "2025-01-31T12:00:05Z"
    assert ui.iso(None) == "—"
    assert ui.fmt_mib(512) == "512 MiB"
    assert ui.fmt_mib(1536) == "1.5 GiB"
    assert ui.safe_next("//evil.test") == "/"
    assert ui.safe_next("/vms/x?y=1") == "/vms/x?y=1"


def test_a_vm_never_placed_offers_only_delete(
    browser_client: httpx.Client, cluster: Cluster
) -> None:
    resp = cluster.api.post(
        "/vms", json={"name": "huge-1", "vcpus": 1, "memory_mib": 10_000_000, "disk_gib": 1}
    )
    op = cluster.wait_op(resp.json())
    assert op["state"] == "failed" and "no host fits" in op["error"]
    vm = cluster.api.get(f"/vms/{op['target_id']}").json()
    assert vm["host_id"] is None
    sign_in(browser_client, cluster.token)
    for html in (
        browser_client.get(f"/ui/vms/{vm['id']}/row").text,
        browser_client.get(f"/ui/vms/{vm['id']}/summary").text,
    ):
        assert 'data-testid="vm-action-delete"' in html
        assert re.findall(r'data-testid="vm-action-([a-z-]+)"', html) == ["delete"]
    summary = browser_client.get(f"/vms/{vm['id']}").text
    assert ">force-stop<" not in summary  # "Legal actions" lists only what the API takes
