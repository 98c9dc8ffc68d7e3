"""The web UI in headless Debian Chromium (Playwright): sign in, create, stop, delete, live.

Every change must reach the page through the event stream: the tests mark the window
after the first load and count ``load`` events, so a reload anywhere fails them.

Skipped when /usr/bin/chromium is missing, unless ``NOVACRON_REQUIRE_BROWSER=1``
(fixtures in ``conftest.py``, the ``Tab`` in ``novacron.testing.browser``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from novacron.testing.browser import Tab
from novacron.testing.cluster import Cluster, healthy, spawn_server, wait_until

pytestmark = pytest.mark.browser

# The README's picture; refreshed only on request so test runs leave the tree clean.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-overview.png"


def test_create_stop_delete_from_the_overview_without_reloading(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.sign_in()
    for host in cluster.api.get("/hosts").json()["items"]:
        expect(page.get_by_test_id(f"host-row-{host['name']}")).to_be_visible()
    loads = tab.mark()

    # Bad input: problem+json shown inline, next to the field.
    page.get_by_test_id("create-name").fill("not a valid name!")
    page.get_by_test_id("create-submit").click()
    expect(page.get_by_test_id("create-error")).to_be_visible()
    name_error = page.locator('[data-error-for="name"]')
    expect(name_error).to_contain_text("letters, digits, '.', '_' or '-'")
    expect(name_error).not_to_contain_text("pattern")
    expect(page.get_by_test_id("create-name")).to_have_attribute("aria-invalid", "true")

    # Create from the form; the row appears and reaches running live.
    page.get_by_test_id("create-name").fill("ui-web-1")
    page.get_by_test_id("create-vcpus").fill("2")
    page.get_by_test_id("create-memory").fill("2048")
    page.get_by_test_id("create-disk").fill("5")
    page.get_by_test_id("create-submit").click()
    expect(page.get_by_test_id("create-error")).to_be_hidden()
    row = page.get_by_test_id("vm-row-ui-web-1")
    expect(row.get_by_test_id("vm-state")).to_have_text("running")
    # The status line follows the create operation to its end.
    expect(page.get_by_test_id("create-status")).to_have_text("ui-web-1 is running.")
    expect(row.get_by_test_id("vm-host")).to_have_text(re.compile(r"^agent-1-\d+$"))
    host_name = row.get_by_test_id("vm-host").inner_text()
    host_row = page.get_by_test_id(f"host-row-{host_name}")
    # The host's capacity bar counts the new VM's 2 vCPUs.
    expect(host_row.get_by_test_id("cap-vcpu")).to_contain_text("2 / ")
    expect(host_row.get_by_test_id("host-vm-count")).to_have_text("1")
    expect(page.get_by_test_id("stat-vms")).to_contain_text("1")
    op_row = page.locator('[data-testid^="op-row-"]').first
    expect(op_row).to_contain_text("vm.create")
    expect(op_row.get_by_test_id("op-state")).to_have_text("succeeded")

    # Stop it from its row.
    row.get_by_test_id("vm-action-stop").click()
    expect(row.get_by_test_id("vm-state")).to_have_text("stopped")
    expect(row.get_by_test_id("vm-action-start")).to_be_visible()
    expect(page.locator('[data-testid^="op-row-"]').first).to_contain_text("vm.stop")
    expect(page.get_by_test_id("stat-ops")).to_have_text("0")

    # Delete asks for a second click, then the row goes away.
    delete = row.get_by_test_id("vm-action-delete")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    expect(row).to_have_count(0)
    expect(host_row.get_by_test_id("host-vm-count")).to_have_text("0")
    vms = cluster.api.get("/vms", params={"include_deleted": True, "name": "ui-web-1"}).json()
    assert [v["state"] for v in vms["items"]] == ["deleted"]

    tab.assert_not_reloaded(loads)


def test_changes_made_elsewhere_show_up_live(tab: Tab, cluster: Cluster, tmp_path: Path) -> None:
    """VMs created and changed through the API appear on an open overview; screenshot."""
    from playwright.sync_api import expect

    page = tab.page
    tab.sign_in()
    loads = tab.mark()
    specs = [
        ("web-1", 2, 4096, 20),
        ("web-2", 2, 4096, 20),
        ("db-1", 8, 32768, 200),
        ("cache-1", 4, 8192, 10),
        ("batch-1", 16, 65536, 100),
    ]
    made = {
        name: cluster.create_vm(name, vcpus=c, memory_mib=m, disk_gib=d) for name, c, m, d in specs
    }
    cluster.wait_op(cluster.api.post(f"/vms/{made['batch-1']['id']}/stop").json())
    cluster.wait_op(cluster.api.post(f"/vms/{made['cache-1']['id']}/pause").json())
    expected = {
        "web-1": "running",
        "web-2": "running",
        "db-1": "running",
        "cache-1": "paused",
        "batch-1": "stopped",
    }
    for name, state in expected.items():
        expect(page.get_by_test_id(f"vm-row-{name}").get_by_test_id("vm-state")).to_have_text(state)
    expect(page.get_by_test_id("vm-row-cache-1").get_by_test_id("vm-action-resume")).to_be_visible()
    expect(page.get_by_test_id("stat-vms")).to_have_text(re.compile(r"^3\s*/\s*5$"))
    expect(page.get_by_test_id("stat-ops")).to_have_text("0")
    tab.assert_not_reloaded(loads)

    screenshot = (
        README_SCREENSHOT
        if os.environ.get("NOVACRON_UPDATE_SCREENSHOT") == "1"
        else tmp_path / "overview.png"
    )
    # A viewport as tall as the page, so the sticky sidebar spans the whole picture.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1440, "height": int(height)})
    page.wait_for_timeout(700)  # let the last bar transitions finish
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 50_000


def test_vm_detail_page_follows_its_operations(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    vm = cluster.create_vm("detail-1", vcpus=1, memory_mib=512)
    tab.sign_in()
    page.goto(f"{cluster.url}/vms/{vm['id']}")
    loads = tab.mark()
    summary = page.get_by_test_id("vm-summary")
    expect(summary.get_by_test_id("vm-state").first).to_have_text("running")
    summary.get_by_test_id("vm-action-pause").click()
    expect(summary.get_by_test_id("vm-state").first).to_have_text("paused")
    card = page.locator('[data-testid^="op-card-"]').first
    expect(card).to_contain_text("vm.pause")
    expect(card.get_by_test_id("op-state").first).to_have_text("succeeded")
    expect(card.get_by_test_id("op-step").first).to_be_visible()
    summary.get_by_test_id("vm-action-resume").click()
    expect(summary.get_by_test_id("vm-state").first).to_have_text("running")
    # The host link leads to the host page, which lists the VM.
    summary.get_by_test_id("vm-host").first.click()
    expect(page.get_by_test_id("host-summary")).to_be_visible()
    expect(page.get_by_test_id("vm-row-detail-1")).to_be_visible()
    # A VM placed on this host later shows up in its list, and in its capacity bars.
    host_loads = len(tab.loads)
    cluster.create_vm("detail-2", vcpus=5, memory_mib=512, host=vm["host_name"])
    new_row = page.get_by_test_id("vm-row-detail-2")
    expect(new_row.get_by_test_id("vm-state")).to_have_text("running")
    expect(page.get_by_test_id("host-summary").get_by_test_id("cap-vcpu")).to_contain_text("6 / ")
    assert len(tab.loads) == host_loads
    assert tab.errors == []
    assert len(tab.loads) == loads + 1  # the one navigation we asked for, no reloads


def test_a_failed_create_shows_why_and_offers_only_delete(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.sign_in()
    loads = tab.mark()
    page.get_by_test_id("create-name").fill("ui-huge-1")
    page.get_by_test_id("create-memory").fill("10000000")
    page.get_by_test_id("create-submit").click()
    status = page.get_by_test_id("create-status")
    expect(status).to_contain_text("no host fits")
    expect(status).to_contain_text("Could not create ui-huge-1")
    expect(status).to_have_attribute("data-tone", "bad")
    # Never placed: the API refuses every power action, so the row offers only Delete.
    row = page.get_by_test_id("vm-row-ui-huge-1")
    expect(row.get_by_test_id("vm-state")).to_have_text("error")
    expect(row.get_by_test_id("vm-action-delete")).to_be_visible()
    expect(row.locator("button")).to_have_count(1)
    delete = row.get_by_test_id("vm-action-delete")
    delete.click()
    delete.click()
    expect(row).to_have_count(0)
    tab.assert_not_reloaded(loads)


def test_an_action_refused_as_stale_updates_the_row(tab: Tab, cluster: Cluster) -> None:
    """A 409 for a button the page still showed: the row is repainted, the reason shown."""
    from playwright.sync_api import expect

    vm = cluster.create_vm("stale-1")
    page = tab.page
    # No event stream: nothing repaints the page on its own, so it goes stale.
    page.route("**/api/v1/events/stream*", lambda route: route.abort())
    tab.sign_in()
    page.wait_for_load_state("load")
    loads = len(tab.loads)
    row = page.get_by_test_id("vm-row-stale-1")
    expect(row.get_by_test_id("vm-state")).to_have_text("running")
    op = cluster.wait_op(cluster.api.post(f"/vms/{vm['id']}/stop").json())
    assert op["state"] == "succeeded"
    expect(row.get_by_test_id("vm-state")).to_have_text("running")

    row.get_by_test_id("vm-action-stop").click()
    expect(page.get_by_test_id("toast").last).to_contain_text("cannot stop a VM that is stopped")
    expect(row.get_by_test_id("vm-state")).to_have_text("stopped")
    expect(row.get_by_test_id("vm-action-start")).to_be_visible()
    assert len(tab.loads) == loads
    assert tab.errors == []


def test_vm_table_fits_its_card_at_1280px(browser: Any, cluster: Cluster, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    cluster.create_vm("fit-web-1", vcpus=2, memory_mib=2048)
    paused = cluster.create_vm("fit-cache-1")
    cluster.wait_op(cluster.api.post(f"/vms/{paused['id']}/pause").json())
    failed = cluster.api.post(
        "/vms", json={"name": "fit-huge-1", "vcpus": 1, "memory_mib": 10_000_000, "disk_gib": 1}
    )
    cluster.wait_op(failed.json())
    tab = Tab(browser, cluster, viewport=(1280, 800))
    try:
        page = tab.page
        tab.sign_in()
        tab.mark()
        running = page.get_by_test_id("vm-row-fit-web-1")
        expect(running.get_by_test_id("vm-action-reboot")).to_be_visible()
        wrap = page.locator("#vms .table-wrap")
        sizes = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert sizes[0] <= sizes[1], sizes
        card = page.locator("#vms").bounding_box()
        for name in ("fit-web-1", "fit-cache-1", "fit-huge-1"):
            box = page.get_by_test_id(f"vm-row-{name}").get_by_test_id("vm-action-delete")
            button = box.bounding_box()
            assert card and button
            assert button["x"] + button["width"] <= card["x"] + card["width"], name
        wrap.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "overview-1280.png"))
        assert tab.errors == []
    finally:
        tab.context.close()


def test_live_indicator_shows_offline_while_the_server_is_down(
    browser: Any, make_cluster: Callable[..., Cluster]
) -> None:
    from playwright.sync_api import expect

    cluster = make_cluster(with_agent=False, separate_process=True)
    tab = Tab(browser, cluster)
    try:
        tab.sign_in()
        tab.mark()
        indicator = tab.page.get_by_test_id("live-indicator")
        assert cluster.server_process is not None
        cluster.server_process.kill()
        cluster.server_process.wait(20)
        # The browser retries every few seconds; that alone must not keep it "connecting".
        expect(indicator).to_have_attribute("data-state", "offline", timeout=10_000)
        expect(indicator).to_contain_text("Offline")
        tab.page.wait_for_timeout(4000)  # across more than one retry
        expect(indicator).to_have_attribute("data-state", "offline")
        cluster.server_process = spawn_server(cluster.settings)
        wait_until(lambda: healthy(cluster.url), 60, what="server to restart")
        expect(indicator).to_have_attribute("data-state", "live", timeout=15_000)
        expect(indicator).to_contain_text("Live")
        assert tab.errors == []
    finally:
        tab.context.close()
