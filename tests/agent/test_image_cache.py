"""The agent's image cache against a real server: fetch once, verify, heal, fail cleanly."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from novacron.agent.images import HttpFetcher, ImageCache
from novacron.compute.models import Image
from novacron.core.database import Database
from novacron.core.errors import DriverError
from novacron.testing.cluster import Cluster, free_port
from novacron.testing.images import MIB, active_image, agent_token, bzimage_bytes, qcow2_bytes

pytestmark = pytest.mark.timeout(120)

KERNEL, INITRD, DISK = bzimage_bytes(), b"070701" + os.urandom(4096), qcow2_bytes(32 * MIB)


@pytest.fixture
def server(make_cluster: Callable[..., Cluster]) -> Cluster:
    return make_cluster(with_agent=False)


@pytest.fixture
def ref(server: Cluster) -> dict[str, Any]:
    """The reference the server would send for an active kernel image."""
    from novacron.compute.catalog import image_ref

    image = active_image(
        server,
        "tiny",
        {"kernel": KERNEL, "initrd": INITRD, "disk": DISK},
        format="qcow2",
        cmdline="console=ttyS0",
    )
    db = Database(server.settings.resolved_database_url)
    try:
        with db.read() as s:
            row = s.get(Image, image["id"])
            assert row is not None
            found = image_ref(row)
    finally:
        db.dispose()
    assert found is not None
    return found


class Counting:
    """A fetch that counts calls per file, around the real HTTP fetcher."""

    def __init__(self, inner: HttpFetcher) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    async def __call__(self, image_id: str, file_name: str) -> AsyncIterator[bytes]:
        self.calls[file_name] = self.calls.get(file_name, 0) + 1
        async for chunk in self.inner(image_id, file_name):
            await asyncio.sleep(0)  # let concurrent callers interleave
            yield chunk


def cache_for(server: Cluster, root: Path, token: str | None = None) -> tuple[ImageCache, Counting]:
    secret = token or agent_token(server)
    fetch = Counting(HttpFetcher(server.url, lambda: secret))
    return ImageCache(root, fetch), fetch


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_ensure_fetches_verifies_and_keeps(
    server: Cluster, ref: dict[str, Any], tmp_path: Path
) -> None:
    cache, fetch = cache_for(server, tmp_path / "cache")
    assert cache.local(ref) is None

    directory = asyncio.run(cache.ensure(ref))
    assert directory == tmp_path / "cache" / ref["id"]
    assert (directory / "kernel").read_bytes() == KERNEL
    assert (directory / "initrd").read_bytes() == INITRD
    assert (directory / "disk").read_bytes() == DISK
    assert names(directory) == [".verified.json", "disk", "initrd", "kernel"]
    assert (directory / "disk").stat().st_mode & 0o777 == 0o444
    assert cache.local(ref) == directory

    # Already here: nothing is fetched again.
    assert asyncio.run(cache.ensure(ref)) == directory
    assert fetch.calls == {"disk": 1, "initrd": 1, "kernel": 1}


def test_concurrent_ensure_fetches_once(
    server: Cluster, ref: dict[str, Any], tmp_path: Path
) -> None:
    cache, fetch = cache_for(server, tmp_path)

    async def together() -> list[Path]:
        return list(await asyncio.gather(*(cache.ensure(ref) for _ in range(5))))

    dirs = asyncio.run(together())
    assert len(set(dirs)) == 1
    assert fetch.calls == {"disk": 1, "initrd": 1, "kernel": 1}


def test_damaged_files_are_fetched_again(
    server: Cluster, ref: dict[str, Any], tmp_path: Path
) -> None:
    cache, fetch = cache_for(server, tmp_path)
    directory = asyncio.run(cache.ensure(ref))
    disk, kernel = directory / "disk", directory / "kernel"

    # Same size, other bytes (bit rot or a stray write), and a truncated file.
    disk.chmod(0o644)
    with disk.open("r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    kernel.chmod(0o644)
    kernel.write_bytes(KERNEL[:100])
    (directory / ".disk.abc.part").write_bytes(b"left by a crash")
    assert cache.local(ref) is None

    asyncio.run(cache.ensure(ref))
    assert disk.read_bytes() == DISK and kernel.read_bytes() == KERNEL
    assert fetch.calls == {"disk": 2, "initrd": 1, "kernel": 2}
    assert names(directory) == [".verified.json", "disk", "initrd", "kernel"]


def test_lost_stamps_mean_hashing_not_fetching(
    server: Cluster, ref: dict[str, Any], tmp_path: Path
) -> None:
    cache, fetch = cache_for(server, tmp_path)
    directory = asyncio.run(cache.ensure(ref))
    (directory / ".verified.json").unlink()
    assert cache.local(ref) == directory
    asyncio.run(cache.ensure(ref))
    assert fetch.calls == {"disk": 1, "initrd": 1, "kernel": 1}


def test_wrong_hash_leaves_nothing(server: Cluster, ref: dict[str, Any], tmp_path: Path) -> None:
    cache, _ = cache_for(server, tmp_path)
    lying = {**ref, "files": {**ref["files"], "disk": hashlib.sha256(b"other").hexdigest()}}
    with pytest.raises(DriverError, match="image tiny file disk: fetched data has SHA-256"):
        asyncio.run(cache.ensure(lying))
    directory = tmp_path / ref["id"]
    assert "disk" not in names(directory)
    assert not [n for n in names(directory) if n.endswith(".part")]
    assert cache.local(lying) is None


def test_failed_downloads_raise_driver_errors(
    server: Cluster, ref: dict[str, Any], tmp_path: Path
) -> None:
    cache, _ = cache_for(server, tmp_path)
    unknown = {**ref, "id": "img-0000000000000000"}
    with pytest.raises(DriverError, match=r"cannot fetch image tiny file .*: server answered 404"):
        asyncio.run(cache.ensure(unknown))
    assert names(tmp_path / unknown["id"]) == []

    forged = ImageCache(tmp_path, HttpFetcher(server.url, lambda: "nca_forged"))
    with pytest.raises(DriverError, match="401"):
        asyncio.run(forged.ensure(ref))

    unregistered = ImageCache(tmp_path, HttpFetcher(server.url, lambda: None))
    with pytest.raises(DriverError, match="not registered"):
        asyncio.run(unregistered.ensure(ref))

    nowhere = ImageCache(tmp_path, HttpFetcher(f"http://127.0.0.1:{free_port()}", lambda: "x"))
    with pytest.raises(DriverError, match="cannot fetch image tiny file"):
        asyncio.run(nowhere.ensure(ref))
    assert names(tmp_path / ref["id"]) == []


def test_a_fetch_failing_half_way_leaves_no_partial_file(tmp_path: Path) -> None:
    data = b"x" * 1000
    ref = {"id": "img-1", "name": "half", "files": {"disk": hashlib.sha256(data).hexdigest()}}

    async def broken(image_id: str, file_name: str) -> AsyncIterator[bytes]:
        yield data[:500]
        raise ConnectionResetError("connection reset by peer")

    cache = ImageCache(tmp_path, broken)
    with pytest.raises(DriverError, match="connection reset by peer"):
        asyncio.run(cache.ensure(ref))
    assert names(tmp_path / "img-1") == []


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "../etc", "files": {"disk": "0" * 64}},
        {"id": "img-1", "files": {"../disk": "0" * 64}},
        {"id": "img-1", "files": {"disk": "not-a-hash"}},
        {"id": "img-1", "files": {}},
        {"files": {"disk": "0" * 64}},
    ],
)
def test_malformed_references_are_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    async def never(image_id: str, file_name: str) -> AsyncIterator[bytes]:
        raise AssertionError("no fetch for a bad reference")
        yield b""

    cache = ImageCache(tmp_path, never)
    with pytest.raises(DriverError, match="invalid image reference"):
        asyncio.run(cache.ensure(bad))
    with pytest.raises(DriverError, match="invalid image reference"):
        cache.local(bad)
    assert list(tmp_path.iterdir()) == []


def test_prune_evicts_only_old_images_no_vm_uses(tmp_path: Path) -> None:
    import os
    import time

    from novacron.agent.images import ImageCache

    async def never(image_id: str, file_name: str) -> Any:
        raise AssertionError("no fetch expected")
        yield b""

    cache = ImageCache(tmp_path, never)
    for image_id in ("img-used", "img-old", "img-new"):
        (tmp_path / image_id).mkdir()
        (tmp_path / image_id / "disk").write_bytes(b"x")
    old = time.time() - 2 * 86400
    for image_id in ("img-used", "img-old"):
        os.utime(tmp_path / image_id, (old, old))
    assert cache.prune({"img-used"}) == ["img-old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img-new", "img-used"]
