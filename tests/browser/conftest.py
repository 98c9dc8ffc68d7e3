"""Browser fixtures: one headless Chromium per module, a signed-out ``Tab`` per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from novacron.testing.browser import Tab, chromium
from novacron.testing.cluster import Cluster


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def tab(browser: Any, cluster: Cluster) -> Iterator[Tab]:
    t = Tab(browser, cluster)
    yield t
    t.context.close()
