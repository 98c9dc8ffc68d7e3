"""Kernel modules without kmod: read ``.modinfo`` from the ELF, order by ``depends=``.

Debian's kernel package ships no ``modules.dep`` (``depmod`` runs in its postinst),
and the host may not have kmod at all, so dependencies come straight from each
module's ``.modinfo`` section, which is where depmod reads them too.
"""

from __future__ import annotations

import gzip
import lzma
import shutil
import struct
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from novacron.core.errors import DriverError

_COMPRESSED_SUFFIXES = (".ko.xz", ".ko.zst", ".ko.gz")


def module_name(filename: str) -> str:
    """``crc32c-intel.ko.xz`` → ``crc32c_intel``: the kernel treats - and _ alike."""
    base = filename.rsplit("/", 1)[-1]
    for suffix in (*_COMPRESSED_SUFFIXES, ".ko"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def read_module(path: Path) -> bytes:
    """The module's ELF bytes, decompressed (busybox insmod may not unpack xz/zstd)."""
    name = path.name
    if name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if name.endswith(".ko.gz"):
        return gzip.decompress(path.read_bytes())
    if name.endswith(".ko.zst"):
        zstd = shutil.which("zstd")
        if zstd is None:
            raise DriverError(f"{name} is zstd-compressed: install zstd (apt-get install zstd)")
        return subprocess.run(
            [zstd, "-dc", str(path)], check=True, capture_output=True, timeout=60
        ).stdout
    return path.read_bytes()


def modinfo(elf: bytes) -> dict[str, str]:
    """Key/value pairs of an ELF64 little-endian module's ``.modinfo`` section."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, shentsize, shnum, shstrndx = (
        struct.unpack_from("<Q", elf, 0x28)[0],
        *struct.unpack_from("<HHH", elf, 0x3A),
    )

    def section(index: int) -> tuple[int, int, int]:
        # (name offset in .shstrtab, file offset, size)
        base = shoff + index * shentsize
        sh_name = struct.unpack_from("<I", elf, base)[0]
        sh_offset, sh_size = struct.unpack_from("<QQ", elf, base + 0x18)
        return sh_name, sh_offset, sh_size

    _, strtab_off, _ = section(shstrndx)
    for index in range(shnum):
        name_off, offset, size = section(index)
        end = elf.index(b"\0", strtab_off + name_off)
        if elf[strtab_off + name_off : end] != b".modinfo":
            continue
        info: dict[str, str] = {}
        for entry in elf[offset : offset + size].split(b"\0"):
            key, sep, value = entry.partition(b"=")
            if sep:
                info.setdefault(key.decode(errors="replace"), value.decode(errors="replace"))
        return info
    return {}


@dataclass(frozen=True)
class ModuleTree:
    """The modules of one kernel release, as unpacked from its package."""

    root: Path  # lib/modules/<release>
    files: dict[str, Path]  # module name -> file
    builtin: frozenset[str]

    @classmethod
    def scan(cls, root: Path) -> ModuleTree:
        files: dict[str, Path] = {}
        for path in sorted((root / "kernel").rglob("*.ko*")):
            if path.name.endswith((".ko", *_COMPRESSED_SUFFIXES)):
                files[module_name(path.name)] = path
        builtin_file = root / "modules.builtin"
        lines = builtin_file.read_text().split() if builtin_file.exists() else []
        return cls(root, files, frozenset(module_name(line) for line in lines))

    def depends(self, name: str) -> list[str]:
        info = modinfo(read_module(self.files[name]))
        return [module_name(dep) for dep in info.get("depends", "").split(",") if dep]

    def load_order(self, wanted: Iterable[str]) -> list[str]:
        """``wanted`` and their dependencies, dependencies first; built-ins dropped.

        Raises DriverError for a module that is neither a file nor built in.
        """
        order: list[str] = []
        done: set[str] = set()

        def visit(name: str, chain: tuple[str, ...]) -> None:
            if name in done or name in self.builtin:
                return
            if name in chain:
                raise DriverError(f"module dependency cycle: {' -> '.join((*chain, name))}")
            if name not in self.files:
                raise DriverError(
                    f"kernel module {name!r} is neither built in nor shipped in {self.root}"
                )
            for dep in self.depends(name):
                visit(dep, (*chain, name))
            done.add(name)
            order.append(name)

        for name in wanted:
            visit(module_name(name), ())
        return order
