"""``novacron image import`` and ``novacron image build tiny [--disk]`` against a real server."""

from __future__ import annotations

import hashlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from novacron.compute.cli.catalog import detect_format, name_from_file
from novacron.testing.cli import CLI
from novacron.testing.cluster import Cluster
from novacron.testing.images import MIB, bzimage_bytes, qcow2_bytes, write


@pytest.fixture
def server(make_cluster: Callable[..., Cluster]) -> Cluster:
    return make_cluster(with_agent=False)


@pytest.fixture
def cli(server: Cluster, monkeypatch: pytest.MonkeyPatch) -> CLI:
    monkeypatch.delenv("NOVACRON_TOKEN", raising=False)
    monkeypatch.delenv("NOVACRON_URL", raising=False)
    return CLI(server.url, server.token)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def image_names(cli: CLI) -> list[str]:
    return [i["name"] for i in cli.json("image", "list")["items"]]


def test_name_and_format_from_the_file(tmp_path: Path) -> None:
    assert name_from_file(Path("debian-12-generic.qcow2")) == "debian-12-generic"
    assert name_from_file(Path("My Disk (1).img")) == "My-Disk-1"
    assert name_from_file(Path("(*).img")) == "image"
    assert name_from_file(Path("x" * 100 + ".raw")) == "x" * 63
    assert detect_format(write(tmp_path / "a", qcow2_bytes())) == "qcow2"
    assert detect_format(write(tmp_path / "b", b"QFI")) == "raw"


def test_import_detects_the_format_and_activates(cli: CLI, tmp_path: Path) -> None:
    disk = write(tmp_path / "debian-12.qcow2", qcow2_bytes(2 * 1024 * MIB))
    image = cli.json("image", "import", str(disk))
    assert image["name"] == "debian-12" and image["format"] == "qcow2"
    assert image["kind"] == "disk" and image["status"] == "active"
    assert image["files"] == {"disk": {"sha256": sha(disk), "size": disk.stat().st_size}}
    assert image["virtual_size_bytes"] == 2 * 1024 * MIB and image["min_disk_gib"] == 2
    assert image["source"] == "debian-12.qcow2"

    raw = write(tmp_path / "blob.bin", b"\x01" * 3 * MIB)
    table = cli("image", "import", str(raw), "--name", "rawdisk", "--os", "freebsd").stdout
    assert "rawdisk" in table and "active" in table and "sha256" in table
    shown = cli.json("image", "show", "rawdisk")
    assert shown["format"] == "raw" and shown["os"] == "freebsd"
    assert shown["virtual_size_bytes"] == 3 * MIB

    listed = cli("image", "list").stdout
    assert "KIND" in listed and "STATUS" in listed and "3 MiB" in listed


def test_import_mistakes_are_one_line(cli: CLI, tmp_path: Path) -> None:
    assert cli.error("image", "import", str(tmp_path / "absent.qcow2")) == (
        f"error: no such file: {tmp_path / 'absent.qcow2'}"
    )
    assert "not a file" in cli.error("image", "import", str(tmp_path))

    disk = write(tmp_path / "taken.qcow2", qcow2_bytes())
    cli("image", "import", str(disk))
    assert cli.error("image", "import", str(disk)) == (
        "error: an image named 'taken' already exists"
    )

    overlay = write(tmp_path / "overlay.qcow2", qcow2_bytes(backing_file="/etc/shadow"))
    line = cli.error("image", "import", str(overlay))
    assert line.startswith("error: overlay.qcow2: qcow2 image has a backing file ('/etc/shadow')")
    # The refused image is gone again: its name is free.
    assert "overlay" not in image_names(cli)

    raw = write(tmp_path / "plain.img", b"\0" * 4096)
    line = cli.error("image", "import", str(raw), "--format", "qcow2")
    assert line == "error: plain.img: not a qcow2 image (no 'QFI\\xfb' magic at offset 0)"
    assert "plain" not in image_names(cli)

    assert "name" in cli.error("image", "import", str(raw), "--name", "bad name!")


@dataclass
class FakeTiny:
    kernel: Path
    initrd: Path
    disk: Path
    cmdline: str
    kernel_release: str


@pytest.fixture
def fake_builder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """``novacron.hypervisor.qemu.tiny`` replaced by a builder of small valid files."""
    calls: list[dict[str, Any]] = []

    def build_tiny(out_dir: Path, *, cache_dir: Path | None = None, disk_mib: int = 64) -> Any:
        calls.append({"builder": "build_tiny", "out_dir": out_dir, "cache_dir": cache_dir})
        out_dir.mkdir(parents=True)
        return FakeTiny(
            kernel=write(out_dir / "bzImage", bzimage_bytes()),
            initrd=write(out_dir / "initrd.cpio.gz", b"\x1f\x8b" + bytes(2048)),
            disk=write(out_dir / "disk.qcow2", qcow2_bytes(disk_mib * MIB)),
            cmdline="console=ttyS0 quiet",
            kernel_release="6.1.0-test",
        )

    def build_tiny_disk(out_dir: Path, *, cache_dir: Path | None = None) -> Path:
        calls.append({"builder": "build_tiny_disk", "out_dir": out_dir, "cache_dir": cache_dir})
        out_dir.mkdir(parents=True)
        return write(out_dir / "tiny-disk.qcow2", qcow2_bytes(16 * MIB))

    module = types.ModuleType("novacron.hypervisor.qemu.tiny")
    module.build_tiny = build_tiny  # type: ignore[attr-defined]
    module.build_tiny_disk = build_tiny_disk  # type: ignore[attr-defined]
    module.default_cache_dir = lambda: tmp_path / "tiny-cache"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "novacron.hypervisor.qemu.tiny", module)
    return calls


def test_build_tiny_uploads_a_kernel_image(
    cli: CLI, fake_builder: list[dict[str, Any]], tmp_path: Path
) -> None:
    image = cli.json("image", "build", "tiny")
    assert image["name"] == "tiny" and image["kind"] == "kernel" and image["status"] == "active"
    assert image["cmdline"] == "console=ttyS0 quiet" and image["format"] == "qcow2"
    assert sorted(image["files"]) == ["disk", "initrd", "kernel"]
    assert image["virtual_size_bytes"] == 64 * MIB
    assert "6.1.0-test" in image["source"]
    assert fake_builder[0]["cache_dir"] == tmp_path / "tiny-cache"
    assert not fake_builder[0]["out_dir"].exists()  # built in a temporary directory

    assert cli.json("image", "build", "tiny", "--name", "tiny-2")["name"] == "tiny-2"
    assert "already exists" in cli.error("image", "build", "tiny")
    assert len(fake_builder) == 2  # a taken name is refused before building


def test_build_tiny_disk_uploads_a_bootable_disk_image(
    cli: CLI, fake_builder: list[dict[str, Any]], tmp_path: Path
) -> None:
    image = cli.json("image", "build", "tiny", "--disk")
    assert image["name"] == "tiny-disk" and image["status"] == "active"
    assert image["kind"] == "disk" and image["format"] == "qcow2" and image["os"] == "linux"
    assert sorted(image["files"]) == ["disk"]
    assert image["virtual_size_bytes"] == 16 * MIB
    assert image["source"] == "novacron image build tiny --disk"
    assert [c["builder"] for c in fake_builder] == ["build_tiny_disk"]
    assert fake_builder[0]["cache_dir"] == tmp_path / "tiny-cache"
    assert not fake_builder[0]["out_dir"].exists()  # built in a temporary directory

    assert "already exists" in cli.error("image", "build", "tiny", "--disk")
    named = cli.json("image", "build", "tiny", "--disk", "--name", "cloudish")
    assert named["name"] == "cloudish" and named["kind"] == "disk"
    # The kernel image keeps its own default name and kind.
    assert cli.json("image", "build", "tiny")["kind"] == "kernel"
    assert [c["builder"] for c in fake_builder] == [
        "build_tiny_disk",
        "build_tiny_disk",
        "build_tiny",
    ]


def test_build_failures_are_one_line(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(out_dir: Path, **_: Any) -> Any:
        raise OSError(28, "No space left on device")

    module = types.ModuleType("novacron.hypervisor.qemu.tiny")
    module.build_tiny = broken  # type: ignore[attr-defined]
    module.default_cache_dir = lambda: Path("/nonexistent")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "novacron.hypervisor.qemu.tiny", module)
    line = cli.error("image", "build", "tiny")
    assert line == "error: building the tiny guest failed: [Errno 28] No space left on device"
    assert "tiny" not in image_names(cli)
