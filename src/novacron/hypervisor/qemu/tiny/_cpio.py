"""A gzip-compressed newc cpio writer: the initramfs format the kernel unpacks.

Written in Python rather than piping ``find | cpio`` so the archive can hold
root-owned files and device nodes without running as root, and is reproducible
(fixed owners and times).
"""

from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass, field
from pathlib import Path

_TRAILER = "TRAILER!!!"


@dataclass
class Cpio:
    """Entries in archive order; parents must be added before their children."""

    _entries: list[tuple[str, int, bytes, int, int]] = field(default_factory=list)

    def directory(self, path: str, mode: int = 0o755) -> None:
        self._entries.append((path, stat.S_IFDIR | mode, b"", 0, 0))

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._entries.append((path, stat.S_IFREG | mode, data, 0, 0))

    def symlink(self, path: str, target: str) -> None:
        self._entries.append((path, stat.S_IFLNK | 0o777, target.encode(), 0, 0))

    def char_device(self, path: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._entries.append((path, stat.S_IFCHR | mode, b"", major, minor))

    def to_bytes(self) -> bytes:
        out = bytearray()
        for ino, (path, mode, data, rmajor, rminor) in enumerate(self._entries, start=1):
            out += _member(path, mode, data, ino, rmajor, rminor)
        out += _member(_TRAILER, 0, b"", 0, 0, 0)
        return bytes(out)

    def write_gzip(self, path: Path) -> None:
        # Level 6 is a good size/speed trade; mtime=0 keeps the output reproducible.
        path.write_bytes(gzip.compress(self.to_bytes(), compresslevel=6, mtime=0))


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _member(path: str, mode: int, data: bytes, ino: int, rmajor: int, rminor: int) -> bytes:
    name = path.lstrip("/").encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name), 0)
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    head = header + name
    return head + _pad4(len(head)) + data + _pad4(len(data))
