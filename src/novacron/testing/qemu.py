"""For tests that boot real QEMU guests: skip when QEMU is absent, unless CI requires it.

``NOVACRON_REQUIRE_QEMU=1`` (CI sets it) turns a missing QEMU into a failure, so those
tests cannot silently skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

QEMU_BINARIES = ("qemu-system-x86_64", "qemu-img")


def missing_qemu() -> str | None:
    """Why QEMU cannot be used here, or None when it can."""
    missing = [b for b in QEMU_BINARIES if shutil.which(b) is None]
    if missing:
        return f"QEMU not installed ({', '.join(missing)} not on PATH)"
    return None


def require_qemu() -> None:
    """Skip the calling test when QEMU is missing; fail instead under NOVACRON_REQUIRE_QEMU=1."""
    reason = missing_qemu()
    if reason is None:
        return
    if os.environ.get("NOVACRON_REQUIRE_QEMU") == "1":
        pytest.fail(f"{reason}, and NOVACRON_REQUIRE_QEMU=1 requires it")
    pytest.skip(reason)
