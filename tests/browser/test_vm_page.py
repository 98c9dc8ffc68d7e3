"""The VM page in headless Chromium: serial console panel, restart policy, port forwards,
a crashed VM, snapshots — on the sim driver, which has no console and no snapshots, so
the page must say so rather than break. (The live console of a real QEMU guest is tested
with the QEMU driver.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from novacron.testing.browser import Tab
from novacron.testing.cli import add_snapshot_record
from novacron.testing.cluster import Cluster

pytestmark = pytest.mark.browser


def open_vm_page(tab: Tab, vm: dict[str, Any]) -> int:
    """Sign in, open the VM's page; the number of loads once it is live."""
    tab.sign_in()
    tab.page.goto(f"{tab.cluster.url}/vms/{vm['id']}")
    return tab.mark()


def test_console_panel_says_why_when_the_driver_has_none(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    vm = cluster.create_vm("console-1")
    loads = open_vm_page(tab, vm)
    page = tab.page
    status = page.get_by_test_id("console-status")
    expect(status).to_have_attribute("data-state", "unavailable")
    refused = re.compile(r"^Console unavailable: host agent-1-\d+ \(sim driver\) .*console$")
    expect(status).to_have_text(refused)
    console = page.get_by_test_id("vm-console")
    expect(console).to_be_visible()
    expect(console).to_have_text("")
    # The rest of the page works; a state change tries the console again, same answer.
    page.get_by_test_id("vm-summary").get_by_test_id("vm-action-pause").click()
    expect(page.get_by_test_id("vm-summary").get_by_test_id("vm-state").first).to_have_text(
        "paused"
    )
    expect(status).to_have_text(refused)
    tab.assert_not_reloaded(loads)


def test_restart_policy_ports_and_a_crash(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    from novacron.agent.client import agent_client

    forwards = [
        {"host_port": 8080, "guest_port": 80},
        {"host_port": 5353, "guest_port": 53, "proto": "udp", "host_addr": "0.0.0.0"},
    ]
    vm = cluster.create_vm(
        "policy-1",
        restart_policy="on-failure",
        network={"forwards": forwards},
        kernel_args="console=ttyS0",
    )
    loads = open_vm_page(tab, vm)
    page = tab.page
    summary = page.get_by_test_id("vm-summary")
    expect(summary.get_by_test_id("vm-restart-policy")).to_have_text("on-failure")
    expect(summary.get_by_test_id("vm-restart-on-failure")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(summary.get_by_test_id("vm-network")).to_have_text("user-mode NAT")
    ports = summary.get_by_test_id("vm-forwards")
    expect(ports).to_contain_text("127.0.0.1:8080 → 80/tcp")
    expect(ports).to_contain_text("0.0.0.0:5353 → 53/udp")
    expect(summary.get_by_test_id("vm-kernel-args")).to_have_text("console=ttyS0")

    # Change the policy from the page (PATCH with the session cookie).
    summary.get_by_test_id("vm-restart-never").click()
    expect(page.get_by_test_id("vm-summary").get_by_test_id("vm-restart-policy")).to_have_text(
        "never"
    )
    assert cluster.api.get(f"/vms/{vm['id']}").json()["restart_policy"] == "never"

    # The guest crashes (injected in the sim agent): state, styling and reason, live.
    url, secret = cluster.agent_api()
    with agent_client(url, secret, 10) as agent:
        agent.crash_vm(vm["host_name"], vm["id"])
    summary = page.get_by_test_id("vm-summary")
    badge = summary.get_by_test_id("vm-state").first
    expect(badge).to_have_text("crashed")
    expect(badge).to_have_class(re.compile(r"\btone-bad\b"))
    fault = summary.get_by_test_id("vm-fault")
    expect(fault).to_contain_text("Crashed:")
    expect(fault).to_contain_text("start it again by hand")
    expect(summary.get_by_test_id("vm-action-start")).to_be_visible()
    tab.assert_not_reloaded(loads)


def test_snapshot_panel_on_a_host_without_snapshots(tab: Tab, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    vm = cluster.create_vm("snap-1")
    add_snapshot_record(cluster.settings.resolved_database_url, vm["id"], "s1", 64 << 20)
    loads = open_vm_page(tab, vm)
    page = tab.page

    # The host cannot take snapshots: the form is off, and the page says why.
    note = page.get_by_test_id("snapshots-unsupported")
    expect(note).to_have_text(re.compile(r"^Host agent-1-\d+ \(sim driver\) does not support"))
    expect(page.get_by_test_id("snapshot-create")).to_be_disabled()
    row = page.get_by_test_id("snapshot-row-s1")
    expect(row).to_contain_text("64 MiB")
    expect(row.get_by_test_id("snapshot-revert-s1")).to_be_disabled()

    # Deleting the record is an operation (DELETE with the session cookie, after a second
    # click); the sim driver fails it, and the operation's card says why.
    delete = row.get_by_test_id("snapshot-delete-s1")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    card = page.locator('[data-testid^="op-card-"]').first
    expect(card).to_contain_text("vm.snapshot")
    expect(card.get_by_test_id("op-state").first).to_have_text("failed")
    expect(card.get_by_test_id("op-error")).to_contain_text("does not support snapshots")
    ops = cluster.api.get("/operations", params={"target": vm["id"]}).json()["items"]
    assert ops[0]["kind"] == "vm.snapshot"
    assert (ops[0]["params"]["mode"], ops[0]["params"]["name"]) == ("delete", "s1")

    # What the form says about bad names and refusals (switched on here to see it).
    page.evaluate(
        "document.querySelectorAll('[data-testid=snapshot-form] [disabled]')"
        ".forEach((el) => { el.disabled = false; })"
    )
    error = page.get_by_test_id("snapshot-error")
    page.get_by_test_id("snapshot-create").click()
    expect(error).to_have_text("Enter a name for the snapshot.")
    page.get_by_test_id("snapshot-name").fill("not ok!")
    page.get_by_test_id("snapshot-create").click()
    expect(error).to_contain_text("Invalid snapshot name. Use letters, digits")
    expect(page.get_by_test_id("snapshot-name")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("snapshot-name").fill("before-upgrade")
    page.get_by_test_id("snapshot-create").click()
    expect(error).to_have_text(re.compile(r"^host agent-1-\d+ \(sim driver\) does not support"))
    tab.assert_not_reloaded(loads)
