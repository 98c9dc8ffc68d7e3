"""The server's image files: ``<data_dir>/images/<image_id>/<file_name>``.

An upload streams into a temporary file beside its final name (hashed with SHA-256
as it is written, never held in memory), is judged (``image_formats``, then
``qemu-img info`` when installed), and only then renamed into place: a reader sees
the old file or the new one, never half of one. A failed upload removes its
temporary file and, if it made it, the image's directory.

Files live on the local disk of the server that received them: replicas need a shared
``data_dir`` (or shared ``images/`` directory) to serve each other's images.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from novacron.compute import image_formats
from novacron.core.errors import NovaCronError

QEMU_IMG_TIMEOUT_S = 60.0
# Like Nova: qemu-img parses an untrusted header, so bound its memory and CPU time.
QEMU_IMG_LIMITS = ("--as=1073741824", "--cpu=30")


@dataclass
class Upload:
    """A received file waiting in its temporary name for ``commit`` or ``discard``."""

    tmp: Path
    final: Path
    sha256: str
    size: int
    head: bytes
    made_dir: bool

    def commit(self) -> None:
        os.replace(self.tmp, self.final)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()
        if self.made_dir:
            # Only an empty directory: a concurrent upload may own files in it.
            with contextlib.suppress(OSError):
                self.final.parent.rmdir()


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, image_id: str) -> Path:
        return self.root / image_id

    def path(self, image_id: str, file_name: str) -> Path:
        return self.root / image_id / file_name

    def missing(self, image_id: str, files: dict[str, dict[str, Any]]) -> list[str]:
        """Recorded files that are absent or of another size on disk."""
        out = []
        for name, entry in files.items():
            try:
                size = self.path(image_id, name).stat().st_size
            except OSError:
                size = -1
            if size != entry.get("size"):
                out.append(name)
        return out

    async def receive(self, image_id: str, file_name: str, chunks: AsyncIterable[bytes]) -> Upload:
        """Stream ``chunks`` into a temporary file next to the file's final name."""
        directory = self.directory(image_id)
        made_dir = not directory.exists()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{file_name}.", suffix=".upload")
        upload = Upload(Path(tmp_name), directory / file_name, "", 0, b"", made_dir)
        digest, head = hashlib.sha256(), bytearray()
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    digest.update(chunk)
                    out.write(chunk)
                    if len(head) < image_formats.HEAD_BYTES:
                        head += chunk[: image_formats.HEAD_BYTES - len(head)]
                    upload.size += len(chunk)
                out.flush()
                # Durable before it is recorded: the database will say this file exists.
                await anyio.to_thread.run_sync(os.fsync, out.fileno())
        except BaseException:
            upload.discard()
            raise
        upload.sha256, upload.head = digest.hexdigest(), bytes(head)
        return upload

    def remove(self, image_id: str) -> None:
        shutil.rmtree(self.directory(image_id), ignore_errors=True)


def inspect(upload: Upload, file_name: str, fmt: str) -> int | None:
    """Judge an upload; the virtual size of a disk. Raises ``Invalid`` (422) if refused.

    The header checks run first, so qemu-img only ever opens a standalone image."""
    virtual_size = image_formats.check_file(file_name, upload.head, upload.size, fmt)
    if file_name != "disk" or qemu_img() is None:
        return virtual_size
    info = qemu_img_info(upload.tmp, fmt)
    checked = image_formats.check_qemu_img_info(info, fmt)
    if checked != virtual_size:
        raise image_formats.bad_content(
            f"qemu-img reads a virtual size of {checked} bytes, the header says {virtual_size}"
        )
    return checked


def qemu_img() -> str | None:
    """Path of qemu-img, or None: the header checks then stand alone."""
    return shutil.which("qemu-img")


def qemu_img_info(path: Path, fmt: str) -> dict[str, Any]:
    """``qemu-img info`` with the format given (never probed: a raw image could carry
    another format's header), with memory and CPU limits when ``prlimit`` exists."""
    cmd = ["qemu-img", "info", "--output=json", "-f", fmt, str(path)]
    if shutil.which("prlimit"):
        cmd = ["prlimit", *QEMU_IMG_LIMITS, "--", *cmd]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, timeout=QEMU_IMG_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise image_formats.bad_content("qemu-img info did not finish in time") from None
    except OSError as exc:
        raise NovaCronError(f"cannot run qemu-img: {exc.strerror}") from exc
    if proc.returncode != 0:
        # The temporary path means nothing to the uploader.
        text = proc.stderr.decode(errors="replace").replace(str(path), "the image")
        lines = text.strip().splitlines()
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        raise image_formats.bad_content(f"qemu-img cannot read the image: {reason}")
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        raise NovaCronError("qemu-img info printed no JSON") from None
    if not isinstance(info, dict):
        raise NovaCronError("qemu-img info printed no JSON object")
    return info
