"""The agent's image cache: an image's files, fetched from the server once and kept.

The server sends an image reference with each VM it asks for (``catalog.image_ref``):

    {"id", "name", "kind", "format", "files": {file_name: sha256}, "cmdline",
     "virtual_size_bytes"}

``ImageCache.ensure(ref)`` returns the directory holding the image's files, fetching
what is missing or damaged from ``GET {server}/api/v1/images/{id}/files/{name}`` with
the agent's token. On disk:

    <root>/<image_id>/<file_name>     read-only: VMs' disks are overlays on top of it
    <root>/<image_id>/.verified.json  {file_name: {"sha256", "size", "mtime_ns"}}

A file is trusted while it keeps the size and mtime it had when its hash was last
checked; otherwise it is hashed again, and fetched again if the hash differs. Downloads
go to a temporary file hashed as it is written and are renamed into place only when
the hash matches, so a crash or a failed download leaves no partial file under a
real name. Files of an active image never change, so the image id is the cache key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from novacron import __version__
from novacron.core.errors import DriverError

Fetch = Callable[[str, str], AsyncIterator[bytes]]
"""``fetch(image_id, file_name)``: the file's bytes, in chunks (an async generator)."""

FILE_NAMES = frozenset({"disk", "kernel", "initrd"})
STAMPS = ".verified.json"
CHUNK = 1024 * 1024
_IMAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class HttpFetcher:
    """Fetches image files from the server with the agent's token (read at each call:
    the agent's token changes when it registers again)."""

    def __init__(
        self,
        server_url: str,
        token: Callable[[], str | None],
        *,
        timeout_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self._token = token
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._transport = transport

    def url(self, image_id: str, file_name: str) -> str:
        return f"{self.server_url}/api/v1/images/{quote(image_id, safe='')}/files/{file_name}"

    async def __call__(self, image_id: str, file_name: str) -> AsyncIterator[bytes]:
        token = self._token()
        if not token:
            raise DriverError("cannot fetch images: the agent is not registered with a server")
        headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": f"novacron-agent/{__version__}",
        }
        url = self.url(image_id, file_name)
        async with (
            httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                raise DriverError(f"server answered {_reason(response)}")
            async for chunk in response.aiter_bytes(CHUNK):
                yield chunk


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail or " ".join(response.text.split())[:200]
    return f"{response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")


class ImageCache:
    """Image files under ``root``, one directory per image; ``ensure`` fetches them."""

    def __init__(self, root: Path, fetch: Fetch) -> None:
        self.root = root
        self._fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def over_http(
        cls, root: Path, server_url: str, token: Callable[[], str | None], **kwargs: Any
    ) -> ImageCache:
        """A cache fetching from the server at ``server_url`` (see ``HttpFetcher``)."""
        return cls(root, HttpFetcher(server_url, token, **kwargs))

    def directory(self, ref: Mapping[str, Any]) -> Path:
        image_id, _ = _parse_ref(ref)
        return self.root / image_id

    def local(self, ref: Mapping[str, Any]) -> Path | None:
        """The image's directory if every file is here and verified, else None.

        Hashes the files whose size or mtime changed since they were last checked."""
        image_id, files = _parse_ref(ref)
        return None if self._stale(image_id, files) else self.root / image_id

    async def ensure(self, ref: Mapping[str, Any]) -> Path:
        """The image's directory with every file present and verified, fetching what is
        missing or damaged. Concurrent calls for one image fetch once. Raises
        ``DriverError`` if a file cannot be fetched or does not match its hash."""
        image_id, files = _parse_ref(ref)
        name = str(ref.get("name") or image_id)
        lock = self._locks.setdefault(image_id, asyncio.Lock())
        async with lock:
            directory = self.root / image_id
            await asyncio.to_thread(_remove_partials, directory)
            for file_name in await asyncio.to_thread(self._stale, image_id, files):
                await self._download(image_id, name, file_name, files[file_name])
            return directory

    def evict(self, image_id: str) -> None:
        """Forget an image (its files and stamps); VMs using it must be gone."""
        if _IMAGE_ID.match(image_id):
            shutil.rmtree(self.root / image_id, ignore_errors=True)

    def prune(self, in_use: set[str], min_age_s: float = 86400.0) -> list[str]:
        """Evict images no VM uses that were last fetched or checked over ``min_age_s``
        ago (as Nova ages out unused base images); returns their ids."""
        evicted: list[str] = []
        if not self.root.is_dir():
            return evicted
        now = time.time()
        for directory in self.root.iterdir():
            if not directory.is_dir() or directory.name in in_use:
                continue
            if now - directory.stat().st_mtime >= min_age_s:
                self.evict(directory.name)
                evicted.append(directory.name)
        return evicted

    # -- verification -------------------------------------------------------------------

    def _stale(self, image_id: str, files: dict[str, str]) -> list[str]:
        """Files of the image that are missing or do not match their hash."""
        directory = self.root / image_id
        stamps = _read_stamps(directory)
        stale, changed = [], False
        for file_name, sha256 in sorted(files.items()):
            path = directory / file_name
            try:
                st = path.stat()
            except FileNotFoundError:
                stale.append(file_name)
                continue
            stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            if stamps.get(file_name) == stamp:
                continue
            if _sha256_of(path) == sha256:
                stamps[file_name], changed = stamp, True
            else:
                stale.append(file_name)
        if changed:
            _write_stamps(directory, stamps)
        return stale

    # -- download -----------------------------------------------------------------------

    async def _download(self, image_id: str, name: str, file_name: str, sha256: str) -> None:
        directory = self.root / image_id
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{file_name}.", suffix=".part")
        tmp = Path(tmp_name)
        what = f"image {name} file {file_name}"
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                chunks = self._fetch(image_id, file_name)
                try:
                    async for chunk in chunks:
                        digest.update(chunk)
                        out.write(chunk)
                finally:
                    # An async generator stopped early must close its HTTP response now.
                    aclose = getattr(chunks, "aclose", None)
                    if aclose is not None:
                        await aclose()
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            if digest.hexdigest() != sha256:
                raise DriverError(
                    f"{what}: fetched data has SHA-256 {digest.hexdigest()}, expected {sha256}"
                )
            # Read-only: a VM's disk is an overlay, nothing may write to its base.
            tmp.chmod(0o444)
            os.replace(tmp, directory / file_name)
        except DriverError as exc:
            tmp.unlink(missing_ok=True)
            if exc.detail.startswith(what):
                raise
            raise DriverError(f"cannot fetch {what}: {exc.detail}") from exc
        except Exception as exc:  # whatever the fetch raised: one clear DriverError
            tmp.unlink(missing_ok=True)
            reason = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
            raise DriverError(f"cannot fetch {what}: {reason}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        st = (directory / file_name).stat()
        stamps = _read_stamps(directory)
        stamps[file_name] = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        _write_stamps(directory, stamps)


def _parse_ref(ref: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(image id, {file_name: sha256}) of a reference; ``DriverError`` if malformed (ids
    and names become paths here, so nothing unexpected gets through)."""
    image_id, files = ref.get("id"), ref.get("files")
    if not isinstance(image_id, str) or not _IMAGE_ID.match(image_id):
        raise DriverError(f"invalid image reference: bad id {image_id!r}")
    if not isinstance(files, dict) or not files:
        raise DriverError(f"invalid image reference: image {image_id} has no files")
    for file_name, sha256 in files.items():
        if file_name not in FILE_NAMES:
            raise DriverError(f"invalid image reference: unknown file {file_name!r}")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise DriverError(f"invalid image reference: bad SHA-256 for {file_name}")
    return image_id, dict(files)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_stamps(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / STAMPS).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_stamps(directory: Path, stamps: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{STAMPS}.", suffix=".part")
    with os.fdopen(fd, "w") as out:
        json.dump(stamps, out)
    os.replace(tmp, directory / STAMPS)


def _remove_partials(directory: Path) -> None:
    """Temporary files a crashed download left behind."""
    for leftover in directory.glob(".*.part"):
        leftover.unlink(missing_ok=True)
