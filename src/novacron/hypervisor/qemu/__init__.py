"""The QEMU driver: real VMs, one QEMU process each (see ``driver.py``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path

QEMU_BINARIES = ("qemu-system-x86_64", "qemu-img")


def missing_qemu() -> str | None:
    """Why QEMU cannot be used on this machine, or None when it can."""
    missing = [b for b in QEMU_BINARIES if shutil.which(b) is None]
    if missing:
        return f"QEMU not installed ({', '.join(missing)} not on PATH)"
    return None


def kill_guests(root: Path) -> int:
    """SIGKILL every QEMU whose pidfile lies under ``root``; how many were killed.

    For tests and benchmarks: agents deliberately leave guests running when they stop.
    """
    from novacron.hypervisor.qemu.procstats import cmdline, is_alive

    killed = 0
    for pidfile in root.glob("**/qemu.pid"):
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        argv = cmdline(pid) or []
        if is_alive(pid) and any(str(pidfile) == a for a in argv):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
