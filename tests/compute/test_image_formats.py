"""What an uploaded image file must look like: the header checks, without a server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from novacron.compute import image_formats
from novacron.compute.image_formats import check_file, check_qemu_img_info, parse_qcow2_header
from novacron.compute.image_store import qemu_img_info
from novacron.core.errors import Invalid
from novacron.testing.images import MIB, bzimage_bytes, qcow2_bytes


def refused(name: str, data: bytes, fmt: str = "qcow2") -> str:
    with pytest.raises(Invalid) as info:
        check_file(name, data[: image_formats.HEAD_BYTES], len(data), fmt)
    err = info.value
    assert err.errors and err.errors[0]["loc"] == ["body"]
    assert err.detail == f"body: {err.errors[0]['msg']}"
    return str(err.errors[0]["msg"])


@pytest.mark.parametrize("version", [2, 3])
def test_standalone_qcow2_gives_its_virtual_size(version: int) -> None:
    data = qcow2_bytes(48 * MIB, version=version)
    assert check_file("disk", data, len(data), "qcow2") == 48 * MIB
    header = parse_qcow2_header(data)
    assert header.version == version and not header.backing_file


def test_backing_file_is_refused_and_named() -> None:
    msg = refused("disk", qcow2_bytes(backing_file="/etc/shadow"))
    assert "backing file ('/etc/shadow')" in msg and "qemu-img convert" in msg
    assert "backing file" in refused("disk", qcow2_bytes(backing_file="b.qcow2", version=2))


def test_external_data_file_is_refused() -> None:
    assert "external data file" in refused("disk", qcow2_bytes(data_file="/dev/sda"))


def test_data_file_extension_alone_is_refused() -> None:
    """The header extension naming a data file counts even without the feature bit."""
    data = bytearray(qcow2_bytes(data_file="/dev/sda"))
    data[72:80] = bytes(8)  # clear the incompatible features
    assert "external data file" in refused("disk", bytes(data))


def test_other_qcow2_trouble() -> None:
    data = bytearray(qcow2_bytes())
    data[32:36] = (1).to_bytes(4, "big")  # crypt_method AES
    assert "encrypted" in refused("disk", bytes(data))
    data = bytearray(qcow2_bytes())
    data[72:80] = (1 << 1).to_bytes(8, "big")  # corrupt bit
    assert "corrupt" in refused("disk", bytes(data))
    data = bytearray(qcow2_bytes())
    data[72:80] = (1 << 40).to_bytes(8, "big")
    assert "unknown incompatible features" in refused("disk", bytes(data))
    data = bytearray(qcow2_bytes())
    data[4:8] = (7).to_bytes(4, "big")
    assert "version 7" in refused("disk", bytes(data))
    assert "truncated" in refused("disk", b"QFI\xfb" + bytes(20))


def test_wrong_magic_for_the_declared_format() -> None:
    assert "not a qcow2 image" in refused("disk", b"\0" * 4096, "qcow2")
    assert "qcow2 image, but the image's format is raw" in refused("disk", qcow2_bytes(), "raw")
    assert "vmdk" in refused("disk", b"KDMV" + bytes(1020), "raw")
    raw = bytes(range(256)) * 16
    assert check_file("disk", raw, len(raw), "raw") == len(raw)


def test_kernel_initrd_and_empty_files() -> None:
    kernel = bzimage_bytes()
    assert check_file("kernel", kernel, len(kernel), "qcow2") is None
    assert "bzImage" in refused("kernel", b"\x7fELF" + bytes(4096))
    assert "bzImage" in refused("kernel", b"short")
    assert check_file("initrd", b"070701", 6, "qcow2") is None
    assert "empty" in refused("initrd", b"")
    assert "empty" in refused("disk", b"", "raw")


def test_qemu_img_info_rules() -> None:
    good = {"format": "qcow2", "virtual-size": 4096, "format-specific": {"data": {}}}
    assert check_qemu_img_info(good, "qcow2") == 4096
    cases = [
        ({**good, "backing-filename": "x"}, "backing file"),
        ({**good, "format-specific": {"data": {"data-file": "/x"}}}, "external data file"),
        ({**good, "format-specific": {"data": {"corrupt": True}}}, "corrupt"),
        ({**good, "format": "raw"}, "not qcow2"),
        ({**good, "virtual-size": 0}, "no virtual size"),
    ]
    for info, words in cases:
        with pytest.raises(Invalid, match=words):
            check_qemu_img_info(info, "qcow2")


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
def test_qemu_img_agrees_with_the_test_images(tmp_path: Path) -> None:
    """The crafted qcow2 files are real ones: qemu-img reads them as the header says."""
    good = tmp_path / "good.qcow2"
    good.write_bytes(qcow2_bytes(32 * MIB))
    assert check_qemu_img_info(qemu_img_info(good, "qcow2"), "qcow2") == 32 * MIB
    backed = tmp_path / "backed.qcow2"
    backed.write_bytes(qcow2_bytes(backing_file="/etc/hostname"))
    with pytest.raises(Invalid, match="backing file"):
        check_qemu_img_info(qemu_img_info(backed, "qcow2"), "qcow2")
    data = tmp_path / "data.qcow2"
    data.write_bytes(qcow2_bytes(data_file=str(tmp_path / "absent.raw")))
    with pytest.raises(Invalid):
        check_qemu_img_info(qemu_img_info(data, "qcow2"), "qcow2")
