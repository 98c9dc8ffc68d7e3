"""Disk files through ``qemu-img``: overlays on images, resize, offline snapshots, copies.

A VM's disk is a qcow2 overlay whose backing file is the image in the host's image
store, so creating a VM copies nothing (~15 ms). Everything here is for disks no QEMU
process has open; a running VM's disk is changed through QMP instead.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from novacron.core.errors import DriverError

QEMU_IMG = "qemu-img"
GIB = 1024**3


async def run_qemu_img(*args: str, binary: str = QEMU_IMG) -> str:
    """Run ``qemu-img`` and return its stdout; a failure is a ``DriverError`` with its message."""
    try:
        proc = await asyncio.create_subprocess_exec(
            binary,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise DriverError(f"cannot run {binary}: {exc.strerror}") from exc
    out, err = await proc.communicate()
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise DriverError(
            f"qemu-img {args[0]} failed: {message[-1] if message else proc.returncode}"
        )
    return out.decode(errors="replace")


async def info(path: Path, *, running: bool = False) -> dict[str, Any]:
    """``qemu-img info`` as JSON; ``running=True`` reads a disk a QEMU holds open (-U)."""
    args = ["info", "--output=json"] + (["-U"] if running else []) + [str(path)]
    return dict(json.loads(await run_qemu_img(*args)))


async def create_overlay(
    path: Path, *, backing: Path | None, backing_format: str, size_bytes: int
) -> None:
    """A qcow2 of ``size_bytes`` on top of ``backing`` (or blank without one)."""
    args = ["create", "-q", "-f", "qcow2"]
    if backing is not None:
        args += ["-b", str(backing), "-F", backing_format]
    await run_qemu_img(*args, str(path), str(size_bytes))


async def grow(path: Path, size_bytes: int) -> None:
    await run_qemu_img("resize", "-q", str(path), str(size_bytes))


async def snapshot(path: Path, action: str, name: str | None = None) -> None:
    """Offline internal snapshot: ``action`` is ``-c`` create, ``-a`` apply, ``-d`` delete."""
    args = ["snapshot", action] + ([name] if name else []) + [str(path)]
    await run_qemu_img(*args)


async def snapshots(path: Path, *, running: bool = False) -> list[dict[str, Any]]:
    """Internal snapshots recorded in a qcow2 (``name``, ``vm-state-size``, ``date-sec`` …)."""
    return list((await info(path, running=running)).get("snapshots") or [])


async def copy_delta(
    source: Path, dest: Path, *, backing: Path | None, backing_format: str
) -> None:
    """Copy ``source`` into a new qcow2 that shares ``backing``: only clusters that differ
    from the backing image are written, so a clone of a fresh VM is tiny."""
    args = ["convert", "-q", "-O", "qcow2"]
    if backing is not None:
        args += ["-B", str(backing), "-F", backing_format]
    await run_qemu_img(*args, str(source), str(dest))
