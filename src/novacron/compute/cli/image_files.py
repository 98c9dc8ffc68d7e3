"""Image files from the CLI: format detection, uploads with a progress bar, the tiny build.

``create_and_upload`` is the one path by which ``novacron image import`` and ``novacron
image build`` turn local files into an active image: create it pending, stream each
file (hashing it on the way, so the server's record is checked against what was sent),
activate it — and delete it again if anything fails, so a failed try leaves no pending
image holding the name.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from novacron.compute.image_formats import QCOW2_MAGIC
from novacron.core.cli_support import ApiClient, CLIContext, fmt_mib, render, seg
from novacron.core.errors import Conflict, Invalid, NotFound, NovaCronError

MIB = 1024 * 1024

UPLOAD_CHUNK = 1024 * 1024
# The server answers once it has hashed, judged and synced the whole file: give it time.
UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=600.0)


def render_image(cli: CLIContext, image: dict[str, Any]) -> None:
    """The image as the API returned it (JSON), or with its files summed up (table)."""
    if cli.json or not isinstance(image.get("files"), dict):
        render(cli, image)
        return
    files = {
        name: f"{fmt_bytes(int(entry.get('size', 0)))}, sha256 {str(entry.get('sha256'))[:16]}…"
        for name, entry in image["files"].items()
    }
    render(cli, {**image, "files": "; ".join(f"{k} ({v})" for k, v in files.items()) or "-"})


def fmt_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < MIB:
        return f"{size / 1024:.0f} KiB"
    return fmt_mib(size / MIB)


def readable_file(path: Path) -> Path:
    if not path.exists():
        raise NovaCronError(f"no such file: {path}")
    if not path.is_file():
        raise NovaCronError(f"not a file: {path}")
    if not os.access(path, os.R_OK):
        raise NovaCronError(f"cannot read {path}: permission denied")
    return path


def detect_format(path: Path) -> str:
    """qcow2 when the file starts with its magic, else raw."""
    with path.open("rb") as f:
        return "qcow2" if f.read(len(QCOW2_MAGIC)) == QCOW2_MAGIC else "raw"


def name_from_file(path: Path) -> str:
    """``debian-12.qcow2`` → ``debian-12``: the file name without its extension, as a
    valid image name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-_.")[:63]
    return name or "image"


def create_and_upload(
    cli: CLIContext, api: ApiClient, body: dict[str, Any], files: dict[str, Path]
) -> dict[str, Any]:
    """Create a pending image, upload its files, activate it. On any failure the pending
    image is deleted again, so its name stays free for the next try."""
    image: dict[str, Any] = api.post("/images", json=body)
    try:
        for file_name, path in files.items():
            upload_file(cli, api, image, file_name, path)
        activated: dict[str, Any] = api.post(f"/images/{seg(image['id'])}/activate")
        return activated
    except BaseException:
        with contextlib.suppress(NovaCronError, httpx.HTTPError):
            api.delete(f"/images/{seg(image['id'])}")
        raise


def upload_file(
    cli: CLIContext, api: ApiClient, image: dict[str, Any], file_name: str, path: Path
) -> dict[str, Any]:
    """Stream one file with a progress bar; check the server recorded what was sent."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with _progress(cli, f"{file_name} ({path.name})", size) as advance:

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(UPLOAD_CHUNK):
                    digest.update(chunk)
                    advance(len(chunk))
                    yield chunk

        try:
            out: dict[str, Any] = api.request(
                "PUT",
                f"/images/{seg(image['id'])}/files/{file_name}",
                content=chunks(),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                timeout=UPLOAD_TIMEOUT,
            )
        except Invalid as exc:  # the server refused the content: say which file and why
            reason = exc.errors[0].get("msg") if exc.errors else None
            raise NovaCronError(f"{path.name}: {reason or exc.detail}") from exc
    recorded = out["files"][file_name]["sha256"]
    if recorded != digest.hexdigest():
        raise NovaCronError(f"{path.name} changed while it was uploaded; try again")
    return out


@contextlib.contextmanager
def _progress(cli: CLIContext, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A byte progress bar on stderr (when it is a terminal); yields ``advance(n)``."""
    console = Console(stderr=True, highlight=False)
    if cli.json or not console.is_terminal:
        yield lambda _n: None
        return
    progress = Progress(
        TextColumn("{task.fields[label]}", style="bold", markup=False),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("upload", total=total, label=label)
        yield lambda n: progress.advance(task, n)


def require_free_name(api: ApiClient, name: str) -> None:
    try:
        api.get(f"/images/{seg(name)}")
    except NotFound:
        return
    raise Conflict(f"an image named {name!r} already exists")


def build_tiny_guest(cli: CLIContext, out_dir: Path) -> Any:
    """The tiny guest built into ``out_dir`` (kernel, initrd and disk; the downloads and
    the build are cached across runs)."""
    return _build_tiny(cli, "build_tiny", out_dir)


def build_tiny_disk_guest(cli: CLIContext, out_dir: Path) -> Path:
    """The tiny guest as one BIOS-bootable qcow2 disk image built in ``out_dir``."""
    return Path(_build_tiny(cli, "build_tiny_disk", out_dir))


def _build_tiny(cli: CLIContext, builder: str, out_dir: Path) -> Any:
    try:
        tiny = importlib.import_module("novacron.hypervisor.qemu.tiny")
        build, cache_dir = getattr(tiny, builder), tiny.default_cache_dir
    except (ImportError, AttributeError) as exc:
        raise NovaCronError(f"the tiny image builder is not available: {exc}") from exc
    console = Console(stderr=True, highlight=False)
    if not cli.json and console.is_terminal:
        console.print("building the tiny guest (cached after the first build)…", markup=False)
    try:
        return build(out_dir, cache_dir=cache_dir())
    except (OSError, subprocess.SubprocessError) as exc:
        raise NovaCronError(f"building the tiny guest failed: {exc}") from exc
