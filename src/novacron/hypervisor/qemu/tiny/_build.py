"""Assemble the tiny guest: kernel + initramfs (busybox, /init, modules) + ext4 disk,
or the same kernel + initramfs as one BIOS-bootable disk image."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from novacron.core.errors import DriverError, Invalid

from ._bootdisk import LOADER_PACKAGES, Isolinux, build_boot_disk
from ._cpio import Cpio
from ._debs import BUSYBOX_PACKAGE, Wanted, fetch_deb, resolve_with
from ._disk import build_disk
from ._kmod import ModuleTree, read_module
from ._outdir import build_once, check_replaceable

log = logging.getLogger(__name__)

# Bump when what a build produces changes, so old out_dirs are rebuilt, not reused.
BUILD_FORMAT = 1
DEFAULT_CMDLINE = "console=ttyS0 panic=-1 quiet"
DEFAULT_DISK_MIB = 64
# Built-ins are skipped, the rest loaded with their dependencies: virtio for disk
# and network, button + evdev so acpid sees the ACPI power button, ext4 and
# af_packet (udhcpc) in case a kernel builds them as modules, pvpanic so a kernel
# panic reaches QEMU (GUEST_PANICKED) instead of looking like a reboot.
GUEST_MODULES = (
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
    "ext4",
    "af_packet",
    "button",
    "evdev",
    "pvpanic_mmio",
)
# The IDE CD-ROM that may carry a cloud-init NoCloud seed. /init loads these in the
# background: libata's port resets mostly sleep (~0.3 s under TCG).
CDROM_MODULES = ("ata_piix", "sr_mod", "isofs")

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initrd.img"
DISK_FILE = "disk.qcow2"
BOOT_DISK_FILE = "tiny-disk.qcow2"
_MAX_DISK_MIB = 1024 * 1024


@dataclass(frozen=True)
class TinyImage:
    """A built tiny guest. Boot with ``-kernel``/``-initrd``/``-append cmdline``.

    ``disk`` is meant as a read-only backing file: give each VM a qcow2 overlay
    (``qemu-img create -f qcow2 -b disk -F qcow2 overlay``) rather than writing to it.
    """

    kernel: Path
    initrd: Path
    disk: Path
    cmdline: str
    kernel_release: str


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/novacron``, or ``~/.cache/novacron``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "novacron"


@dataclass(frozen=True)
class _Sources:
    """What a build is made of: local files, downloaded first unless cached."""

    kernel_deb: Path
    busybox: Path  # busybox-static's .deb, or a static busybox installed on the host
    init_script: bytes
    extra_debs: dict[str, Path] = field(default_factory=dict)  # by package name

    def inputs(self, kind: str) -> dict[str, Any]:
        """What identifies a build of ``kind`` from these sources (in its manifest)."""
        return {
            "format": BUILD_FORMAT,
            "kind": kind,
            "kernel_deb": self.kernel_deb.name,
            "busybox": _describe(self.busybox),
            "init_sha256": hashlib.sha256(self.init_script).hexdigest(),
            "modules": list(GUEST_MODULES),
            "cdrom_modules": list(CDROM_MODULES),
            "cmdline": DEFAULT_CMDLINE,
        }


def _sources(cache_dir: Path | None, extra: tuple[str, ...] = ()) -> _Sources:
    debs_dir = (Path(cache_dir) if cache_dir else default_cache_dir()).absolute() / "debs"
    kernel_wanted, busybox_wanted, extra_wanted = resolve_with(debs_dir, extra)
    return _Sources(
        kernel_deb=fetch_deb(kernel_wanted, debs_dir),
        busybox=_busybox_source(busybox_wanted, debs_dir),
        init_script=resources.files(__package__).joinpath("init.sh").read_bytes(),
        extra_debs={wanted.package: fetch_deb(wanted, debs_dir) for wanted in extra_wanted},
    )


def build_tiny(
    out_dir: Path, *, cache_dir: Path | None = None, disk_mib: int = DEFAULT_DISK_MIB
) -> TinyImage:
    """Build the tiny guest into ``out_dir`` (atomically) and return its files.

    Downloads go to ``cache_dir/debs`` (default: ``default_cache_dir()``); with the
    packages cached no network is used. An ``out_dir`` that already holds a build
    of the same inputs is returned as is; a different earlier build is replaced.
    Raises Invalid for bad arguments, DriverError when a tool or package is missing.
    """
    if not isinstance(disk_mib, int) or not 8 <= disk_mib <= _MAX_DISK_MIB:
        raise Invalid(
            f"disk_mib must be an integer from 8 to {_MAX_DISK_MIB}, got {disk_mib!r}",
            errors=[{"loc": ["disk_mib"], "msg": "out of range"}],
        )
    out_dir = Path(out_dir).absolute()
    check_replaceable(out_dir)  # before any download: fail fast on a wrong directory
    sources = _sources(cache_dir)
    inputs = {**sources.inputs("kernel"), "disk_mib": disk_mib}

    def assemble(staging: Path, work: Path) -> dict[str, Any]:
        release = _boot_files(staging, work, sources)
        build_disk(staging / DISK_FILE, work, disk_mib)
        return {"kernel_release": release, "cmdline": DEFAULT_CMDLINE}

    files = {"kernel": KERNEL_FILE, "initrd": INITRD_FILE, "disk": DISK_FILE}
    manifest = build_once(out_dir, inputs, files, assemble)
    return TinyImage(
        kernel=out_dir / KERNEL_FILE,
        initrd=out_dir / INITRD_FILE,
        disk=out_dir / DISK_FILE,
        cmdline=str(manifest["cmdline"]),
        kernel_release=str(manifest["kernel_release"]),
    )


def build_tiny_disk(out_dir: Path, *, cache_dir: Path | None = None) -> Path:
    """Build the tiny guest as one BIOS-bootable qcow2 disk image in ``out_dir``.

    The image is the kernel image's kernel and initrd on a hybrid ISO 9660 with
    ISOLINUX (Debian's isolinux and syslinux-common, cached like the kernel), which
    boots with the command line ``DEFAULT_CMDLINE``: boot it like a cloud image, as
    a ``virtio-blk`` disk with ``bootindex=1``, optionally with a NoCloud seed on a
    CD-ROM. Returns the image's path; caching, atomicity and errors as ``build_tiny``.
    """
    out_dir = Path(out_dir).absolute()
    check_replaceable(out_dir)
    sources = _sources(cache_dir, tuple(LOADER_PACKAGES))
    inputs = {
        **sources.inputs("disk"),
        "bootloader": sorted(d.name for d in sources.extra_debs.values()),
    }

    def assemble(staging: Path, work: Path) -> dict[str, Any]:
        boot = work / "boot"
        boot.mkdir()
        release = _boot_files(boot, work, sources)
        loader_root = work / "isolinux"
        for package, members in LOADER_PACKAGES.items():
            _unpack(sources.extra_debs[package], loader_root / package, *members)
        build_boot_disk(
            staging / BOOT_DISK_FILE,
            work,
            kernel=boot / KERNEL_FILE,
            initrd=boot / INITRD_FILE,
            cmdline=DEFAULT_CMDLINE,
            loader=Isolinux.find(loader_root),
        )
        return {"kernel_release": release, "cmdline": DEFAULT_CMDLINE}

    build_once(out_dir, inputs, {"disk": BOOT_DISK_FILE}, assemble)
    return out_dir / BOOT_DISK_FILE


def _describe(path: Path) -> str:
    """Identify a busybox source: a .deb by name, an installed binary by size + mtime."""
    if path.suffix == ".deb":
        return path.name
    st = path.stat()
    return f"{path}:{st.st_size}:{int(st.st_mtime)}"


def _busybox_source(wanted: Wanted, debs_dir: Path) -> Path:
    """busybox-static's .deb, or else a static busybox installed on the host."""
    try:
        return fetch_deb(wanted, debs_dir)
    except DriverError as err:
        for candidate in (Path("/bin/busybox"), Path("/usr/bin/busybox")):
            if candidate.is_file() and _is_static_elf(candidate):
                log.info("using the installed %s: %s", candidate, err.detail)
                return candidate
        raise DriverError(
            f"{err.detail} No static busybox is installed either: "
            f"apt-get install {BUSYBOX_PACKAGE}."
        ) from err


def _is_static_elf(path: Path) -> bool:
    """True for an ELF64 executable without a program interpreter (PT_INTERP)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3 for i in range(phnum))


def _boot_files(dest: Path, work: Path, sources: _Sources) -> str:
    """Write the kernel and the initramfs into ``dest``; return the kernel release."""
    kernel_root = work / "kernel"
    _unpack(sources.kernel_deb, kernel_root, "./boot/vmlinuz-*", "*/modules/*")
    vmlinuz, release, modules = _kernel_parts(kernel_root)
    shutil.copyfile(vmlinuz, dest / KERNEL_FILE)

    busybox_bin = sources.busybox
    if busybox_bin.suffix == ".deb":
        _unpack(busybox_bin, work / "busybox", "*bin/busybox")
        busybox_bin = next((work / "busybox").rglob("busybox"))

    order = modules.load_order(GUEST_MODULES)
    cdrom_order = [name for name in modules.load_order(CDROM_MODULES) if name not in order]
    cpio = _initramfs(
        busybox_bin, sources.init_script, release, modules, {"": order, ".cdrom": cdrom_order}
    )
    cpio.write_gzip(dest / INITRD_FILE)
    log.info("kernel %s, modules: %s + %s", release, " ".join(order), " ".join(cdrom_order))
    return release


def _unpack(deb: Path, dest: Path, *patterns: str) -> None:
    """Extract the members matching ``patterns`` from a .deb's data archive."""
    for tool in ("dpkg-deb", "tar"):
        if shutil.which(tool) is None:
            raise DriverError(f"{tool} not found: the tiny image builder needs a Debian-like host")
    dest.mkdir(parents=True)
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as dpkg:
        tar = subprocess.run(
            ["tar", "-x", "-C", str(dest), "--wildcards", *patterns],
            stdin=dpkg.stdout,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if dpkg.returncode != 0 or tar.returncode != 0:
        raise DriverError(
            f"cannot unpack {deb.name} (corrupt download? delete it and retry): "
            f"{tar.stderr.strip() or f'dpkg-deb exit {dpkg.returncode}'}"
        )


def _kernel_parts(root: Path) -> tuple[Path, str, ModuleTree]:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1:
        raise DriverError(f"expected one boot/vmlinuz-* in the kernel package, found {kernels}")
    release = kernels[0].name.removeprefix("vmlinuz-")
    # Newer Debian kernels (usrmerge) ship modules under usr/lib.
    for modules_dir in (root / "lib/modules" / release, root / "usr/lib/modules" / release):
        if modules_dir.is_dir():
            return kernels[0], release, ModuleTree.scan(modules_dir)
    raise DriverError(f"no lib/modules/{release} in the kernel package")


def _applets(busybox: Path) -> list[str]:
    """Applet paths (``sbin/acpid`` …) to link to busybox; empty if it cannot run here."""
    try:
        out = subprocess.run(
            [str(busybox), "--list-full"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []  # /init then runs "busybox --install -s" itself
    return [line for line in out.split() if re.fullmatch(r"[\w/.\[\]-]+", line)]


def _initramfs(
    busybox: Path,
    init_script: bytes,
    release: str,
    modules: ModuleTree,
    lists: dict[str, list[str]],
) -> Cpio:
    cpio = Cpio()
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run"):
        cpio.directory(d)
    for d in ("etc", "etc/novacron", "lib", "lib/modules", "var", "var/log", "data", "root"):
        cpio.directory(d)
    cpio.directory("tmp", 0o1777)
    # The kernel opens /dev/console for /init before anything can mount devtmpfs.
    cpio.char_device("dev/console", 5, 1)
    cpio.file("init", init_script, 0o755)
    cpio.file("bin/busybox", busybox.read_bytes(), 0o755)
    links = {"bin/sh"} | {a for a in _applets(busybox) if a != "bin/busybox"}
    known = {"bin", "sbin", "usr", "usr/bin", "usr/sbin"}
    for applet in sorted(links):
        parent = applet.rpartition("/")[0]
        if parent and parent not in known:
            cpio.directory(parent)
            known.add(parent)
        cpio.symlink(applet, "/bin/busybox")
    # etc/novacron/modules<suffix>: one list of modules in load order per suffix.
    for suffix, order in lists.items():
        for name in order:
            cpio.file(f"lib/modules/{name}.ko", read_module(modules.files[name]))
        listing = "".join(f"{name}.ko\n" for name in order).encode()
        cpio.file(f"etc/novacron/modules{suffix}", listing)
    cpio.file("etc/novacron/release", f"{release}\n".encode())
    return cpio
