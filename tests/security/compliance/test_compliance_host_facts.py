"""Host fact parsers on captured command output, and the real collectors on this machine."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections import namedtuple
from collections.abc import Sequence

import pytest

import novacron
from novacron.security.compliance import (
    DiskEncryption,
    ListeningPort,
    PendingUpdates,
)
from novacron.security.compliance.host_facts import (
    APT_UPGRADE,
    CommandResult,
    collect_disk_encryption,
    collect_host_facts,
    collect_listening_ports,
    collect_pending_updates,
    listening_ports,
    parse_apt_upgrade,
    parse_lsblk,
    run_command,
)

# --- lsblk ------------------------------------------------------------------------------

# Debian installer "guided - use entire disk and set up encrypted LVM" on an NVMe laptop,
# util-linux 2.38 (`lsblk -J -o NAME,TYPE,FSTYPE,MOUNTPOINT`).
LSBLK_LVM_ON_LUKS = """{
   "blockdevices": [
      {"name":"nvme0n1", "type":"disk", "fstype":null, "mountpoint":null,
         "children": [
            {"name":"nvme0n1p1", "type":"part", "fstype":"vfat", "mountpoint":"/boot/efi"},
            {"name":"nvme0n1p2", "type":"part", "fstype":"ext4", "mountpoint":"/boot"},
            {"name":"nvme0n1p3", "type":"part", "fstype":"crypto_LUKS", "mountpoint":null,
               "children": [
                  {"name":"nvme0n1p3_crypt", "type":"crypt", "fstype":"LVM2_member", "mountpoint":null,
                     "children": [
                        {"name":"vg0-root", "type":"lvm", "fstype":"ext4", "mountpoint":"/"},
                        {"name":"vg0-var", "type":"lvm", "fstype":"ext4", "mountpoint":"/var"},
                        {"name":"vg0-swap_1", "type":"lvm", "fstype":"swap", "mountpoint":"[SWAP]"}
                     ]
                  }
               ]
            }
         ]
      }
   ]
}"""  # noqa: E501 (captured verbatim)

# A hypervisor: plain root on RAID1, VM storage on a LUKS volume on LVM, zram swap.
LSBLK_SERVER_MIXED = """{
   "blockdevices": [
      {"name":"sda", "type":"disk", "fstype":"linux_raid_member", "mountpoint":null,
         "children": [
            {"name":"md0", "type":"raid1", "fstype":"ext4", "mountpoint":"/"}
         ]
      },
      {"name":"sdb", "type":"disk", "fstype":"linux_raid_member", "mountpoint":null,
         "children": [
            {"name":"md0", "type":"raid1", "fstype":"ext4", "mountpoint":"/"}
         ]
      },
      {"name":"sdc", "type":"disk", "fstype":"LVM2_member", "mountpoint":null,
         "children": [
            {"name":"data-vms", "type":"lvm", "fstype":"crypto_LUKS", "mountpoint":null,
               "children": [
                  {"name":"vms", "type":"crypt", "fstype":"xfs", "mountpoint":"/var/lib/novacron"}
               ]
            }
         ]
      },
      {"name":"zram0", "type":"disk", "fstype":null, "mountpoint":"[SWAP]"}
   ]
}"""

# util-linux >= 2.37 asked for MOUNTPOINTS prints a list (btrfs subvolumes share a device).
LSBLK_MOUNTPOINTS_LIST = """{
   "blockdevices": [
      {"name":"vda", "type":"disk", "fstype":null, "mountpoints":[null],
         "children": [
            {"name":"vda1", "type":"part", "fstype":"btrfs", "mountpoints":["/home", "/"]},
            {"name":"vda2", "type":"part", "fstype":"swap", "mountpoints":["[SWAP]"]}
         ]
      }
   ]
}"""

# This CI machine (a VM; the root filesystem has no partition table).
LSBLK_PLAIN_VM = """{
   "blockdevices": [
      {"name": "zram0", "type": "disk", "fstype": null, "mountpoint": null},
      {"name": "vda", "type": "disk", "fstype": null, "mountpoint": "/"}
   ]
}"""


def by_path(disks: DiskEncryption) -> dict[str, tuple[str | None, bool | None]]:
    return {p.path: (p.device, p.encrypted) for p in disks.paths}


def test_lvm_on_luks_is_encrypted_everywhere() -> None:
    disks = parse_lsblk(LSBLK_LVM_ON_LUKS, ["/", "/var", "/var/lib/novacron", "/home", "[SWAP]"])
    # /var/lib/novacron lives on /var; /home on / — each filesystem is reported once.
    assert by_path(disks) == {
        "/": ("vg0-root", True),
        "/var": ("vg0-var", True),
        "[SWAP]": ("vg0-swap_1", True),
    }
    assert disks.paths[0].via == "nvme0n1p3 (crypto_LUKS)"
    assert disks.unencrypted == ()


def test_mixed_server_finds_the_plain_root_and_ignores_zram() -> None:
    disks = parse_lsblk(
        LSBLK_SERVER_MIXED, ["/", "/var/lib/novacron", "/var/lib/novacron/disks", "[SWAP]"]
    )
    assert by_path(disks) == {"/": ("md0", False), "/var/lib/novacron": ("vms", True)}
    assert [p.path for p in disks.unencrypted] == ["/"]
    assert disks.paths[1].via == "data-vms (crypto_LUKS)"


def test_mountpoints_list_format_and_plain_swap() -> None:
    disks = parse_lsblk(LSBLK_MOUNTPOINTS_LIST, ["/", "/home", "/home/ops", "[SWAP]"])
    assert by_path(disks) == {
        "/": ("vda1", False),
        "/home": ("vda1", False),
        "[SWAP]": ("vda2", False),
    }


def test_path_on_a_filesystem_lsblk_does_not_show_is_unknown() -> None:
    tree = json.dumps({"blockdevices": [{"name": "sda", "type": "disk", "children": []}]})
    disks = parse_lsblk(tree, ["/"])
    assert by_path(disks) == {"/": (None, None)}
    assert [p.path for p in disks.unknown] == ["/"]


def test_plain_vm_root() -> None:
    assert by_path(parse_lsblk(LSBLK_PLAIN_VM, ["/", "/tmp", "[SWAP]"])) == {"/": ("vda", False)}


def test_collect_disk_encryption_survives_missing_or_failing_lsblk() -> None:
    def missing(argv: Sequence[str]) -> CommandResult:
        raise FileNotFoundError("lsblk")

    def failing(argv: Sequence[str]) -> CommandResult:
        return CommandResult(1, "", "lsblk: failed to access sysfs directory")

    def garbage(argv: Sequence[str]) -> CommandResult:
        return CommandResult(0, "not json", "")

    def canned(argv: Sequence[str]) -> CommandResult:
        assert list(argv) == ["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"]
        return CommandResult(0, LSBLK_LVM_ON_LUKS, "")

    assert collect_disk_encryption(["/"], missing) is None
    assert collect_disk_encryption(["/"], failing) is None
    assert collect_disk_encryption(["/"], garbage) is None
    disks = collect_disk_encryption(["/", "[SWAP]"], canned)
    assert disks is not None and all(p.encrypted for p in disks.paths)


# --- listening ports ------------------------------------------------------------------

Addr = namedtuple("Addr", "ip port")
Conn = namedtuple("Conn", "fd family type laddr raddr status pid")
TCP, UDP, V4, V6 = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.AF_INET, socket.AF_INET6

# As psutil.net_connections(kind="inet") returns them on a hypervisor (trimmed).
CONNECTIONS = [
    Conn(3, V4, TCP, Addr("0.0.0.0", 22), (), "LISTEN", 812),
    Conn(4, V6, TCP, Addr("::", 22), (), "LISTEN", 812),
    Conn(7, V4, TCP, Addr("127.0.0.1", 5432), (), "LISTEN", 640),
    Conn(9, V4, TCP, Addr("0.0.0.0", 9443), (), "LISTEN", 1020),
    Conn(9, V4, TCP, Addr("0.0.0.0", 9443), (), "LISTEN", 1020),  # reported twice (fork)
    Conn(11, V4, TCP, Addr("10.0.0.5", 9443), Addr("10.0.0.1", 51544), "ESTABLISHED", 1020),
    Conn(5, V4, UDP, Addr("0.0.0.0", 68), (), "NONE", 500),
    Conn(-1, V4, TCP, Addr("0.0.0.0", 111), (), "LISTEN", None),  # other user's, no pid
]
NAMES = {812: "sshd", 640: "postgres", 1020: "novacron-agent", 500: "dhclient"}


def test_listening_ports_keeps_tcp_listeners_with_names() -> None:
    ports = listening_ports(CONNECTIONS, NAMES)
    assert ports == (
        ListeningPort("tcp", "0.0.0.0", 22, "sshd", 812),
        ListeningPort("tcp", "::", 22, "sshd", 812),
        ListeningPort("tcp", "0.0.0.0", 111, None, None),
        ListeningPort("tcp", "127.0.0.1", 5432, "postgres", 640),
        ListeningPort("tcp", "0.0.0.0", 9443, "novacron-agent", 1020),
    )
    assert [p.loopback for p in ports] == [False, False, False, True, False]
    assert str(ports[1]) == "[::]:22/tcp (sshd)"


# --- apt ----------------------------------------------------------------------------------

# Captured on Debian 12 (bookworm, now oldstable) with `apt-get -s -o Debug::NoLocking=1
# upgrade`, trimmed to a few packages.
APT_DEBIAN = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
      Keep also in mind that locking is deactivated,
      so don't depend on the relevance to the real current situation!
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  bash libgcrypt20 liblzma5 libpam-modules-bin libssl3 tzdata
6 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Conf bash (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Conf libgcrypt20 (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
Conf liblzma5 (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
Inst libpam-modules-bin [1.5.2-6+deb12u1] (1.5.2-6+deb12u2 Debian:12.15/oldstable [amd64]) [libpam-modules:amd64 on libpam-modules-bin:amd64] [libpam-modules:amd64 ]
Conf libpam-modules-bin (1.5.2-6+deb12u2 Debian:12.15/oldstable [amd64]) [libpam-modules:amd64 ]
Inst libssl3 [3.0.19-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Conf libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Inst tzdata [2025b-0+deb12u2] (2026f-0+deb12u1 Debian-Security:12/oldstable-security [all])
Conf tzdata (2026f-0+deb12u1 Debian-Security:12/oldstable-security [all])
"""  # noqa: E501 (captured verbatim)

# Ubuntu 22.04: updates published in both -updates and -security, a kept-back package,
# an ESM pocket, and a new dependency pulled in (no installed version).
APT_UBUNTU = """Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages have been kept back:
  linux-generic
The following NEW packages will be installed:
  linux-modules-5.15.0-105-generic
The following packages will be upgraded:
  libssl3 openssl python3-urllib3 libtiff5
4 upgraded, 1 newly installed, 0 to remove and 1 not upgraded.
Inst libssl3 [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst openssl [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst python3-urllib3 [1.26.5-1~exp1ubuntu0.1] (1.26.5-1~exp1ubuntu0.2 Ubuntu:22.04/jammy-updates [all])
Inst libtiff5 [4.3.0-6ubuntu0.8] (4.3.0-6ubuntu0.9+esm1 UbuntuESMApps:22.04/jammy-apps-security [amd64])
Inst linux-modules-5.15.0-105-generic (5.15.0-105.115 Ubuntu:22.04/jammy-updates [amd64])
Conf libssl3 (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
"""  # noqa: E501 (captured verbatim)

APT_UP_TO_DATE = """Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
"""


def test_parse_debian_upgrade() -> None:
    updates = {u.package: u for u in parse_apt_upgrade(APT_DEBIAN)}
    assert sorted(updates) == [
        "base-files",
        "bash",
        "libgcrypt20",
        "liblzma5",
        "libpam-modules-bin",
        "libssl3",
        "tzdata",
    ]
    assert sorted(p for p, u in updates.items() if u.security) == [
        "libgcrypt20",
        "liblzma5",
        "libssl3",
        "tzdata",
    ]
    ssl = updates["libssl3"]
    assert (ssl.current, ssl.candidate) == ("3.0.19-1~deb12u2", "3.0.22-1~deb12u2")
    assert ssl.suites == ("Debian-Security:12/oldstable-security",)
    assert updates["libgcrypt20"].suites == (
        "Debian:12.15/oldstable",
        "Debian-Security:12/oldstable-security",
    )
    assert updates["libpam-modules-bin"].candidate == "1.5.2-6+deb12u2"


def test_parse_ubuntu_upgrade() -> None:
    updates = {u.package: u for u in parse_apt_upgrade(APT_UBUNTU)}
    assert {p: u.security for p, u in updates.items()} == {
        "libssl3": True,
        "openssl": True,
        "python3-urllib3": False,
        "libtiff5": True,
        "linux-modules-5.15.0-105-generic": False,
    }
    assert updates["linux-modules-5.15.0-105-generic"].current is None
    assert updates["libtiff5"].candidate == "4.3.0-6ubuntu0.9+esm1"


def test_parse_up_to_date() -> None:
    assert parse_apt_upgrade(APT_UP_TO_DATE) == ()


def test_collect_pending_updates_outcomes() -> None:
    def canned(argv: Sequence[str]) -> CommandResult:
        assert tuple(argv) == APT_UPGRADE
        return CommandResult(0, APT_DEBIAN, "")

    def locked(argv: Sequence[str]) -> CommandResult:
        return CommandResult(100, "", "E: Could not open lock file\nE: Unable to lock directory")

    def slow(argv: Sequence[str]) -> CommandResult:
        raise subprocess.TimeoutExpired(list(argv), 120)

    def found(name: str) -> str | None:
        return f"/usr/bin/{name}"

    known = collect_pending_updates(canned, which=found)
    assert (known.state, known.total, len(known.security)) == ("known", 7, 4)
    absent = collect_pending_updates(canned, which=lambda name: None)
    assert absent == PendingUpdates(
        "unknown", reason="apt-get not found (not a Debian/Ubuntu host)"
    )
    failed = collect_pending_updates(locked, which=found)
    assert (
        failed.state == "unknown"
        and failed.reason == "apt-get exited 100: E: Unable to lock directory"
    )
    timed_out = collect_pending_updates(slow, which=found)
    assert timed_out.state == "unknown" and "timed out" in (timed_out.reason or "")


# --- the real collectors ---------------------------------------------------------------


def real_lsblk_canned_apt(argv: Sequence[str]) -> CommandResult:
    """The real lsblk; apt answered from the Debian capture (the real apt run is slow
    and has its own test below)."""
    if argv[0] == "apt-get":
        return CommandResult(0, APT_DEBIAN, "")
    return run_command(argv)


def test_real_collectors_return_typed_facts() -> None:
    facts = collect_host_facts("this-host", expected_ports=[9443], runner=real_lsblk_canned_apt)
    assert facts.name == "this-host"
    assert facts.agent_version == novacron.__version__
    assert facts.collected_at is not None
    assert facts.expected_ports == (9443,)
    # Each fact is either typed or None ("unknown"), never an exception.
    disks = facts.disk_encryption
    assert disks is None or all(isinstance(p.encrypted, bool | None) for p in disks.paths)
    if shutil.which("lsblk") and disks is not None:
        assert any(p.path == "/" for p in disks.paths)
    ports = facts.listening_ports
    assert ports is None or all(isinstance(p, ListeningPort) and 0 < p.port < 65536 for p in ports)
    assert isinstance(facts.pending_updates, PendingUpdates)


@pytest.mark.slow
def test_real_apt_collector() -> None:
    updates = collect_pending_updates()
    assert updates.state in ("known", "unknown")
    if updates.state == "unknown":
        assert updates.reason
    else:
        assert all(u.package and u.candidate for u in updates.updates)
        assert len(updates.security) <= updates.total


def test_real_listening_ports_include_a_socket_we_open() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        ports = collect_listening_ports()
    if ports is None:
        pytest.skip("psutil cannot list sockets here")
    assert any(p.port == port and p.address == "127.0.0.1" and p.loopback for p in ports)
