"""The tiny guest's data disk: an ext4 filesystem made from a directory, as qcow2."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from novacron.core.errors import DriverError

HELLO_TEXT = "hello from novacron\n"


def find_tool(*names: str, package: str) -> str:
    """The path of the first of ``names`` on PATH (or in the sbin directories)."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/sbin:/usr/sbin")
        if found:
            return found
    raise DriverError(f"{names[0]} not found: install {package} (apt-get install {package})")


def run_tool(argv: list[str], what: str) -> None:
    """Run ``argv``; DriverError naming ``what`` with its last line of output on failure."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DriverError(f"{what} failed (exit {proc.returncode}): {detail[0]}")


def build_disk(target: Path, work: Path, size_mib: int) -> None:
    """Write ``target`` (qcow2, ``size_mib`` virtual) holding ``/hello.txt``."""
    if size_mib < 8:
        # ext4 with a journal needs a few MiB of its own.
        raise DriverError(f"disk of {size_mib} MiB is too small for ext4: use at least 8")
    mke2fs = find_tool("mke2fs", "mkfs.ext4", package="e2fsprogs")
    find_tool("qemu-img", package="qemu-utils")  # fail before the work
    content = work / "disk-content"
    content.mkdir()
    (content / "hello.txt").write_text(HELLO_TEXT)
    raw = work / "disk.raw"
    with raw.open("wb") as f:
        f.truncate(size_mib * 1024 * 1024)  # sparse: costs nothing until written
    # -d populates from a directory (no mount, no root); root_owner keeps / owned by
    # root in the guest whoever builds it.
    mkfs = [mke2fs, "-q", "-F", "-t", "ext4", "-L", "novacron", "-E", "root_owner=0:0"]
    run_tool([*mkfs, "-d", str(content), str(raw)], "mke2fs")
    raw_to_qcow2(raw, target)
    raw.unlink()


def raw_to_qcow2(raw: Path, target: Path) -> None:
    """Write ``raw`` as the qcow2 image ``target`` (unallocated zeros stay unallocated)."""
    qemu_img = find_tool("qemu-img", package="qemu-utils")
    run_tool(
        [qemu_img, "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(target)], "qemu-img"
    )
