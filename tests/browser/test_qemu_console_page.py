"""The VM page of a real QEMU guest: its serial console streams live into the browser."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from novacron.testing.browser import Tab
from novacron.testing.cluster import Cluster
from novacron.testing.qemu import QEMU_CLUSTER_SETTINGS, upload_tiny

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.slow]

SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshot-vm-console.png"


@pytest.fixture
def qemu_tab(browser: Any, make_cluster: Any, tiny_image: Any) -> Iterator[tuple[Tab, Cluster]]:
    cluster: Cluster = make_cluster(with_agent=False, **QEMU_CLUSTER_SETTINGS)
    cluster.add_qemu_agent("qhost")
    upload_tiny(cluster.api, tiny_image)
    tab = Tab(browser, cluster)
    yield tab, cluster
    tab.context.close()


def heartbeat_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"NOVACRON-HB (\d+)", text)]


def test_live_console_of_a_real_guest(qemu_tab: tuple[Tab, Cluster], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    tab, cluster = qemu_tab
    vm = cluster.create_vm("web", memory_mib=256, image="tiny", restart_policy="on-failure")
    tab.sign_in()
    tab.page.goto(f"{cluster.url}/vms/{vm['id']}")
    loads = tab.mark()
    console = tab.page.get_by_test_id("vm-console")
    expect(console).to_contain_text("NOVACRON-GUEST-READY", timeout=60_000)
    expect(console).to_contain_text("NOVACRON-HB 3", timeout=30_000)
    first = heartbeat_numbers(console.inner_text())[-1]
    # It keeps streaming without a reload: later heartbeats arrive on their own.
    expect(console).to_contain_text(f"NOVACRON-HB {first + 2}", timeout=30_000)
    tab.assert_not_reloaded(loads)
    shot = SCREENSHOT if os.environ.get("NOVACRON_UPDATE_SCREENSHOT") == "1" else tmp_path / "c.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 30_000
