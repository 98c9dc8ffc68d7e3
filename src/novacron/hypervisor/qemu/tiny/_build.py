"""Assemble the tiny guest: kernel + initramfs (busybox, /init, modules) + ext4 disk."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from novacron.core.errors import DriverError, Invalid

from ._cpio import Cpio
from ._debs import BUSYBOX_PACKAGE, Wanted, fetch_deb, resolve
from ._disk import build_disk
from ._kmod import ModuleTree, read_module

log = logging.getLogger(__name__)

# Bump when what a build produces changes, so old out_dirs are rebuilt, not reused.
BUILD_FORMAT = 1
DEFAULT_CMDLINE = "console=ttyS0 panic=-1 quiet"
DEFAULT_DISK_MIB = 64
# Built-ins are skipped, the rest loaded with their dependencies: virtio for disk
# and network, button + evdev so acpid sees the ACPI power button, ext4 and
# af_packet (udhcpc) in case a kernel builds them as modules.
GUEST_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "ext4", "af_packet", "button", "evdev")

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initrd.img"
DISK_FILE = "disk.qcow2"
MANIFEST_FILE = "manifest.json"
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
    _check_replaceable(out_dir)  # before any download: fail fast on a wrong directory
    debs_dir = (Path(cache_dir) if cache_dir else default_cache_dir()).absolute() / "debs"
    started = time.monotonic()
    kernel_wanted, busybox_wanted = resolve(debs_dir)
    kernel_deb = fetch_deb(kernel_wanted, debs_dir)
    busybox = _busybox_source(busybox_wanted, debs_dir)
    init_script = resources.files(__package__).joinpath("init.sh").read_bytes()
    inputs: dict[str, Any] = {
        "format": BUILD_FORMAT,
        "kernel_deb": kernel_deb.name,
        "busybox": _describe(busybox),
        "init_sha256": hashlib.sha256(init_script).hexdigest(),
        "modules": list(GUEST_MODULES),
        "disk_mib": disk_mib,
        "cmdline": DEFAULT_CMDLINE,
    }
    existing = _load(out_dir, inputs)
    if existing is not None:
        log.info("tiny image in %s is up to date", out_dir)
        return existing
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the build is for everyone to read
        release = _assemble(staging, kernel_deb, busybox, init_script, disk_mib)
        manifest = {
            "inputs": inputs,
            "kernel_release": release,
            "cmdline": DEFAULT_CMDLINE,
            "files": {"kernel": KERNEL_FILE, "initrd": INITRD_FILE, "disk": DISK_FILE},
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    image = _load(out_dir, inputs)
    if image is None:  # another build of different inputs won a race for out_dir
        raise DriverError(f"{out_dir} was replaced by a concurrent build; try again")
    log.info("built tiny image in %s in %.1f s", out_dir, time.monotonic() - started)
    return image


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


def _load(out_dir: Path, inputs: dict[str, Any]) -> TinyImage | None:
    """The build in ``out_dir`` if it is complete and made from ``inputs``."""
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("inputs") != inputs:
        return None
    files = {k: out_dir / v for k, v in manifest.get("files", {}).items()}
    if set(files) != {"kernel", "initrd", "disk"} or not all(p.is_file() for p in files.values()):
        return None
    return TinyImage(
        kernel=files["kernel"],
        initrd=files["initrd"],
        disk=files["disk"],
        cmdline=str(manifest["cmdline"]),
        kernel_release=str(manifest["kernel_release"]),
    )


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a directory that is neither empty nor an earlier build."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise Invalid(f"{out_dir} exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_FILE).is_file():
        raise Invalid(
            f"{out_dir} is not empty and holds no tiny image build: "
            "refusing to replace it; pick another directory"
        )


def _publish(staging: Path, out_dir: Path) -> None:
    """Rename the finished build into place; readers never see a partial one."""
    old: Path | None = None
    if out_dir.is_dir() and any(out_dir.iterdir()):
        # rename() replaces only an empty directory: move the old build aside first.
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except OSError:
        # A concurrent build published first; the caller checks what is there now.
        log.info("%s was published concurrently", out_dir)
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _assemble(
    staging: Path, kernel_deb: Path, busybox: Path, init_script: bytes, disk_mib: int
) -> str:
    """Write kernel, initrd and disk into ``staging``; return the kernel release."""
    work = staging / "work"
    work.mkdir()
    kernel_root = work / "kernel"
    _unpack(kernel_deb, kernel_root, "./boot/vmlinuz-*", "*/modules/*")
    vmlinuz, release, modules = _kernel_parts(kernel_root)
    shutil.copyfile(vmlinuz, staging / KERNEL_FILE)

    busybox_bin = busybox
    if busybox.suffix == ".deb":
        _unpack(busybox, work / "busybox", "*bin/busybox")
        busybox_bin = next((work / "busybox").rglob("busybox"))

    order = modules.load_order(GUEST_MODULES)
    cpio = _initramfs(busybox_bin, init_script, release, modules, order)
    cpio.write_gzip(staging / INITRD_FILE)
    build_disk(staging / DISK_FILE, work, disk_mib)
    shutil.rmtree(work)
    log.info("kernel %s, modules: %s", release, " ".join(order))
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
    busybox: Path, init_script: bytes, release: str, modules: ModuleTree, order: list[str]
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
    for name in order:
        cpio.file(f"lib/modules/{name}.ko", read_module(modules.files[name]))
    cpio.file("etc/novacron/modules", "".join(f"{name}.ko\n" for name in order).encode())
    cpio.file("etc/novacron/release", f"{release}\n".encode())
    return cpio
