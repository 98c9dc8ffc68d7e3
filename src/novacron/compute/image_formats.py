"""What an uploaded image file must look like, judged from its first bytes (pure code).

An image is untrusted input that QEMU will open on every host, so a file is refused
unless it is plainly what it claims to be:

    disk (qcow2)  the ``QFI\\xfb`` magic, version 2 or 3, and standalone: no backing file
                  and no external data file — either would make QEMU open a path of the
                  uploader's choosing on the host (e.g. ``/etc/shadow`` as a backing
                  file) — not encrypted, not marked corrupt
    disk (raw)    anything non-empty that does not carry another format's magic
                  (a qcow2 declared raw is a mistake: the guest would see the header)
    kernel        an x86 bzImage: ``HdrS`` at offset 0x202
    initrd        anything non-empty (the kernel accepts cpio in many compressions)

``check_file`` returns the virtual size of a disk. ``check_qemu_img_info`` applies the
same rules to ``qemu-img info --output=json``: a second opinion when qemu-img is
installed, so the rules hold with and without it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from novacron.core.errors import Invalid

#: Bytes kept from the start of an upload: a qcow2 header and its extensions live in
#: the first cluster (64 KiB by default; bigger clusters leave the rest unread).
HEAD_BYTES = 64 * 1024

QCOW2_MAGIC = b"QFI\xfb"
BZIMAGE_MAGIC = b"HdrS"
BZIMAGE_MAGIC_OFFSET = 0x202

# qcow2 incompatible feature bits (docs/interop/qcow2.txt in QEMU's tree).
_CORRUPT = 1 << 1
_EXTERNAL_DATA_FILE = 1 << 2
_KNOWN_INCOMPATIBLE = 0b11111  # dirty, corrupt, data file, compression type, extended L2
_EXT_DATA_FILE_NAME = 0x44415441
_EXT_END = 0

# Magics of formats a "raw" upload must not carry (offset, magic, name).
_OTHER_FORMATS = (
    (0, QCOW2_MAGIC, "qcow2"),
    (0, b"KDMV", "vmdk"),
    (0, b"vhdxfile", "vhdx"),
    (0, b"conectix", "vpc"),
    (0x40, b"\x7f\x10\xda\xbe", "vdi"),
)

STANDALONE_HINT = "images must stand alone (flatten it: qemu-img convert -O qcow2 IN OUT)"


def bad_content(msg: str) -> Invalid:
    """422 on the request body, shaped like a validation error (``body: …``)."""
    return Invalid(f"body: {msg}", errors=[{"loc": ["body"], "field": "body", "msg": msg}])


@dataclass(frozen=True)
class Qcow2Header:
    version: int
    backing_file_offset: int
    backing_file_size: int
    cluster_bits: int
    size: int
    crypt_method: int
    incompatible_features: int = 0
    header_length: int = 72
    extensions: tuple[int, ...] = ()

    @property
    def backing_file(self) -> bool:
        return bool(self.backing_file_offset or self.backing_file_size)

    @property
    def external_data_file(self) -> bool:
        return bool(self.incompatible_features & _EXTERNAL_DATA_FILE) or (
            _EXT_DATA_FILE_NAME in self.extensions
        )


def parse_qcow2_header(head: bytes) -> Qcow2Header:
    """The header fields we judge by; ``ValueError`` if ``head`` is not a qcow2 header."""
    if head[:4] != QCOW2_MAGIC:
        raise ValueError("not a qcow2 image (no 'QFI\\xfb' magic at offset 0)")
    if len(head) < 72:
        raise ValueError("truncated qcow2 header")
    version, backing_off, backing_size, cluster_bits, size, crypt = struct.unpack_from(
        ">IQIIQI", head, 4
    )
    if version not in (2, 3):
        raise ValueError(f"unsupported qcow2 version {version}")
    if not 9 <= cluster_bits <= 21:
        raise ValueError(f"invalid qcow2 cluster size 2^{cluster_bits}")
    incompatible, header_length = 0, 72
    if version == 3:
        if len(head) < 104:
            raise ValueError("truncated qcow2 header")
        (incompatible,) = struct.unpack_from(">Q", head, 72)
        (header_length,) = struct.unpack_from(">I", head, 100)
        if header_length < 104:
            raise ValueError(f"invalid qcow2 header length {header_length}")
    return Qcow2Header(
        version=version,
        backing_file_offset=backing_off,
        backing_file_size=backing_size,
        cluster_bits=cluster_bits,
        size=size,
        crypt_method=crypt,
        incompatible_features=incompatible,
        header_length=header_length,
        extensions=_extension_types(head, header_length, 1 << cluster_bits),
    )


def _extension_types(head: bytes, start: int, cluster_size: int) -> tuple[int, ...]:
    """Types of the header extensions that follow the header (within the first cluster)."""
    found: list[int] = []
    offset, end = start, min(len(head), cluster_size)
    while offset + 8 <= end:
        ext_type, length = struct.unpack_from(">II", head, offset)
        if ext_type == _EXT_END:
            break
        found.append(ext_type)
        offset += 8 + (length + 7) // 8 * 8  # extension data is padded to 8 bytes
    return tuple(found)


def _backing_name(head: bytes, header: Qcow2Header) -> str:
    start, length = header.backing_file_offset, min(header.backing_file_size, 256)
    if not start or start + length > len(head):
        return ""
    return head[start : start + length].decode("utf-8", errors="replace")


def check_qcow2(head: bytes) -> int:
    """The virtual size of a standalone qcow2; 422 for anything else."""
    try:
        header = parse_qcow2_header(head)
    except ValueError as exc:
        raise bad_content(str(exc)) from None
    if header.backing_file:
        name = _backing_name(head, header)
        which = f" ({name!r})" if name else ""
        raise bad_content(f"qcow2 image has a backing file{which}: {STANDALONE_HINT}")
    if header.external_data_file:
        raise bad_content(f"qcow2 image uses an external data file: {STANDALONE_HINT}")
    if header.crypt_method:
        raise bad_content("qcow2 image is encrypted: upload an unencrypted image")
    if header.incompatible_features & _CORRUPT:
        raise bad_content("qcow2 image is marked corrupt (repair it with qemu-img check -r all)")
    unknown = header.incompatible_features & ~_KNOWN_INCOMPATIBLE
    if unknown:
        raise bad_content(f"qcow2 image uses unknown incompatible features ({unknown:#x})")
    if header.size <= 0:
        raise bad_content("qcow2 image has a virtual size of 0")
    return header.size


def check_raw(head: bytes, size: int) -> int:
    for offset, magic, name in _OTHER_FORMATS:
        if head[offset : offset + len(magic)] == magic:
            raise bad_content(f"this is a {name} image, but the image's format is raw")
    return size


def check_kernel(head: bytes) -> None:
    end = BZIMAGE_MAGIC_OFFSET + len(BZIMAGE_MAGIC)
    if head[BZIMAGE_MAGIC_OFFSET:end] != BZIMAGE_MAGIC:
        raise bad_content("kernel is not an x86 bzImage (no 'HdrS' at offset 0x202)")


def check_file(name: str, head: bytes, size: int, fmt: str) -> int | None:
    """Judge an uploaded file by its first bytes; the virtual size for a disk, else None."""
    if size <= 0:
        raise bad_content(f"{name} file is empty")
    if name == "kernel":
        check_kernel(head)
        return None
    if name == "disk":
        return check_qcow2(head) if fmt == "qcow2" else check_raw(head, size)
    return None


def check_qemu_img_info(info: dict[str, Any], fmt: str) -> int:
    """The same rules applied to ``qemu-img info --output=json``; the virtual size."""
    if info.get("format") != fmt:
        raise bad_content(f"qemu-img reads a {info.get('format')} image, not {fmt}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        name = info.get("backing-filename")
        raise bad_content(f"qcow2 image has a backing file ({name!r}): {STANDALONE_HINT}")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        raise bad_content(f"qcow2 image uses an external data file: {STANDALONE_HINT}")
    if specific.get("corrupt"):
        raise bad_content("qcow2 image is marked corrupt (repair it with qemu-img check -r all)")
    if info.get("encrypted"):
        raise bad_content("qcow2 image is encrypted: upload an unencrypted image")
    size = info.get("virtual-size")
    if not isinstance(size, int) or size <= 0:
        raise bad_content("qemu-img reports no virtual size")
    return size
