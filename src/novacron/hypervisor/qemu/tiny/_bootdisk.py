"""The tiny guest as a disk that a BIOS boots: a hybrid ISO 9660 image with ISOLINUX.

Boot chain, the one Debian's installer images use on USB sticks::

    SeaBIOS ─ reads sector 0 of the virtio disk ─▶ MBR code (isohdpfx.bin)
      ─ loads isolinux.bin by the LBA stored at offset 432 ─▶ ISOLINUX (hybrid mode,
      reads the ISO through the BIOS disk services) ─ isolinux.cfg ─▶ kernel + initrd

pycdlib writes the ISO, its El Torito catalog and boot info table, and the MBR
partition table and padding that make it a disk (what syslinux's ``isohybrid``
does); the MBR code itself is replaced by the ``isohdpfx.bin`` shipped with the
same ISOLINUX, so boot sector and loader come from one release. No mount, no
root, no genisoimage or syslinux-utils.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pycdlib

from novacron.core.errors import DriverError

from ._disk import raw_to_qcow2

VOLUME_LABEL = "NOVACRON_TINY"
# The Debian packages of the boot loader and what to take from each (tar patterns).
LOADER_PACKAGES: dict[str, tuple[str, ...]] = {
    "isolinux": ("*/ISOLINUX/isolinux.bin", "*/ISOLINUX/isohdpfx.bin"),
    "syslinux-common": ("*/modules/bios/ldlinux.c32",),
}
MBR_CODE_SIZE = 432  # then: isolinux.bin's LBA, the disk id, the partition table
_HYBRID_SIGNATURE = b"\xfb\xc0\x78\x70"  # at offset 0x40 of a hybrid-capable isolinux.bin


@dataclass(frozen=True)
class Isolinux:
    """The boot loader's files, as unpacked from Debian's packages."""

    isolinux_bin: Path
    mbr_code: Path  # isohdpfx.bin
    ldlinux_c32: Path

    @classmethod
    def find(cls, root: Path) -> Isolinux:
        """Locate the files under ``root`` (where the packages were unpacked)."""
        found = {}
        for name in ("isolinux.bin", "isohdpfx.bin", "ldlinux.c32"):
            matches = sorted(root.rglob(name))
            if len(matches) != 1:
                raise DriverError(f"expected one {name} in the ISOLINUX packages, found {matches}")
            found[name] = matches[0]
        loader = cls(found["isolinux.bin"], found["isohdpfx.bin"], found["ldlinux.c32"])
        if loader.isolinux_bin.read_bytes()[0x40:0x44] != _HYBRID_SIGNATURE:
            raise DriverError(
                f"{loader.isolinux_bin} cannot boot from a disk (no hybrid signature)"
            )
        if loader.mbr_code.stat().st_size != MBR_CODE_SIZE:
            raise DriverError(f"{loader.mbr_code} is not {MBR_CODE_SIZE} bytes of MBR code")
        return loader


def isolinux_cfg(cmdline: str) -> str:
    """Boot the kernel at once (no prompt), echoing ISOLINUX's messages on ttyS0 too."""
    if "\n" in cmdline or "\r" in cmdline:
        raise ValueError("the kernel command line must be a single line")
    return (
        "SERIAL 0 115200\n"
        "DEFAULT tiny\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        "LABEL tiny\n"
        "  KERNEL /boot/vmlinuz\n"
        "  INITRD /boot/initrd.img\n"
        f"  APPEND {cmdline}\n"
    )


def write_hybrid_iso(
    target: Path, *, kernel: Path, initrd: Path, cmdline: str, loader: Isolinux
) -> None:
    """Write ``target``: an ISO 9660 image that boots from a CD and from a disk alike."""
    cfg = target.with_name("isolinux.cfg")
    cfg.write_text(isolinux_cfg(cmdline))
    # El Torito patches the boot info table into the boot file: hand it a copy.
    isolinux_bin = target.with_name("isolinux.bin")
    isolinux_bin.write_bytes(loader.isolinux_bin.read_bytes())
    iso = pycdlib.PyCdlib()
    try:
        # Level 1 (8.3 upper-case) names for ISOLINUX, Rock Ridge names for Linux.
        iso.new(interchange_level=1, vol_ident=VOLUME_LABEL, rock_ridge="1.09")
        iso.add_directory("/ISOLINUX", rr_name="isolinux")
        iso.add_directory("/BOOT", rr_name="boot")
        files = (
            (isolinux_bin, "/ISOLINUX/ISOLINUX.BIN;1", "isolinux.bin"),
            (loader.ldlinux_c32, "/ISOLINUX/LDLINUX.C32;1", "ldlinux.c32"),
            (cfg, "/ISOLINUX/ISOLINUX.CFG;1", "isolinux.cfg"),
            (kernel, "/BOOT/VMLINUZ.;1", "vmlinuz"),
            (initrd, "/BOOT/INITRD.IMG;1", "initrd.img"),
        )
        for path, iso_path, rr_name in files:
            iso.add_file(str(path), iso_path, rr_name=rr_name)
        iso.add_eltorito(
            "/ISOLINUX/ISOLINUX.BIN;1",
            "/ISOLINUX/BOOT.CAT;1",
            rr_bootcatname="boot.cat",
            boot_load_size=4,  # 4 × 512 bytes: what the hybrid MBR code loads
            boot_info_table=True,
        )
        # Partition table (one bootable partition over the image, as isohybrid
        # makes it), isolinux.bin's LBA and padding to whole 1 MiB cylinders.
        iso.add_isohybrid()
        iso.write(str(target))
    except pycdlib.pycdlibexception.PyCdlibException as exc:
        raise DriverError(f"cannot write the boot image: {exc}") from exc
    finally:
        iso.close()
    with target.open("r+b") as f:
        f.write(loader.mbr_code.read_bytes())


def build_boot_disk(
    target: Path, work: Path, *, kernel: Path, initrd: Path, cmdline: str, loader: Isolinux
) -> None:
    """Write ``target``: the hybrid ISO of ``kernel`` + ``initrd`` as a qcow2 disk image."""
    iso_dir = work / "iso"
    iso_dir.mkdir()
    iso = iso_dir / "boot.iso"
    write_hybrid_iso(iso, kernel=kernel, initrd=initrd, cmdline=cmdline, loader=loader)
    raw_to_qcow2(iso, target)
