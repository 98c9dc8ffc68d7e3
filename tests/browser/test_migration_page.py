"""Live migration on the VM page and drain on the host page, in headless Chromium against
a real server and a sim agent (3 sim hosts), whose migrations play a model of QEMU's.

A migration over a 1 MiB/s link without post-copy is slow enough to watch mid-way: the
synthetic guest dirties memory faster than the link sends it. Not for ever, though: the
adaptive policy's auto-converge throttles the guest, and about half of the sim's guests
then converge, the quickest after some 2.5 s of real time. So the slow parts run the sim
at a tenth of its speed (``slow_sim``): no guest converges within the minute they take.
Every change must reach the page through the event stream: the tests mark the window
after the first load and fail on any reload.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from novacron.testing.browser import Tab
from novacron.testing.cluster import Cluster

pytestmark = pytest.mark.browser

# The docs' picture of the panel; refreshed only on request so test runs leave the tree clean.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-migration.png"
SLOW = {"bandwidth_mib_s": 1, "allow_postcopy": False}
MIB = 1024 * 1024


@contextmanager
def slow_sim(cluster: Cluster, speed: float = 0.1) -> Iterator[None]:
    """The sim agent's migrations (and other operations) ``1 / speed`` times slower."""
    from novacron.agent.client import agent_client

    url, secret = cluster.agent_api()
    with agent_client(url, secret, 10) as agent:
        agent.sim_config(speed=speed)
        try:
            yield
        finally:
            agent.sim_config(speed=1.0)


def open_page(tab: Tab, path: str) -> int:
    """Sign in, open ``path``; the number of loads once the page is live."""
    tab.sign_in()
    tab.page.goto(tab.cluster.url + path)
    return tab.mark()


def figure(tab: Tab, key: str) -> float:
    """A number of the live migration panel (its ``data-value``)."""
    value = tab.page.get_by_test_id(f"migration-{key}").get_attribute("data-value")
    assert value, key
    return float(value)


def wait_figure_above(tab: Tab, key: str, floor: float) -> float:
    """Waits, in the browser, until the panel shows ``key`` above ``floor``; its value."""
    tab.page.wait_for_function(
        """([key, floor]) => {
            const el = document.querySelector(`[data-testid="migration-${key}"]`);
            return el !== null && Number(el.dataset.value) > floor;
        }""",
        arg=[key, floor],
    )
    return figure(tab, key)


def other_hosts(cluster: Cluster, vm: dict[str, Any]) -> list[str]:
    names = [h["name"] for h in cluster.api.get("/hosts").json()["items"]]
    return sorted(n for n in names if n != vm["host_name"])


def watch_slow_migration(
    tab: Tab, vm: dict[str, Any], source: str, dest: str, tmp_path: Path
) -> dict[str, Any]:
    """The panel of a slow migration just started from the page: its numbers move, the
    policy's decisions show; a screenshot. Returns the operation."""
    from playwright.sync_api import expect

    cluster, page = tab.cluster, tab.page
    card = page.get_by_test_id("vm-migration-card")
    panel = card.get_by_test_id("migration-panel")
    expect(panel).to_have_attribute("data-state", "running")
    expect(card.get_by_test_id("migrate-form")).to_have_count(0)  # one migration at a time
    expect(panel.get_by_test_id("migration-source")).to_have_text(source)
    expect(panel.get_by_test_id("migration-dest")).to_have_text(dest)
    summary = page.get_by_test_id("vm-summary")
    expect(summary.get_by_test_id("vm-state").first).to_have_text("migrating")
    op = cluster.api.get("/operations", params={"target": vm["id"]}).json()["items"][0]
    assert op["kind"] == "vm.migrate"
    assert op["params"]["bandwidth_bps"] == MIB and op["params"]["allow_postcopy"] is False
    dest_id = next(h["id"] for h in cluster.api.get("/hosts").json()["items"] if h["name"] == dest)
    assert op["params"]["to_host_id"] == dest_id

    # The figures come from the source's progress reports, and move.
    sent = wait_figure_above(tab, "sent", 0)
    later = wait_figure_above(tab, "sent", sent + 16 * MIB)
    assert later >= sent + 16 * MIB
    assert figure(tab, "left") > 0
    expect(panel.get_by_test_id("migration-link")).to_contain_text("1.0 MiB/s")
    assert figure(tab, "link") == MIB
    assert figure(tab, "dirty") > 0
    expect(panel.get_by_test_id("migration-mode")).to_contain_text("precopy")
    expect(panel.get_by_test_id("migration-round")).to_contain_text("1")
    expect(panel.get_by_test_id("migration-status-line")).to_contain_text(
        re.compile(r"precopy, \d+ MiB sent, \d+ MiB left, link 1\.0 MiB/s, dirty [\d.]+ MiB/s")
    )
    expect(panel.get_by_test_id("migration-expected-downtime")).to_contain_text(
        re.compile(r"\d+ (ms|s|min)")
    )
    # The progress bar: sent / (sent + left), growing with them.
    progress = panel.get_by_test_id("migration-progress")
    before = float(progress.get_attribute("data-percent") or "nan")
    page.wait_for_function(
        """(before) => {
            const el = document.querySelector('[data-testid="migration-progress"]');
            return el !== null && Number(el.dataset.percent) > before + 1;
        }""",
        arg=before,
    )
    sent, left = figure(tab, "sent"), figure(tab, "left")
    percent = float(progress.get_attribute("data-percent") or "nan")
    assert 0 < percent < 100, percent
    assert abs(percent - 100 * sent / (sent + left)) < 5  # (read a report apart at most)

    # The policy's decisions with their reasons: the plan, then the stream's.
    steps = panel.get_by_test_id("policy-step")
    expect(steps.filter(has_text="max-bandwidth 1.0 MiB/s")).to_contain_text("the link's rate")
    expect(steps.filter(has_text="forecast")).to_contain_text("will not converge")
    stream = steps.filter(has_text=re.compile(r"^\d+\.\d s"))
    expect(stream.first).to_contain_text("precopy")
    expect(stream.first).to_contain_text("not to converge")
    # The operation's card says it in one line, and in figures.
    op_card = page.get_by_test_id(f"op-card-{op['id']}")
    expect(op_card.get_by_test_id("op-status-line")).to_contain_text("link 1.0 MiB/s")
    expect(op_card.get_by_test_id("op-figure-sent")).to_contain_text("MiB")

    screenshot = (
        DOCS_SCREENSHOT
        if os.environ.get("NOVACRON_UPDATE_SCREENSHOT") == "1"
        else tmp_path / "migration.png"
    )
    wait_figure_above(tab, "sent", figure(tab, "sent"))  # a fresh paint
    page.wait_for_timeout(600)  # the bar's transition
    box = card.bounding_box()
    assert box
    height = page.evaluate("window.scrollY") + box["y"] + box["height"] + 24
    page.screenshot(
        path=str(screenshot), full_page=True, clip={"x": 0, "y": 0, "width": 1440, "height": height}
    )
    assert screenshot.stat().st_size > 50_000
    assert cluster.api.get(f"/operations/{op['id']}").json()["state"] == "running"
    return op


def test_watch_cancel_and_complete_a_migration_from_the_vm_page(
    tab: Tab, cluster: Cluster, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    vm = cluster.create_vm("mig-1", memory_mib=512)
    source = vm["host_name"]
    slow_dest, fast_dest = other_hosts(cluster, vm)
    loads = open_page(tab, f"/vms/{vm['id']}")
    page = tab.page
    card = page.get_by_test_id("vm-migration-card")
    summary = page.get_by_test_id("vm-summary")  # a locator: found anew at each use

    # The form offers the other hosts, and the scheduler.
    choices = card.get_by_test_id("migrate-to").locator("option")
    assert choices.all_inner_texts() == ["scheduler picks", slow_dest, fast_dest]
    expect(card.get_by_test_id("migration-none")).to_be_visible()

    # Bad input is explained next to the form, by the page or by the API (problem+json).
    error = card.get_by_test_id("migrate-error")
    card.get_by_test_id("migrate-bandwidth").fill("0")
    card.get_by_test_id("migrate-submit").click()
    expect(error).to_have_text("Link (MiB/s): enter a number greater than 0, or leave it blank.")
    expect(card.get_by_test_id("migrate-bandwidth")).to_have_attribute("aria-invalid", "true")
    card.get_by_test_id("migrate-bandwidth").fill("")
    card.get_by_test_id("migrate-downtime").fill("20000")
    card.get_by_test_id("migrate-submit").click()
    expect(error).to_contain_text(re.compile(r"^Downtime \(ms\): .*10000"))
    expect(card.get_by_test_id("migrate-downtime")).to_have_attribute("aria-invalid", "true")
    card.get_by_test_id("migrate-downtime").fill("50")
    assert (
        cluster.api.get("/operations", params={"target": vm["id"]}).json()["items"][0]["kind"]
        == "vm.create"
    )

    # -- a slow migration, watched live, then cancelled ---------------------------------------
    with slow_sim(cluster):
        card.get_by_test_id("migrate-to").select_option(slow_dest)
        card.get_by_test_id("migrate-bandwidth").fill("1")
        card.get_by_test_id("migrate-postcopy").uncheck()
        card.get_by_test_id("migrate-submit").click()
        expect(error).to_be_hidden()
        op = watch_slow_migration(tab, vm, source, slow_dest, tmp_path)

        # Cancel from the page: rolled back, the VM runs on its host as before.
        card.get_by_test_id("migration-cancel").click()
        migration = card.get_by_test_id("vm-migration")
        expect(migration).to_have_attribute("data-state", "cancelled")
        outcome = card.get_by_test_id("migration-outcome")
        expect(outcome).to_contain_text("Cancelled:")
        expect(outcome).to_contain_text("Rolled back")
        expect(outcome.get_by_test_id("migration-rolled-back-state")).to_have_text("running")
        expect(outcome.get_by_test_id("migration-now-on")).to_have_text(source)
        expect(summary.get_by_test_id("vm-state").first).to_have_text("running")
        expect(summary.get_by_test_id("vm-host")).to_have_text(source)
    after = cluster.api.get(f"/vms/{vm['id']}").json()
    assert (after["state"], after["host_name"], after["migration_host_id"]) == (
        "running",
        source,
        None,
    )
    assert cluster.api.get(f"/operations/{op['id']}").json()["state"] == "cancelled"

    # The form is back, with what was typed into it (the panel was re-rendered many times).
    expect(card.get_by_test_id("migrate-bandwidth")).to_have_value("1")
    expect(card.get_by_test_id("migrate-postcopy")).not_to_be_checked()

    # -- a normal migration: the VM's host changes on the page ---------------------------------
    card.get_by_test_id("migrate-bandwidth").fill("")
    card.get_by_test_id("migrate-postcopy").check()
    card.get_by_test_id("migrate-to").select_option(fast_dest)
    card.get_by_test_id("migrate-submit").click()
    expect(migration).to_have_attribute("data-state", "succeeded")
    expect(card.get_by_test_id("migration-outcome")).to_contain_text("Migrated")
    expect(card.get_by_test_id("migration-now-on")).to_have_text(fast_dest)
    expect(card.get_by_test_id("migration-route")).to_contain_text(f"{source} → {fast_dest}")
    expect(card.get_by_test_id("migration-downtime")).to_contain_text(re.compile(r"\d+ ms"))
    assert figure(tab, "bytes") > 0
    expect(summary.get_by_test_id("vm-host")).to_have_text(fast_dest)
    expect(summary.get_by_test_id("vm-state").first).to_have_text("running")
    moved = cluster.api.get(f"/vms/{vm['id']}").json()
    assert (moved["host_name"], moved["state"]) == (fast_dest, "running")
    # The destinations are now the hosts other than the new one.
    expect(card.get_by_test_id("migrate-to").locator("option")).to_have_text(
        ["scheduler picks", source, slow_dest]
    )
    tab.assert_not_reloaded(loads)


def test_drain_and_undrain_from_the_host_page(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    first = cluster.create_vm("drain-1")
    host, host_id = first["host_name"], first["host_id"]
    cluster.create_vm("drain-2", host=host)
    loads = open_page(tab, f"/hosts/{host_id}")
    page = tab.page
    summary = page.get_by_test_id("host-summary")  # a locator: found anew at each use

    def vm_count() -> int:
        return int(cluster.api.get("/vms", params={"host": host_id}).json()["total"])

    expect(summary.get_by_test_id("host-action-undrain")).to_have_count(0)

    # A slow drain (API): the page shows it running, and cancels it.
    with slow_sim(cluster):
        resp = cluster.api.post(f"/hosts/{host_id}/drain", json={"parallel": 1, **SLOW})
        assert resp.status_code == 202, resp.text
        expect(summary.get_by_test_id("host-draining")).to_have_text("draining")
        expect(summary.get_by_test_id("host-state").first).to_have_text("maintenance")
        line = summary.get_by_test_id("host-drain-line")
        expect(line).to_have_text("2 to migrate · moving drain-1")
        expect(summary.get_by_test_id("host-action-drain")).to_have_count(0)
        expect(summary.get_by_test_id("host-action-undrain")).to_have_count(0)
        row = page.get_by_test_id("vm-row-drain-1")
        expect(row.get_by_test_id("vm-state")).to_have_text("migrating")
        cancel = summary.get_by_test_id("host-action-cancel-drain")
        cancel.click()
        expect(cancel).to_have_text("Confirm cancel")
        cancel.click()
        expect(summary.get_by_test_id("host-draining")).to_have_count(0)
        expect(summary).to_have_attribute("data-draining", "false")
        expect(row.get_by_test_id("vm-state")).to_have_text("running")
        drain = cluster.wait_op(resp.json())
    assert drain["state"] == "cancelled", drain
    assert vm_count() == 2  # the migration in flight rolled back

    # Undrain: out of maintenance.
    summary.get_by_test_id("host-action-undrain").click()
    expect(summary.get_by_test_id("host-state").first).to_have_text("up")
    expect(summary.get_by_test_id("host-action-undrain")).to_have_count(0)

    # Drain from the page: every VM leaves, the host stays in maintenance.
    drain_button = summary.get_by_test_id("host-action-drain")
    drain_button.click()
    expect(drain_button).to_have_text("Drain: move its VMs?")
    drain_button.click()
    expect(summary.get_by_test_id("host-state").first).to_have_text("maintenance")
    row = page.locator('[data-testid^="op-row-"]').filter(has_text="host.drain").first
    expect(row.get_by_test_id("op-state")).to_have_text("succeeded")
    expect(row.get_by_test_id("op-status-line")).to_have_text("2 of 2 VMs handled")
    expect(summary).to_contain_text("Maintenance: drained")
    assert vm_count() == 0
    for name in ("drain-1", "drain-2"):
        assert cluster.api.get(f"/vms/{name}").json()["host_name"] != host

    # Undrain and bring them back.
    summary.get_by_test_id("host-action-undrain-back").click()
    expect(summary.get_by_test_id("host-state").first).to_have_text("up")
    expect(page.get_by_test_id("vm-row-drain-1").get_by_test_id("vm-host")).to_have_text(host)
    expect(page.get_by_test_id("vm-row-drain-2").get_by_test_id("vm-host")).to_have_text(host)
    tab.assert_not_reloaded(loads)
