"""For tests that boot real QEMU guests: skip when QEMU is absent, unless CI requires it.

``NOVACRON_REQUIRE_QEMU=1`` (CI sets it) turns a missing QEMU into a failure, so those
tests cannot silently skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from novacron.hypervisor.qemu import missing_qemu

QEMU_CLUSTER_SETTINGS = {"heartbeat_timeout_s": 20.0}
"""Settings for test clusters with QEMU agents: TCG guests share two cores with the agent,
and a heartbeat late by the tests' default 5 s once marked a host down mid-test (its VMs
"unknown"). Liveness has its own tests; in these the host must stay up."""


def require_qemu() -> None:
    """Skip the calling test when QEMU is missing; fail instead under NOVACRON_REQUIRE_QEMU=1."""
    reason = missing_qemu()
    if reason is None:
        return
    if os.environ.get("NOVACRON_REQUIRE_QEMU") == "1":
        pytest.fail(f"{reason}, and NOVACRON_REQUIRE_QEMU=1 requires it")
    pytest.skip(reason)


def tiny_image_ref(tiny: Any, root: Path) -> tuple[dict[str, Any], Path]:
    """Lay the tiny guest out as an image-store entry (``kernel``, ``initrd``, ``disk``)
    and return the ``image_ref`` a server would send with it, and its directory."""
    image_dir = root / "img-tiny"
    image_dir.mkdir(parents=True, exist_ok=True)
    for name, source in (("kernel", tiny.kernel), ("initrd", tiny.initrd), ("disk", tiny.disk)):
        target = image_dir / name
        if not target.exists():
            target.symlink_to(source)
    ref = {
        "id": "img-tiny",
        "name": "tiny",
        "kind": "kernel",
        "format": "qcow2",
        "files": {"kernel": "-", "initrd": "-", "disk": "-"},
        "cmdline": tiny.cmdline,
        "virtual_size_bytes": None,
    }
    return ref, image_dir


def wait_for_text(path: Path, text: str, timeout_s: float = 60.0, *, count: int = 1) -> str:
    """Wait until ``path`` holds ``text`` at least ``count`` times; return the file's text."""
    deadline = time.monotonic() + timeout_s
    content = ""
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            content = path.read_text(errors="replace")
            if content.count(text) >= count:
                return content
        time.sleep(0.1)
    raise AssertionError(
        f"{text!r} x{count} not in {path} after {timeout_s}s; tail: {content[-400:]!r}"
    )


def heartbeats(text: str) -> list[int]:
    """The numbers of the ``NOVACRON-HB <n>`` lines in console output."""
    return [int(n) for n in re.findall(r"NOVACRON-HB (\d+)", text)]


def guest_run(serial_socket: Path, command: str, timeout_s: float = 30.0) -> str:
    """Type ``command`` on the guest's serial console; return its output (heartbeats removed).

    Start and end markers are computed by the guest's shell (``$((…))``), so the echo of
    the typed line — which holds the unexpanded expressions, and may wrap at 80 columns —
    is never mistaken for them.
    """
    nonce = secrets.token_hex(4)
    begin, end = f"__begin_{nonce}_2", f"__done_{nonce}_42"
    line = f"echo __begin_{nonce}_$((1+1)); {command}; echo __done_{nonce}_$((40+2))\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(serial_socket))
        sock.settimeout(0.5)
        sock.sendall(b"\n")
        time.sleep(0.3)
        sock.sendall(line.encode())
        received = b""
        deadline = time.monotonic() + timeout_s
        while end.encode() not in received:
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to {command!r}: {received[-400:]!r}")
            with contextlib.suppress(TimeoutError):
                received += sock.recv(65536)
    text = received.decode(errors="replace").replace("\r", "")
    output = text.split(end)[0].split(begin)[-1]
    return "\n".join(
        ln for ln in output.splitlines() if ln.strip() and not ln.startswith("NOVACRON-HB")
    )


def upload_tiny(api: Any, tiny: Any, name: str = "tiny") -> dict[str, Any]:
    """Register the tiny guest as an active ``kernel`` image through the API (httpx client
    on ``/api/v1``); returns the image."""
    created = api.post(
        "/images", json={"name": name, "kind": "kernel", "format": "qcow2", "cmdline": tiny.cmdline}
    )
    assert created.status_code in (200, 201), created.text
    for file_name, path in (("kernel", tiny.kernel), ("initrd", tiny.initrd), ("disk", tiny.disk)):
        put = api.put(f"/images/{name}/files/{file_name}", content=Path(path).read_bytes())
        assert put.status_code == 200, put.text
    activated = api.post(f"/images/{name}/activate")
    assert activated.status_code == 200, activated.text
    return dict(activated.json())


def guest_type(serial_socket: Path, text: str) -> None:
    """Type ``text`` on the guest's serial console without waiting for an answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(serial_socket))
        sock.sendall(text.encode())
        time.sleep(0.2)


def upload_disk_image(api: Any, disk: Path, name: str) -> dict[str, Any]:
    """Register a bootable qcow2 disk as an active ``disk`` image through the API."""
    created = api.post("/images", json={"name": name, "kind": "disk", "format": "qcow2"})
    assert created.status_code in (200, 201), created.text
    put = api.put(f"/images/{name}/files/disk", content=Path(disk).read_bytes())
    assert put.status_code == 200, put.text
    activated = api.post(f"/images/{name}/activate")
    assert activated.status_code == 200, activated.text
    return dict(activated.json())
