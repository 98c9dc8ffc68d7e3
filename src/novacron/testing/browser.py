"""For the browser tests: headless Debian Chromium through Playwright, and a ``Tab`` that
signs in and notices JavaScript errors and page reloads.

Skips when /usr/bin/chromium or Playwright is missing, unless
``NOVACRON_REQUIRE_BROWSER=1`` (CI sets it) — then it fails. The fixtures are in
``tests/browser/conftest.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from novacron.testing.cluster import Cluster

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIVE_TIMEOUT_MS = 20_000


def unavailable(reason: str) -> None:
    if os.environ.get("NOVACRON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (NOVACRON_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``); skips the test when there is none."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium package")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright (Python) is not installed")
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Tab:
    """A page that records JavaScript errors and full page loads."""

    def __init__(
        self, browser: Any, cluster: Cluster, viewport: tuple[int, int] = (1440, 900)
    ) -> None:
        self.cluster = cluster
        width, height = viewport
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.set_default_timeout(LIVE_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.loads: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("load", lambda page: self.loads.append(page.url))

    def sign_in(self) -> None:
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.cluster.url + "/")
        expect(page).to_have_url(re.compile(r"/login$"))
        page.get_by_test_id("login-with-token").click()
        page.get_by_test_id("login-token").fill(self.cluster.token)
        page.get_by_test_id("login-submit").click()
        expect(page).to_have_url(self.cluster.url + "/")

    def mark(self) -> int:
        """Mark the window; returns the number of loads so far."""
        from playwright.sync_api import expect

        # The page's `load` event can come after the stream is live (favicon, fonts):
        # wait for it so it is not mistaken for a reload later.
        self.page.wait_for_load_state("load")
        expect(self.page.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live")
        self.page.evaluate("window.__marker = 1")
        return len(self.loads)

    def assert_not_reloaded(self, loads: int) -> None:
        assert self.page.evaluate("window.__marker") == 1, "the page was reloaded"
        assert len(self.loads) == loads, self.loads
        assert self.errors == []
