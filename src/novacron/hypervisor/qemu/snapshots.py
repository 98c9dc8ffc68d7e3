"""Internal qcow2 snapshots of a VM's disk, with its RAM state when the VM runs.

A running VM is snapshotted by QEMU's ``snapshot-save`` job (disk + vmstate in the
overlay, ~0.3 s for a small guest); a stopped one by ``qemu-img snapshot`` (disk only).
Jobs are polled through ``query-jobs`` and always dismissed, so a failed job leaves
no half-written snapshot behind (QEMU rolls the snapshot back itself).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

from novacron.core.errors import DriverError, Invalid
from novacron.hypervisor.base import SnapshotInfo
from novacron.hypervisor.qemu import disks
from novacron.hypervisor.qemu.process import QemuProcess

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DISK_NODE = "disk0"
JOB_TIMEOUT_S = 600.0


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise Invalid(
            f"invalid snapshot name {name!r}",
            errors=[
                {
                    "loc": ["body", "name"],
                    "msg": "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                }
            ],
        )
    return name


def to_info(raw: dict[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        name=str(raw.get("name", "")),
        created_at=float(raw.get("date-sec", 0)) + float(raw.get("date-nsec", 0)) / 1e9,
        vm_state_bytes=int(raw.get("vm-state-size", 0)),
    )


async def listing(disk: Path, proc: QemuProcess | None) -> list[SnapshotInfo]:
    if proc is not None and proc.alive:
        nodes = await proc.execute("query-named-block-nodes", {"flat": True})
        for node in nodes:
            if node.get("node-name") == DISK_NODE:
                return [to_info(s) for s in node.get("image", {}).get("snapshots") or []]
        raise DriverError("the VM's disk node is missing")
    return [to_info(s) for s in await disks.snapshots(disk)]


async def save(proc: QemuProcess, name: str) -> None:
    await _job(
        proc,
        "snapshot-save",
        {"tag": name, "vmstate": DISK_NODE, "devices": [DISK_NODE]},
    )


async def load(proc: QemuProcess, name: str) -> None:
    await _job(
        proc,
        "snapshot-load",
        {"tag": name, "vmstate": DISK_NODE, "devices": [DISK_NODE]},
    )


async def delete(proc: QemuProcess, name: str) -> None:
    await _job(proc, "snapshot-delete", {"tag": name, "devices": [DISK_NODE]})


async def _job(proc: QemuProcess, command: str, arguments: dict[str, Any]) -> None:
    """Run a QMP job to its end; raise its error. The job is dismissed either way."""
    # Unique across agent restarts: a job an earlier agent left behind must not collide.
    job_id = f"nc-{command}-{uuid.uuid4().hex[:12]}"
    await proc.execute(command, {"job-id": job_id, **arguments})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + JOB_TIMEOUT_S
    while True:
        jobs = {j["id"]: j for j in await proc.execute("query-jobs")}
        job = jobs.get(job_id)
        if job is None:
            return  # auto-dismissed
        if job["status"] == "concluded":
            await proc.execute("job-dismiss", {"id": job_id})
            if job.get("error"):
                raise DriverError(f"{command} failed: {job['error']}")
            return
        if loop.time() > deadline:
            await proc.execute("job-cancel", {"id": job_id})
            raise DriverError(f"{command} did not finish within {JOB_TIMEOUT_S:.0f}s")
        await asyncio.sleep(0.05)
