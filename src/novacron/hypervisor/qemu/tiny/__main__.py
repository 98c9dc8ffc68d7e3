"""``python -m novacron.hypervisor.qemu.tiny OUT_DIR [--disk]``: build and list the tiny guest."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path

from novacron.core.errors import NovaCronError

from . import DEFAULT_DISK_MIB, build_tiny, build_tiny_disk, default_cache_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m novacron.hypervisor.qemu.tiny",
        description="Build the tiny test guest (kernel, initrd, qcow2 disk) into OUT_DIR.",
    )
    parser.add_argument(
        "--disk",
        action="store_true",
        help="build one BIOS-bootable qcow2 disk image instead (boots like a cloud image)",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help=f"default: {default_cache_dir()}"
    )
    parser.add_argument("--disk-mib", type=int, default=DEFAULT_DISK_MIB)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    started = time.monotonic()
    try:
        if args.disk:
            disk = build_tiny_disk(args.out_dir, cache_dir=args.cache_dir)
            _print_disk(disk, time.monotonic() - started)
            return 0
        image = build_tiny(args.out_dir, cache_dir=args.cache_dir, disk_mib=args.disk_mib)
    except NovaCronError as err:
        print(f"error: {err.detail}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    for label, path in (("kernel", image.kernel), ("initrd", image.initrd), ("disk", image.disk)):
        print(f"{label:15} {path}  ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"{'kernel_release':15} {image.kernel_release}")
    print(f"{'cmdline':15} {image.cmdline}")
    print(f"({elapsed:.1f} s) boot it with an overlay of the disk, e.g.:")
    qemu = [
        "qemu-system-x86_64", "-M", "pc", "-accel", "tcg", "-m", "256", "-nodefaults",
        "-display", "none", "-kernel", str(image.kernel), "-initrd", str(image.initrd),
        "-append", image.cmdline, "-serial", "stdio",
        "-drive", "file=overlay.qcow2,if=virtio,format=qcow2",
        "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:8080-:8080",
        "-device", "virtio-net-pci,netdev=n0",
    ]  # fmt: skip
    print(f"  qemu-img create -f qcow2 -b {image.disk} -F qcow2 overlay.qcow2")
    print(f"  {shlex.join(qemu)}")
    return 0


def _print_disk(disk: Path, elapsed: float) -> None:
    print(f"{'disk':15} {disk}  ({disk.stat().st_size / 1024:.0f} KiB)")
    print(f"({elapsed:.1f} s) boot it from an overlay like a cloud image, e.g.:")
    qemu = [
        "qemu-system-x86_64", "-M", "pc", "-accel", "tcg", "-m", "256", "-nodefaults",
        "-display", "none", "-serial", "stdio",
        "-blockdev", "qcow2,node-name=disk0,file.driver=file,file.filename=overlay.qcow2",
        "-device", "virtio-blk-pci,drive=disk0,bootindex=1",
    ]  # fmt: skip
    print(f"  qemu-img create -f qcow2 -b {disk} -F qcow2 overlay.qcow2")
    print(f"  {shlex.join(qemu)}")
    print("  (add a NoCloud seed with: -drive file=seed.iso,media=cdrom,if=ide,readonly=on)")


if __name__ == "__main__":
    sys.exit(main())
