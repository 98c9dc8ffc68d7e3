"""Choosing the accelerator: KVM only when a real Linux guest boots with it.

``/dev/kvm`` can exist and still be useless: a nested "PVM" KVM runs only PVM-enabled
guest kernels, so a stock kernel hangs or dies with an emulation failure. So we
never trust the device node: ``auto`` boots the tiny guest's kernel under KVM and
chooses KVM only if it prints its ready marker in time; otherwise TCG. The verdict
is cached per (QEMU version, kernel) in the agent's data dir, so restarts are quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from novacron.core.errors import Invalid
from novacron.hypervisor.qemu.machine import QEMU_SYSTEM

log = logging.getLogger(__name__)

READY_MARKER = b"NOVACRON-GUEST-READY"
PROBE_TIMEOUT_S = 30.0
FAILURE_TTL_S = 86400.0
KVM_DEVICE = Path("/dev/kvm")
MODES = ("auto", "kvm", "tcg")


@dataclass(frozen=True)
class AccelChoice:
    accel: str
    reason: str


@dataclass(frozen=True)
class ProbeGuest:
    kernel: Path
    initrd: Path
    cmdline: str
    kernel_release: str


def kvm_unusable(device: Path = KVM_DEVICE) -> str | None:
    """Why KVM cannot even be tried here, or None."""
    if not device.exists():
        return f"{device} does not exist"
    if not os.access(device, os.R_OK | os.W_OK):
        return f"no read/write access to {device}"
    return None


async def probe_boot(
    guest: ProbeGuest, accel: str, *, timeout_s: float = PROBE_TIMEOUT_S, binary: str = QEMU_SYSTEM
) -> tuple[bool, str]:
    """Boot ``guest`` under ``accel``; (True, detail) when it printed its ready marker."""
    accel_args = ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg"]
    with tempfile.TemporaryDirectory(prefix="novacron-probe-") as tmp:
        serial = Path(tmp) / "serial.log"
        argv = [
            binary,
            "-M",
            "pc",
            *accel_args,
            "-m",
            "256M",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-kernel",
            str(guest.kernel),
            "-initrd",
            str(guest.initrd),
            "-append",
            guest.cmdline,
            "-serial",
            f"file:{serial}",
        ]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return False, f"cannot run {binary}: {exc.strerror}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            while loop.time() - started < timeout_s:
                if serial.exists() and READY_MARKER in serial.read_bytes():
                    return True, f"probe guest booted in {loop.time() - started:.1f}s"
                if proc.returncode is not None:
                    err = (await proc.stderr.read()).decode(errors="replace") if proc.stderr else ""
                    last = err.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
                    return False, f"QEMU exited: {last[0]}"
                await asyncio.sleep(0.1)
            return False, f"no ready marker within {timeout_s:.0f}s"
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                await proc.wait()


async def choose_accel(
    mode: str,
    *,
    cache_file: Path | None,
    qemu_version: str,
    probe_guest: Callable[[], Awaitable[ProbeGuest]],
    probe: Callable[[ProbeGuest], Awaitable[tuple[bool, str]]] | None = None,
    device: Path = KVM_DEVICE,
) -> AccelChoice:
    """The accelerator for ``mode`` (auto|kvm|tcg). ``kvm`` fails if KVM is unusable."""
    if mode not in MODES:
        raise Invalid(
            f"unknown accelerator {mode!r}",
            errors=[{"loc": ["accel"], "msg": f"must be one of: {', '.join(MODES)}"}],
        )
    if mode == "tcg":
        return AccelChoice("tcg", "TCG requested")
    unusable = kvm_unusable(device)
    if mode == "kvm":
        if unusable:
            raise Invalid(
                f"KVM requested but {unusable}", errors=[{"loc": ["accel"], "msg": unusable}]
            )
        return AccelChoice("kvm", "KVM requested")
    if unusable:
        return AccelChoice("tcg", f"KVM unusable: {unusable}")
    try:
        guest = await probe_guest()
    except Exception as exc:
        return AccelChoice("tcg", f"KVM not probed (no probe guest: {exc}); using TCG")
    key = f"{qemu_version}|{guest.kernel_release}"
    cached = _cached(cache_file, key)
    if cached is not None:
        return cached
    ok, detail = await (probe or (lambda g: probe_boot(g, "kvm")))(guest)
    choice = (
        AccelChoice("kvm", f"KVM probe boot succeeded: {detail}")
        if ok
        else AccelChoice("tcg", f"KVM probe boot failed ({detail}); using TCG")
    )
    _store(cache_file, key, choice)
    return choice


def _cached(cache_file: Path | None, key: str) -> AccelChoice | None:
    """A cached verdict; a failed probe is trusted for a day only (it may have been a
    busy machine timing out), a success for good."""
    if cache_file is None:
        return None
    try:
        data = json.loads(cache_file.read_text())
        fresh = data["accel"] == "kvm" or time.time() - float(data.get("at", 0)) < FAILURE_TTL_S
        if data.get("key") == key and fresh:
            return AccelChoice(str(data["accel"]), str(data["reason"]) + " (cached)")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _store(cache_file: Path | None, key: str, choice: AccelChoice) -> None:
    if cache_file is None:
        return
    with contextlib.suppress(OSError):
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "at": time.time(), **asdict(choice)}))
        tmp.replace(cache_file)


async def qemu_version(binary: str = QEMU_SYSTEM) -> str:
    """First line of ``qemu-system-x86_64 --version``, or "" when it cannot run."""
    try:
        proc = await asyncio.create_subprocess_exec(
            binary, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError:
        return ""
    out, _ = await proc.communicate()
    lines = out.decode(errors="replace").splitlines()
    return lines[0].strip() if lines else ""
