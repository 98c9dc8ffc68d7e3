"""The tiny guest image builder, and the guest it builds booted under QEMU (TCG)."""

from __future__ import annotations

import contextlib
import gzip
import json
import lzma
import os
import re
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest
from qemu.qmp.legacy import QEMUMonitorProtocol

from novacron.core.errors import DriverError, Invalid
from novacron.hypervisor.qemu.tiny import (
    DEFAULT_CMDLINE,
    DIRTY_PREFIX,
    HEARTBEAT_PREFIX,
    HELLO_TEXT,
    POWEROFF_MARKER,
    READY_MARKER,
    TinyImage,
    _debs,
    build_tiny,
    default_cache_dir,
    guest_cmdline,
)
from novacron.hypervisor.qemu.tiny._cpio import Cpio
from novacron.hypervisor.qemu.tiny._kmod import ModuleTree, modinfo, module_name
from novacron.hypervisor.qemu.tiny._outdir import MANIFEST_FILE

INIT_SCRIPT = Path(str(resources.files("novacron.hypervisor.qemu.tiny").joinpath("init.sh")))
# Generous: two TCG guests and the rest of the suite may share two cores.
BOOT_TIMEOUT_S = 90


# --------------------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TinyVM:
    """One QEMU process running the tiny guest, with its serial log, shell and QMP."""

    proc: subprocess.Popen[bytes]
    rundir: Path  # short, under /tmp: unix socket paths must stay < 108 bytes
    http_port: int
    _serial: socket.socket | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.rundir / "serial.log"

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, pattern: str, timeout: float = BOOT_TIMEOUT_S) -> re.Match[str]:
        """First match of ``pattern`` in the serial log; fails with the log's tail."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.text())
            if match:
                return match
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = (
                    f"exited {self.proc.returncode}" if self.proc.poll() is not None else "timeout"
                )
                pytest.fail(f"{pattern!r} not on the console ({why}):\n{self.text()[-3000:]}")
            time.sleep(0.1)

    def heartbeats(self) -> list[int]:
        return [int(n) for n in re.findall(rf"{HEARTBEAT_PREFIX} (\d+)", self.text())]

    def shell(self, command: str, timeout: float = 30) -> str:
        """Run ``command`` in the guest's serial shell and return its output."""
        if self._serial is None:
            self._serial = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._serial.connect(str(self.rundir / "serial.sock"))
            self._serial.settimeout(0.5)
        token = f"{os.getpid()}{time.monotonic_ns()}"
        # The tty echoes "$((…))" unexpanded (and line editing may wrap the echo), so
        # only the command's own output contains the expanded markers.
        line = f"echo BEGIN-$((0+{token})); {command}; echo END-$((0+{token}))\n"
        self._serial.sendall(line.encode())
        buf = b""
        deadline = time.monotonic() + timeout
        while f"END-{token}".encode() not in buf:
            if time.monotonic() > deadline:
                pytest.fail(f"no answer to {command!r} on the serial shell: {buf[-2000:]!r}")
            with contextlib.suppress(TimeoutError):
                buf += self._serial.recv(65536)
        text = buf.decode(errors="replace").replace("\r", "")
        body = text[text.index(f"BEGIN-{token}\n") + len(f"BEGIN-{token}\n") :]
        body = body[: body.index(f"END-{token}")]
        # The heartbeat shares the console: drop its lines.
        lines = [ln for ln in body.split("\n") if not re.fullmatch(rf"{HEARTBEAT_PREFIX} \d+", ln)]
        return "\n".join(lines).strip()

    def qmp(self) -> QEMUMonitorProtocol:
        mon = QEMUMonitorProtocol(str(self.rundir / "qmp.sock"))
        mon.connect()
        mon.settimeout(30)
        return mon

    def stop(self) -> None:
        if self._serial is not None:
            self._serial.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.rundir, ignore_errors=True)


def qemu_argv(
    image: TinyImage, vm_dir: Path, overlay: Path | None, cmdline: str, port: int
) -> list[str]:
    argv = [
        "qemu-system-x86_64", "-M", "pc", "-accel", "tcg,thread=multi", "-m", "256",
        "-nodefaults", "-display", "none",
        "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", cmdline,
        "-chardev",
        f"socket,id=ser0,path={vm_dir}/serial.sock,server=on,wait=off,logfile={vm_dir}/serial.log",
        "-serial", "chardev:ser0",
        "-qmp", f"unix:{vm_dir}/qmp.sock,server=on,wait=off",
    ]  # fmt: skip
    if overlay is not None:
        argv += ["-drive", f"file={overlay},if=virtio,format=qcow2"]
    if port:
        argv += [
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:8080",
            "-device", "virtio-net-pci,netdev=n0",
        ]  # fmt: skip
    return argv


BootFn = Callable[..., TinyVM]


@pytest.fixture
def boot(tiny_image: TinyImage, needs_qemu: None, tmp_path: Path) -> Iterator[BootFn]:
    """``boot(cmdline=…, disk=True, net=True)`` starts a guest; all are killed at teardown."""
    vms: list[TinyVM] = []

    def start(cmdline: str = DEFAULT_CMDLINE, *, disk: bool = True, net: bool = True) -> TinyVM:
        rundir = Path(tempfile.mkdtemp(prefix="nct-", dir="/tmp"))
        overlay = None
        if disk:
            overlay = tmp_path / f"vm{len(vms)}.qcow2"
            backing = ["-b", str(tiny_image.disk), "-F", "qcow2"]
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", *backing, str(overlay)], check=True
            )
        port = _free_port() if net else 0
        argv = qemu_argv(tiny_image, rundir, overlay, cmdline, port)
        with (rundir / "qemu.stderr").open("wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        vm = TinyVM(proc, rundir, port)
        vms.append(vm)
        return vm

    yield start
    for vm in vms:
        vm.stop()


def measure_dirty_rate(vm: TinyVM, calc_time_s: int = 1) -> float:
    """The guest's dirty rate (MiB/s) as QEMU's ``calc-dirty-rate`` sees it."""
    mon = vm.qmp()
    try:
        # 4096 samples per GiB, 8x the default: ~1000 pages of a 256 MiB guest, less noise.
        mon.cmd("calc-dirty-rate", **{"calc-time": calc_time_s, "sample-pages": 4096})
        deadline = time.monotonic() + calc_time_s + 30
        while time.monotonic() < deadline:
            info = mon.cmd("query-dirty-rate")
            assert isinstance(info, dict)
            if info["status"] == "measured":
                return float(info["dirty-rate"])
            time.sleep(0.2)
        pytest.fail("calc-dirty-rate did not finish")
    finally:
        mon.close()


# --------------------------------------------------------------------------- pure parts


def test_guest_cmdline() -> None:
    assert guest_cmdline() == DEFAULT_CMDLINE
    assert guest_cmdline("console=ttyS0", hostname="web-1", dirty_mbps=50, dirty_mib=128) == (
        "console=ttyS0 novacron.hostname=web-1 novacron.dirty_mbps=50 novacron.dirty_mib=128"
    )
    assert "dirty" not in guest_cmdline(dirty_mbps=0, dirty_mib=128)
    for bad in ("", "a b", "-x", "x" * 64, "evil;reboot"):
        with pytest.raises(Invalid):
            guest_cmdline(hostname=bad)
    with pytest.raises(Invalid):
        guest_cmdline(dirty_mbps=-1)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "novacron"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home/.cache/novacron"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home/.cache/novacron"


def read_newc(archive: bytes) -> dict[str, tuple[int, bytes]]:
    """path -> (mode, data) of a newc cpio archive (an independent reader for the tests)."""
    entries: dict[str, tuple[int, bytes]] = {}
    pos = 0
    while True:
        assert archive[pos : pos + 6] == b"070701", f"bad magic at {pos}"
        fields = [int(archive[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_end = pos + 110 + namesize
        name = archive[pos + 110 : name_end - 1].decode()
        data_start = name_end + (-name_end % 4)
        data = archive[data_start : data_start + size]
        pos = data_start + size + (-(data_start + size) % 4)
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data)


def test_cpio_writer(tmp_path: Path) -> None:
    cpio = Cpio()
    cpio.directory("bin")
    cpio.file("bin/busybox", b"\x7fELF...", 0o755)
    cpio.symlink("bin/sh", "/bin/busybox")
    cpio.char_device("dev/console", 5, 1)
    cpio.file("init", b"#!/bin/sh\n", 0o755)
    cpio.write_gzip(tmp_path / "a.cpio.gz")
    entries = read_newc(gzip.decompress((tmp_path / "a.cpio.gz").read_bytes()))
    assert entries["bin/busybox"] == (stat.S_IFREG | 0o755, b"\x7fELF...")
    assert entries["bin/sh"] == (stat.S_IFLNK | 0o777, b"/bin/busybox")
    assert stat.S_ISCHR(entries["dev/console"][0])
    assert stat.S_ISDIR(entries["bin"][0])
    if shutil.which("cpio"):  # and GNU cpio agrees
        listing = subprocess.run(
            ["cpio", "-t"], input=cpio.to_bytes(), capture_output=True, check=True
        ).stdout.decode()
        assert listing.split() == ["bin", "bin/busybox", "bin/sh", "dev/console", "init"]


def fake_module(info: dict[str, str]) -> bytes:
    """A minimal ELF64 relocatable file with a .modinfo section, like a kernel module."""
    shstrtab = b"\0.shstrtab\0.modinfo\0"
    payload = b"".join(f"{k}={v}".encode() + b"\0" for k, v in info.items())
    shoff = 64 + len(shstrtab) + len(payload)
    shoff += -shoff % 8
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 1)
    sections = bytes(64) + struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, 64, len(shstrtab), 0, 0, 1, 0)
    sections += struct.pack(
        "<IIQQQQIIQQ", 11, 1, 0, 0, 64 + len(shstrtab), len(payload), 0, 0, 1, 0
    )
    body = header + shstrtab + payload
    return body + bytes(shoff - len(body)) + sections


def test_modinfo_and_load_order(tmp_path: Path) -> None:
    root = tmp_path / "lib/modules/9.9.9"
    modules = {
        "drivers/virtio/virtio_ring.ko": "",
        "drivers/virtio/virtio.ko": "",
        "drivers/virtio/virtio_pci.ko": "virtio_ring,virtio",
        "drivers/block/virtio_blk.ko": "virtio,virtio_ring",
        "net/core/fail-over.ko": "",
        "drivers/net/virtio_net.ko.xz": "virtio,fail_over,virtio_ring",
        "drivers/loop/cycle_a.ko": "cycle_b",
        "drivers/loop/cycle_b.ko": "cycle_a",
        "drivers/x/needs_missing.ko": "nowhere",
    }
    for rel, deps in modules.items():
        path = root / "kernel" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        elf = fake_module({"license": "GPL", "depends": deps, "name": module_name(rel)})
        path.write_bytes(lzma.compress(elf) if rel.endswith(".xz") else elf)
    (root / "modules.builtin").write_text("kernel/fs/ext4/ext4.ko\n")

    assert modinfo(fake_module({"depends": "a,b", "vermagic": "9.9.9 SMP"}))["depends"] == "a,b"
    tree = ModuleTree.scan(root)
    assert set(tree.files) >= {"fail_over", "virtio_net"}  # "-" and "_" are one
    order = tree.load_order(["virtio_pci", "virtio_blk", "virtio_net", "ext4"])
    assert order == ["virtio_ring", "virtio", "virtio_pci", "virtio_blk", "fail_over", "virtio_net"]
    with pytest.raises(DriverError, match="nowhere"):
        tree.load_order(["needs_missing"])
    with pytest.raises(DriverError, match="cycle"):
        tree.load_order(["cycle_a"])


def test_init_script_is_valid_shell() -> None:
    busybox = shutil.which("busybox")
    shell = [busybox, "sh"] if busybox else ["sh"]  # the guest's shell when we have it
    subprocess.run([*shell, "-n", str(INIT_SCRIPT)], check=True)


# --------------------------------------------------------------------------- .deb cache

FAKE_APT_CACHE = """#!/bin/sh
cat <<EOF
Package: linux-image-cloud-amd64
Version: 9.9.9-1
Depends: linux-image-9.9.9-1-cloud-amd64 (= 9.9.9-1)

Package: busybox-static
Version: 1:1.36.0-1
EOF
"""
# Records its calls; "downloads" pkg_version_amd64.deb unless $FAKE_APT_OFFLINE is set.
FAKE_APT_GET = """#!/bin/sh
echo "$@" >> "$FAKE_APT_LOG"
[ -z "$FAKE_APT_OFFLINE" ] || exit 100
for spec; do :; done
case "$spec" in
    busybox-static=1:1.36.0-1) : > "busybox-static_1%3a1.36.0-1_amd64.deb" ;;
    linux-image-*=9.9.9-1) : > "${spec%=*}_9.9.9-1_amd64.deb" ;;
    *) echo "E: no $spec" >&2; exit 100 ;;
esac
"""


def install_fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, apt_cache: bool) -> Path:
    """Put an apt-get fake (and an apt-cache one) first on PATH; returns apt-get's call log."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    fakes = {"apt-get": FAKE_APT_GET} | ({"apt-cache": FAKE_APT_CACHE} if apt_cache else {})
    for name, script in fakes.items():
        (bindir / name).write_text(script)
        (bindir / name).chmod(0o755)
    calls = tmp_path / "apt-get.calls"
    calls.touch()
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_APT_LOG", str(calls))
    return calls


@pytest.fixture
def fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_fake_apt(tmp_path, monkeypatch, apt_cache=True)


def test_debs_are_downloaded_once_then_cached(fake_apt: Path, tmp_path: Path) -> None:
    debs = tmp_path / "cache/debs"
    kernel, busybox = _debs.resolve(debs)
    assert (kernel.package, kernel.version) == ("linux-image-9.9.9-1-cloud-amd64", "9.9.9-1")
    assert busybox == _debs.Wanted("busybox-static", "1:1.36.0-1")
    debs.mkdir(parents=True)
    stale = debs / "linux-image-9.9.8-1-cloud-amd64_9.9.8-1_amd64.deb"  # an older ABI
    stale.touch()
    first = _debs.fetch_deb(kernel, debs)
    assert not stale.exists()  # superseded
    assert first == debs / "linux-image-9.9.9-1-cloud-amd64_9.9.9-1_amd64.deb"
    assert _debs.fetch_deb(busybox, debs).name == "busybox-static_1%3a1.36.0-1_amd64.deb"
    assert len(fake_apt.read_text().splitlines()) == 2
    # Second time: the cached candidate, no apt-get at all.
    assert _debs.fetch_deb(kernel, debs) == first
    assert _debs.fetch_deb(busybox, debs).exists()
    assert len(fake_apt.read_text().splitlines()) == 2
    assert not list(debs.glob(".download-*"))  # apt-get ran in a private temp dir


def test_debs_fall_back_to_any_cached_version_offline(
    fake_apt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debs = tmp_path / "debs"
    debs.mkdir()
    older = debs / "linux-image-9.9.9-1-cloud-amd64_9.9.8-1_amd64.deb"
    older.touch()
    monkeypatch.setenv("FAKE_APT_OFFLINE", "1")
    kernel, busybox = _debs.resolve(debs)
    assert _debs.fetch_deb(kernel, debs) == older  # newer candidate, but no network
    with pytest.raises(DriverError, match="apt-get download busybox-static"):
        _debs.fetch_deb(busybox, debs)


def test_debs_without_apt_use_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no apt-cache, no apt-get
    debs = tmp_path / "debs"
    with pytest.raises(DriverError, match="linux-image-cloud-amd64"):
        _debs.resolve(debs)
    debs.mkdir()
    (debs / "linux-image-6.1.0-9-cloud-amd64_6.1.0-9_amd64.deb").touch()
    kernel, busybox = _debs.resolve(debs)
    assert (kernel.package, kernel.version) == ("linux-image-6.1.0-9-cloud-amd64", None)
    assert _debs.fetch_deb(kernel, debs).name.startswith("linux-image-6.1.0-9-cloud-amd64_")
    assert busybox.version is None


def test_build_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(Invalid, match="refusing"):
        build_tiny(tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(Invalid, match="disk_mib"):
        build_tiny(tmp_path / "new", disk_mib=1)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- a real build


def test_build_outputs(tiny_image: TinyImage) -> None:
    image = tiny_image
    manifest = json.loads((image.kernel.parent / MANIFEST_FILE).read_text())
    assert manifest["kernel_release"] == image.kernel_release
    assert re.fullmatch(r"\d+\.\d+\.\d+-\d+-cloud-amd64", image.kernel_release)
    assert image.cmdline == DEFAULT_CMDLINE
    assert image.kernel.read_bytes()[0x202:0x206] == b"HdrS"  # an x86 bzImage

    initrd = read_newc(gzip.decompress(image.initrd.read_bytes()))
    assert initrd["init"][1] == INIT_SCRIPT.read_bytes()
    assert initrd["init"][0] & 0o111
    assert initrd["bin/sh"][1] == b"/bin/busybox"
    assert "sbin/acpid" in initrd and "sbin/udhcpc" in initrd
    order = initrd["etc/novacron/modules"][1].decode().split()
    for wanted in ("virtio_pci.ko", "virtio_blk.ko", "virtio_net.ko"):
        assert wanted in order
        assert f"lib/modules/{wanted}" in initrd
    # Dependencies come first.
    assert order.index("virtio_ring.ko") < order.index("virtio.ko") < order.index("virtio_pci.ko")
    assert initrd["lib/modules/virtio_blk.ko"][1][:4] == b"\x7fELF"
    # The IDE CD-ROM stack (for a NoCloud seed) is a list of its own, loaded on demand.
    cdrom = initrd["etc/novacron/modules.cdrom"][1].decode().split()
    assert cdrom.index("libata.ko") < cdrom.index("ata_piix.ko")
    assert {"sr_mod.ko", "cdrom.ko", "isofs.ko"} <= set(cdrom) and not set(cdrom) & set(order)
    assert all(f"lib/modules/{name}" in initrd for name in cdrom)

    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(image.disk)],
        capture_output=True,
        check=True,
    )
    disk = json.loads(info.stdout)
    assert disk["format"] == "qcow2"
    assert disk["virtual-size"] == 64 * 1024 * 1024


def test_disk_holds_hello(tiny_image: TinyImage, tmp_path: Path) -> None:
    raw = tmp_path / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(tiny_image.disk), str(raw)], check=True)
    assert _debugfs_cat(raw, "/hello.txt") == HELLO_TEXT


def test_rebuild_same_dir_is_reused(tiny_image: TinyImage) -> None:
    before = tiny_image.kernel.stat().st_ino
    again = build_tiny(tiny_image.kernel.parent, cache_dir=default_cache_dir())
    assert again == tiny_image
    assert again.kernel.stat().st_ino == before  # returned as is, not rebuilt


def test_cached_build_is_offline_and_replaces_older_builds(
    tiny_image: TinyImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tiny_image filled the cache, so apt-get (failing here) must not be needed.
    calls = install_fake_apt(tmp_path, monkeypatch, apt_cache=False)
    monkeypatch.setenv("FAKE_APT_OFFLINE", "1")
    out = tmp_path / "out"
    first = build_tiny(out, cache_dir=default_cache_dir(), disk_mib=16)
    second = build_tiny(out, cache_dir=default_cache_dir(), disk_mib=32)
    assert calls.read_text() == ""
    assert first.kernel == second.kernel and second.kernel.exists()
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(second.disk)], capture_output=True, check=True
    )
    assert json.loads(info.stdout)["virtual-size"] == 32 * 1024 * 1024
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apt-get.calls", "fakebin", "out"]


# --------------------------------------------------------------------------- booting


@pytest.mark.qemu
def test_boots_to_ready_with_heartbeat_and_http(boot: BootFn) -> None:
    started = time.monotonic()
    vm = boot(guest_cmdline(hostname="alpha"))
    vm.wait_for(rf"(?m)^{READY_MARKER}\r?$")
    print(f"READY after {time.monotonic() - started:.1f} s")
    vm.wait_for(rf"{HEARTBEAT_PREFIX} 3\b")
    beats = vm.heartbeats()
    assert beats[:3] == [1, 2, 3]
    assert beats == sorted(beats)
    assert "hostname: alpha" in http_get(f"http://127.0.0.1:{vm.http_port}/")
    assert vm.text().index(READY_MARKER) < vm.text().index(f"{HEARTBEAT_PREFIX} 1")


@pytest.mark.qemu
def test_serial_shell_reads_and_writes_the_disk(boot: BootFn, tmp_path: Path) -> None:
    vm = boot()
    vm.wait_for(READY_MARKER)
    assert vm.shell("cat /data/hello.txt") == HELLO_TEXT.strip()
    assert vm.shell("echo written-over-serial > /data/f; sync") == ""
    assert vm.shell("cat /data/f") == "written-over-serial"
    assert vm.shell("hostname") == "tiny"  # the default


@pytest.mark.qemu
def test_system_powerdown_syncs_and_exits(boot: BootFn, tmp_path: Path) -> None:
    vm = boot()
    vm.wait_for(READY_MARKER)
    vm.shell("echo before-poweroff > /data/f")  # no sync: the power button handler must do it
    mon = vm.qmp()
    try:
        mon.cmd("system_powerdown")
    finally:
        mon.close()
    assert vm.proc.wait(timeout=20) == 0
    assert POWEROFF_MARKER in vm.text()
    # The overlay holds a clean filesystem with the file written before power-off.
    raw = tmp_path / "after.raw"
    subprocess.run(
        ["qemu-img", "convert", "-O", "raw", str(tmp_path / "vm0.qcow2"), str(raw)], check=True
    )
    fsck = subprocess.run(["e2fsck", "-fn", str(raw)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert _debugfs_cat(raw, "/f") == "before-poweroff\n"


@pytest.mark.qemu
def test_boots_without_disk_or_network(boot: BootFn) -> None:
    vm = boot(disk=False, net=False)
    vm.wait_for(READY_MARKER)
    vm.wait_for(rf"{HEARTBEAT_PREFIX} 2\b")
    assert vm.shell("grep -c ' /data ' /proc/mounts") == "0"
    assert vm.shell("ls /sys/class/net") == "lo"


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("mbps", [20, 50, 100])
def test_dirty_workload_rate(boot: BootFn, mbps: int) -> None:
    vm = boot(guest_cmdline(dirty_mbps=mbps), disk=False, net=False)
    vm.wait_for(rf"{DIRTY_PREFIX} {mbps} MB/s")
    time.sleep(1)  # let the first pass allocate the working set
    rates = [measure_dirty_rate(vm) for _ in range(3)]
    print(f"requested {mbps} MB/s, measured {rates}")
    median = sorted(rates)[1]
    assert 0.5 * mbps <= median <= 1.5 * mbps, rates


@pytest.mark.qemu
@pytest.mark.slow
def test_dirty_workload_never_rewrites_a_page_with_the_same_data(boot: BootFn) -> None:
    # 17 MiB is the random source's size: the case where naive rotation repeats data.
    vm = boot(guest_cmdline(dirty_mbps=50, dirty_mib=17), disk=False, net=False)
    vm.wait_for(rf"{DIRTY_PREFIX} 50 MB/s")
    page = "dd if=/dirty/ws bs=4k count=1 skip=77 2>/dev/null | md5sum"
    zero = vm.shell("dd if=/dev/zero bs=4k count=1 2>/dev/null | md5sum")
    sums = []
    for _ in range(5):
        sums.append(vm.shell(page))
        time.sleep(0.5)  # a pass over 17 MiB takes ~0.35 s
    assert zero not in sums
    assert len(set(sums)) == len(sums), sums


def http_get(url: str, timeout: float = 30) -> str:
    """GET with retries: the port forward exists before the guest's DHCP lease does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return str(resp.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _debugfs_cat(raw: Path, path: str) -> str:
    debugfs = shutil.which("debugfs") or "/sbin/debugfs"
    out = subprocess.run([debugfs, "-R", f"cat {path}", str(raw)], capture_output=True, check=True)
    return out.stdout.decode()
