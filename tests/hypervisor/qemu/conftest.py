"""Fixtures shared by the QEMU tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from novacron.hypervisor.qemu import kill_guests
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.testing.qemu import tiny_image_ref


@pytest.fixture
def make_hosts(
    tiny_image: Any, tmp_path: Path
) -> Iterator[Callable[[], tuple[QemuDriver, QemuDriver]]]:
    """Two QEMU driver "hosts", ``a`` and ``b``, with their own data dirs (as two agents
    on this machine have) and the tiny image in their caches; ``driver.test_ref`` is the
    image's ``image_ref``. Every guest left running is killed afterwards."""
    ref, image_dir = tiny_image_ref(tiny_image, tmp_path / "images")

    async def images(_ref: dict[str, Any]) -> Path:
        return image_dir

    def make() -> tuple[QemuDriver, QemuDriver]:
        a, b = (QemuDriver(name, tmp_path / name, accel="tcg", images=images) for name in "ab")
        for driver in (a, b):
            driver.test_ref = ref  # type: ignore[attr-defined]
        return a, b

    yield make
    kill_guests(tmp_path)
