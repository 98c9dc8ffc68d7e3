"""The "tiny" guest: a Debian cloud kernel + busybox initramfs + small ext4 disk.

Built offline-friendly from two Debian packages (``linux-image-<abi>-cloud-amd64``
and ``busybox-static``, cached under ``default_cache_dir()/debs``) for tests and
demos that need a real guest booting in a few seconds under TCG::

    image = build_tiny(Path("/tmp/tiny"))
    qemu-system-x86_64 -M pc -accel tcg -m 256 -nodefaults -display none \\
        -kernel image.kernel -initrd image.initrd -append image.cmdline \\
        -drive file=<overlay of image.disk>,if=virtio,format=qcow2 \\
        -serial stdio -netdev user,id=n0 -device virtio-net-pci,netdev=n0

What the guest does (``init.sh`` in this package is its ``/init``): mounts
``/dev/vda`` at ``/data`` (it holds ``/hello.txt``), takes a DHCP lease on eth0,
serves a page naming its hostname on port 8080, powers off on the ACPI power
button, prints ``READY_MARKER`` and then ``HEARTBEAT_PREFIX <n>`` every second
on the serial console, and keeps a shell on it. ``guest_cmdline`` adds the
options: hostname and a memory-dirtying workload for live-migration tests.

``build_tiny_disk`` puts the same kernel and initramfs on one qcow2 disk that a
BIOS boots (a hybrid ISO with ISOLINUX), so the guest also boots the way a cloud
image does::

    disk = build_tiny_disk(Path("/tmp/tiny-disk"))
    qemu-system-x86_64 -M pc -accel tcg -m 256 -nodefaults -display none -serial stdio \\
        -blockdev qcow2,node-name=disk0,file.driver=file,file.filename=<overlay of disk> \\
        -device virtio-blk-pci,drive=disk0,bootindex=1 \\
        -drive file=seed.iso,media=cdrom,if=ide,readonly=on

With a cloud-init NoCloud seed on an IDE CD-ROM (an ISO 9660 labelled ``cidata``,
as ``novacron.hypervisor.qemu.cloudinit.build_seed`` writes), either image reads
``meta-data`` and ``user-data``, takes ``local-hostname`` as its hostname (a
``novacron.hostname=`` on the kernel command line still wins) and prints
``CLOUDINIT_PREFIX instance-id=<id> hostname=<local-hostname> ssh-keys=<n>``
before ``READY_MARKER``. The boot disk holds no ``/data``.
"""

from __future__ import annotations

import re

from novacron.core.errors import Invalid

from ._build import (
    DEFAULT_CMDLINE,
    DEFAULT_DISK_MIB,
    TinyImage,
    build_tiny,
    build_tiny_disk,
    default_cache_dir,
)
from ._disk import HELLO_TEXT

__all__ = [
    "CLOUDINIT_PREFIX",
    "DEFAULT_CMDLINE",
    "DEFAULT_DISK_MIB",
    "DEFAULT_HOSTNAME",
    "DIRTY_PREFIX",
    "GUEST_HTTP_PORT",
    "HEARTBEAT_PREFIX",
    "HELLO_TEXT",
    "POWEROFF_MARKER",
    "READY_MARKER",
    "TinyImage",
    "build_tiny",
    "build_tiny_disk",
    "default_cache_dir",
    "guest_cmdline",
]

READY_MARKER = "NOVACRON-GUEST-READY"
CLOUDINIT_PREFIX = "NOVACRON-CLOUDINIT"
HEARTBEAT_PREFIX = "NOVACRON-HB"
DIRTY_PREFIX = "NOVACRON-DIRTY"
POWEROFF_MARKER = "NOVACRON-POWEROFF"
DEFAULT_HOSTNAME = "tiny"
GUEST_HTTP_PORT = 8080


_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def guest_cmdline(
    base: str = DEFAULT_CMDLINE,
    *,
    hostname: str | None = None,
    dirty_mbps: int = 0,
    dirty_mib: int | None = None,
) -> str:
    """``base`` plus the guest's options.

    ``dirty_mbps`` makes the guest rewrite a ``dirty_mib`` MiB working set (default:
    the larger of 64 and ``dirty_mbps``) at about that many MiB/s with random data.
    QEMU's ``calc-dirty-rate`` counts distinct pages, so a working set smaller than
    rate × measuring time caps what it reports.
    """
    words = [base]
    if hostname is not None:
        if not _HOSTNAME.fullmatch(hostname):
            raise Invalid(
                f"invalid guest hostname {hostname!r}",
                errors=[{"loc": ["hostname"], "msg": "letters, digits and inner dashes"}],
            )
        words.append(f"novacron.hostname={hostname}")
    if dirty_mbps < 0 or (dirty_mib is not None and dirty_mib <= 0):
        raise Invalid(
            "dirty_mbps must be >= 0 and dirty_mib > 0",
            errors=[{"loc": ["dirty_mbps"], "msg": "out of range"}],
        )
    if dirty_mbps:
        words.append(f"novacron.dirty_mbps={dirty_mbps}")
        if dirty_mib is not None:
            words.append(f"novacron.dirty_mib={dirty_mib}")
    return " ".join(words)
