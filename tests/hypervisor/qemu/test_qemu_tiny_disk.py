"""The tiny guest as a disk image that boots like a cloud image: SeaBIOS → hybrid ISO →
ISOLINUX → kernel, with a cloud-init NoCloud seed on an IDE CD-ROM; booted under QEMU
(TCG) with the exact command line NovaCron generates."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from io import BytesIO
from pathlib import Path

import pycdlib
import pytest

from novacron.core.errors import Invalid
from novacron.hypervisor.qemu.cloudinit import build_seed, seed_files
from novacron.hypervisor.qemu.machine import MachineConfig, build_argv
from novacron.hypervisor.qemu.tiny import (
    CLOUDINIT_PREFIX,
    DEFAULT_CMDLINE,
    HELLO_TEXT,
    READY_MARKER,
    TinyImage,
    build_tiny_disk,
    default_cache_dir,
    guest_cmdline,
)
from novacron.hypervisor.qemu.tiny._bootdisk import MBR_CODE_SIZE, isolinux_cfg
from novacron.hypervisor.qemu.tiny._debs import cached_debs

INIT_SCRIPT = Path(str(resources.files("novacron.hypervisor.qemu.tiny").joinpath("init.sh")))
# Generous: two TCG guests and the rest of the suite may share two cores.
BOOT_TIMEOUT_S = 90
CLOUDINIT_LINE = re.compile(
    rf"(?m)^{CLOUDINIT_PREFIX} instance-id=(\S*) hostname=(\S*) ssh-keys=(\d+)\r?$"
)


def fake_key(seed: int, kind: str = "ssh-ed25519") -> str:
    """A well-formed public key line (the blob starts with its own type, like real keys)."""
    blob = b"".join(
        struct.pack(">I", len(part)) + part for part in (kind.encode(), bytes([seed]) * 32)
    )
    return f"{kind} {base64.b64encode(blob).decode()} key{seed}@test"


# --------------------------------------------------------------------------- pure parts


def test_isolinux_cfg_boots_the_default_cmdline_at_once() -> None:
    cfg = isolinux_cfg(DEFAULT_CMDLINE)
    assert f"  APPEND {DEFAULT_CMDLINE}\n" in cfg
    assert "PROMPT 0\n" in cfg and "TIMEOUT 0\n" in cfg
    assert "KERNEL /boot/vmlinuz" in cfg and "INITRD /boot/initrd.img" in cfg
    with pytest.raises(ValueError):
        isolinux_cfg("quiet\nLABEL evil")


def parse_seed(tmp_path: Path, files: dict[str, bytes]) -> tuple[str, str, str]:
    """Run init.sh's ``parse_seed`` on the host (busybox sh when there is one)."""
    seed = tmp_path / "seed"
    seed.mkdir(exist_ok=True)
    for name in ("meta-data", "user-data"):
        (seed / name).unlink(missing_ok=True)
    for name, data in files.items():
        (seed / name).write_bytes(data)
    busybox = shutil.which("busybox")
    shell = [busybox, "sh"] if busybox else ["sh"]
    script = f'. "{INIT_SCRIPT}"; parse_seed "{seed}"; echo "$SEED_ID|$SEED_HOST|$SEED_KEYS"'
    out = subprocess.run([*shell, "-c", script], capture_output=True, text=True, check=True)
    seed_id, host, keys = out.stdout.strip().split("|")
    return seed_id, host, keys


def test_init_script_reads_the_seeds_novacron_writes(tmp_path: Path) -> None:
    keys = [fake_key(1), fake_key(2, "ecdsa-sha2-nistp256")]
    files = seed_files(instance_id="i-0042", hostname="web-1", ssh_authorized_keys=keys)
    assert parse_seed(tmp_path, files) == ("i-0042", "web-1", "2")
    # Keys from the user's own cloud-config are merged in; duplicates count once.
    user = f"#cloud-config\nssh_authorized_keys:\n  - {fake_key(3)}\n  - {fake_key(1)}\n"
    files = seed_files(instance_id="i-1", hostname="h", ssh_authorized_keys=keys, user_data=user)
    assert parse_seed(tmp_path, files) == ("i-1", "h", "3")
    # Other user-data is passed on verbatim and the keys travel in meta-data.
    files = seed_files(
        instance_id="i-2", hostname="h", ssh_authorized_keys=keys[:1], user_data="#!/bin/sh\n"
    )
    assert parse_seed(tmp_path, files) == ("i-2", "h", "1")


def test_init_script_reads_hand_written_seeds(tmp_path: Path) -> None:
    meta = b"instance-id: \"iid-local01\"\r\nlocal-hostname: 'box.example'  \r\n"
    user = (
        "#cloud-config\r\nssh_authorized_keys:\r\n"
        f'  - "{fake_key(1)}"\r\n  -   {fake_key(2, "ssh-rsa")}\r\n'
        "runcmd:\r\n  - ssh-keygen -A\r\n"
    ).encode()
    assert parse_seed(tmp_path, {"meta-data": meta, "user-data": user}) == (
        "iid-local01",
        "box.example",
        "2",
    )
    assert parse_seed(tmp_path, {"meta-data": b"instance-id: only\n"}) == ("only", "", "0")


def test_init_script_ignores_hostile_seed_values(tmp_path: Path) -> None:
    meta = b"instance-id: $(reboot)\nlocal-hostname: evil;reboot\n"
    assert parse_seed(tmp_path, {"meta-data": meta}) == ("", "", "0")
    meta = b"instance-id: ok\nlocal-hostname: -dash\n"
    assert parse_seed(tmp_path, {"meta-data": meta}) == ("ok", "", "0")


def test_build_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(Invalid, match="refusing"):
        build_tiny_disk(tmp_path, cache_dir=tmp_path / "cache")
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- a real build


def deb_member(package: str, member: str) -> bytes:
    """A file from the cached .deb of ``package`` (which the build put in the cache)."""
    debs = cached_debs(default_cache_dir() / "debs", package)
    assert debs, f"no cached {package} .deb"
    with subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE
    ) as dpkg:
        out = subprocess.run(
            ["tar", "-xO", "--wildcards", member],
            stdin=dpkg.stdout,
            capture_output=True,
            check=True,
        )
    return out.stdout


def iso_file(iso: pycdlib.PyCdlib, rr_path: str) -> bytes:
    out = BytesIO()
    iso.get_file_from_iso_fp(out, rr_path=rr_path)
    return out.getvalue()


def test_disk_is_a_hybrid_iso_with_the_kernel_images_boot_files(
    tiny_disk_image: Path, tiny_image: TinyImage, tmp_path: Path
) -> None:
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(tiny_disk_image)], capture_output=True, check=True
    )
    disk = json.loads(info.stdout)
    assert disk["format"] == "qcow2" and "backing-filename" not in disk
    raw_path = tmp_path / "disk.raw"
    subprocess.run(
        ["qemu-img", "convert", "-O", "raw", str(tiny_disk_image), str(raw_path)], check=True
    )
    raw = raw_path.read_bytes()
    assert len(raw) == disk["virtual-size"] and len(raw) % (1024 * 1024) == 0  # whole cylinders

    # The MBR: ISOLINUX's own hybrid boot code, then isolinux.bin's LBA, one bootable
    # partition over the whole image, and the boot signature.
    assert raw[:MBR_CODE_SIZE] == deb_member("isolinux", "*/ISOLINUX/isohdpfx.bin")
    isolinux_lba = struct.unpack_from("<I", raw, 432)[0]
    assert raw[isolinux_lba * 512 + 0x40 : isolinux_lba * 512 + 0x44] == b"\xfb\xc0\x78\x70"
    status, ptype = raw[446], raw[446 + 4]
    start, sectors = struct.unpack_from("<II", raw, 446 + 8)
    assert (status, ptype, start, sectors) == (0x80, 0x17, 0, len(raw) // 512)
    assert raw[510:512] == b"\x55\xaa"

    iso = pycdlib.PyCdlib()
    iso.open(str(raw_path))
    try:
        assert iso_file(iso, "/isolinux/isolinux.cfg").decode() == isolinux_cfg(DEFAULT_CMDLINE)
        # The same kernel and initramfs as the kernel image (both builds are reproducible).
        assert iso_file(iso, "/boot/vmlinuz") == tiny_image.kernel.read_bytes()
        assert iso_file(iso, "/boot/initrd.img") == tiny_image.initrd.read_bytes()
        loader = deb_member("syslinux-common", "*/modules/bios/ldlinux.c32")
        assert iso_file(iso, "/isolinux/ldlinux.c32") == loader
    finally:
        iso.close()


def test_rebuild_is_reused_and_a_cached_build_is_offline(
    tiny_disk_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tiny_disk_image.stat().st_ino
    again = build_tiny_disk(tiny_disk_image.parent, cache_dir=default_cache_dir())
    assert again == tiny_disk_image and again.stat().st_ino == before

    # Every package is cached now: a fresh build must not need apt-get (failing here).
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    calls = tmp_path / "apt-get.calls"
    (fakebin / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 100\n')
    (fakebin / "apt-get").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fakebin}:{shutil.os.environ['PATH']}")
    started = time.monotonic()
    fresh = build_tiny_disk(tmp_path / "out", cache_dir=default_cache_dir())
    print(f"cached build: {time.monotonic() - started:.1f} s")
    assert not calls.exists()
    assert fresh.name == tiny_disk_image.name and fresh.stat().st_size > 1024 * 1024
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fakebin", "out"]


# --------------------------------------------------------------------------- booting


@dataclass
class Guest:
    """One QEMU process started with NovaCron's argv."""

    proc: subprocess.Popen[bytes]
    config: MachineConfig
    argv: list[str]
    started: float

    def text(self) -> str:
        log = self.config.serial_log
        return log.read_text(errors="replace") if log.exists() else ""

    def wait_for(self, pattern: str) -> float:
        """Seconds from start until ``pattern`` is on the console; fails with the log's tail."""
        deadline = self.started + BOOT_TIMEOUT_S
        while not re.search(pattern, self.text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = (
                    f"exited {self.proc.returncode}" if self.proc.poll() is not None else "timeout"
                )
                pytest.fail(f"{pattern!r} not on the console ({why}):\n{self.text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - self.started

    def run(self, command: str, timeout: float = 30) -> str:
        """``command``'s output on the serial shell. Only the shell's own output holds the
        expanded markers: the tty echoes them unexpanded (and may wrap the echo)."""
        token = secrets.randbelow(10**9) + 10**9
        line = f"echo B-$((0+{token})); {command}; echo E-$((0+{token}))\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.config.serial_socket))
            sock.settimeout(0.5)
            sock.sendall(line.encode())
            buf = b""
            deadline = time.monotonic() + timeout
            while f"E-{token}".encode() not in buf:
                if time.monotonic() > deadline:
                    pytest.fail(f"no answer to {command!r} on the serial shell: {buf[-2000:]!r}")
                with contextlib.suppress(TimeoutError):
                    buf += sock.recv(65536)
        text = buf.decode(errors="replace").replace("\r", "")
        body = text.split(f"B-{token}\n", 1)[1].split(f"E-{token}", 1)[0]
        return "\n".join(ln for ln in body.split("\n") if not ln.startswith("NOVACRON-HB")).strip()


BootFn = Callable[..., Guest]


@pytest.fixture
def boot(needs_qemu: None, tmp_path: Path) -> Iterator[BootFn]:
    """``boot(backing, seed=…, kernel=…, cmdline=…)``: a guest on an overlay of ``backing``,
    as NovaCron's driver would start it; every guest is killed at teardown."""
    guests: list[tuple[Guest, Path]] = []

    def start(
        backing: Path,
        *,
        seed: Path | None = None,
        kernel: TinyImage | None = None,
        cmdline: str = "",
    ) -> Guest:
        n = len(guests)
        rundir = Path(tempfile.mkdtemp(prefix="nctd-", dir="/tmp"))  # unix sockets: short paths
        overlay = tmp_path / f"vm{n}.qcow2"
        backing_args = ["-b", str(backing), "-F", "qcow2"]
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", *backing_args, str(overlay)], check=True
        )
        config = MachineConfig(
            vm_id=f"vm-{n}",
            name=f"tiny-disk-{n}",
            uuid=str(uuid.uuid4()),
            vcpus=1,
            memory_mib=256,
            accel="tcg",
            qmp_socket=rundir / "qmp.sock",
            serial_socket=rundir / "serial.sock",
            serial_log=rundir / "serial.log",
            pidfile=rundir / "qemu.pid",
            disk=overlay,
            kernel=kernel.kernel if kernel else None,
            initrd=kernel.initrd if kernel else None,
            cmdline=cmdline,
            seed_iso=seed,
        )
        argv = build_argv(config)
        with (rundir / "qemu.stderr").open("wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        guest = Guest(proc, config, argv, time.monotonic())
        guests.append((guest, rundir))
        return guest

    yield start
    for guest, rundir in guests:
        if guest.proc.poll() is None:
            guest.proc.kill()
        guest.proc.wait(timeout=30)
        shutil.rmtree(rundir, ignore_errors=True)


@pytest.mark.qemu
@pytest.mark.slow
def test_disk_boots_like_a_cloud_image_and_reads_its_seed(
    boot: BootFn, tiny_disk_image: Path, tmp_path: Path
) -> None:
    user = f"#cloud-config\nssh_authorized_keys:\n  - {fake_key(3)}\n"
    seed = build_seed(
        tmp_path / "seed.iso",
        instance_id="i-tinydisk-7",
        hostname="cloudy",
        ssh_authorized_keys=[fake_key(1), fake_key(2, "ecdsa-sha2-nistp256")],
        user_data=user,
    )
    guest = boot(tiny_disk_image, seed=seed)
    # NovaCron's disk-image shape: no -kernel, the disk boots first from virtio-blk.
    assert "-kernel" not in guest.argv
    assert "virtio-blk-pci,drive=disk0,id=virtio-disk0,bootindex=1" in guest.argv
    assert "ide-cd,drive=seed0,id=cidata0" in guest.argv
    ready_s = guest.wait_for(rf"(?m)^{READY_MARKER}\r?$")
    print(f"disk image with seed: READY after {ready_s:.1f} s")
    text = guest.text()
    assert "ISOLINUX" in text  # booted by the BIOS through the boot loader
    assert CLOUDINIT_LINE.findall(text) == [("i-tinydisk-7", "cloudy", "3")]
    assert text.index(CLOUDINIT_PREFIX) < text.index(READY_MARKER)
    assert guest.run("hostname") == "cloudy"
    # ISOLINUX adds BOOT_IMAGE= and initrd= around the configured command line.
    assert f" {DEFAULT_CMDLINE} " in f" {guest.run('cat /proc/cmdline')} "
    assert guest.run("grep -c ' /data ' /proc/mounts") == "0"  # the boot ISO is not data
    assert guest.run("grep -c ' /run/cidata.mnt ' /proc/mounts") == "0"  # seed unmounted


def other_cdrom(path: Path) -> Path:
    """An ISO with NoCloud's files but not labelled cidata: cloud-init would ignore it."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, vol_ident="NOTCIDATA", rock_ridge="1.09")
    data = b"instance-id: nope\nlocal-hostname: nope\n"
    iso.add_fp(BytesIO(data), len(data), "/METADATA.;1", rr_name="meta-data")
    iso.write(str(path))
    iso.close()
    return path


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("cdrom", ["none", "not-cidata"])
def test_disk_boots_without_a_seed(
    boot: BootFn, tiny_disk_image: Path, tmp_path: Path, cdrom: str
) -> None:
    seed = other_cdrom(tmp_path / "other.iso") if cdrom == "not-cidata" else None
    guest = boot(tiny_disk_image, seed=seed)
    ready_s = guest.wait_for(rf"(?m)^{READY_MARKER}\r?$")
    print(f"disk image, CD-ROM {cdrom}: READY after {ready_s:.1f} s")
    assert CLOUDINIT_PREFIX not in guest.text()
    assert guest.run("hostname") == "tiny"
    # With no IDE device at all, the CD-ROM stack (libata …) is not even loaded.
    libata = guest.run("grep -c '^libata ' /proc/modules")
    assert libata == ("1" if cdrom == "not-cidata" else "0")


@pytest.mark.qemu
@pytest.mark.slow
def test_kernel_image_reads_the_seed_but_its_cmdline_hostname_wins(
    boot: BootFn, tiny_image: TinyImage, tmp_path: Path
) -> None:
    seed = build_seed(tmp_path / "seed.iso", instance_id="i-k", hostname="from-seed")
    cmdline = guest_cmdline(hostname="from-cmdline")
    guest = boot(tiny_image.disk, seed=seed, kernel=tiny_image, cmdline=cmdline)
    guest.wait_for(rf"(?m)^{READY_MARKER}\r?$")
    assert CLOUDINIT_LINE.findall(guest.text()) == [("i-k", "from-seed", "0")]
    assert guest.run("hostname") == "from-cmdline"
    assert guest.run("cat /data/hello.txt") == HELLO_TEXT.strip()  # /data as before
