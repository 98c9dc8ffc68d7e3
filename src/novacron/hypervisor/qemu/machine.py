"""The QEMU command line, generated from a machine description by pure code.

``build_argv(config)`` is the single place that knows QEMU's options; golden tests in
``tests/hypervisor/qemu/golden/`` pin its output for representative VMs, as Proxmox's
cfg2cmd tests do. No I/O here: paths are taken as given.

Choices, and why:

- ``-M pc`` (i440fx): boots fastest under TCG, has ACPI (graceful power-off) and an
  IDE bus for the cloud-init CD-ROM.
- ``-blockdev`` with node names (``disk0``, ``seed0``): block jobs, snapshots and the
  storage migration to come refer to nodes by name. The qcow2 node opens its backing
  chain (the image) from the overlay's header.
- Serial port on a socket chardev with a log file: the log is the VM's console
  history whether or not anyone is attached; the socket takes typed input.
- ``-pidfile`` and a QMP socket per VM let a restarted agent re-attach.
- ``-device pvpanic``: a guest kernel panic becomes a ``GUEST_PANICKED`` event.
- KVM guests get ``-cpu host``; TCG guests the portable ``qemu64`` model.
- ``-sandbox on,…``: seccomp denies QEMU obsolete syscalls, privilege changes, spawning
  processes and resource-control calls, so a guest that escapes into QEMU gets less.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

QEMU_SYSTEM = "qemu-system-x86_64"
ACCELERATORS = ("kvm", "tcg")


@dataclass(frozen=True)
class PortForward:
    """Host ``host_addr:host_port`` → guest ``guest_port`` (user-mode networking only)."""

    host_port: int
    guest_port: int
    proto: str = "tcp"
    host_addr: str = "127.0.0.1"


@dataclass(frozen=True)
class Nic:
    """One virtio NIC: user-mode (``mode="user"``) or a tap device on a host bridge."""

    mac: str
    mode: str = "user"
    forwards: tuple[PortForward, ...] = ()
    tap: str | None = None
    """Bridge mode: the tap device, created and attached to the bridge beforehand."""


@dataclass(frozen=True)
class MachineConfig:
    vm_id: str
    name: str
    uuid: str
    vcpus: int
    memory_mib: int
    accel: str
    qmp_socket: Path
    serial_socket: Path
    serial_log: Path
    pidfile: Path
    disk: Path | None = None
    disk_format: str = "qcow2"
    kernel: Path | None = None
    initrd: Path | None = None
    cmdline: str = ""
    seed_iso: Path | None = None
    nics: tuple[Nic, ...] = ()
    machine: str = "pc"
    loadvm: str | None = None
    """Start from this internal snapshot (with its RAM state)."""
    incoming: str | None = None
    """Wait for an incoming migration (``defer`` or a URI) instead of booting."""
    extra_args: tuple[str, ...] = field(default_factory=tuple)


def build_argv(config: MachineConfig, binary: str = QEMU_SYSTEM) -> list[str]:
    """The exact argv that runs ``config``."""
    if config.accel not in ACCELERATORS:
        raise ValueError(f"unknown accelerator {config.accel!r}")
    argv = [
        binary,
        "-name",
        f"guest={_opt(config.name)},debug-threads=on",
        "-uuid",
        config.uuid,
        "-machine",
        config.machine,
        *_accel(config.accel),
        "-smp",
        str(config.vcpus),
        "-m",
        f"{config.memory_mib}M",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-pidfile",
        str(config.pidfile),
        "-qmp",
        f"unix:{_opt(str(config.qmp_socket))},server=on,wait=off",
        "-chardev",
        (
            f"socket,id=serial0,path={_opt(str(config.serial_socket))},server=on,wait=off,"
            f"logfile={_opt(str(config.serial_log))},logappend=on"
        ),
        "-serial",
        "chardev:serial0",
        "-device",
        "pvpanic",
        "-sandbox",
        "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    ]
    argv += _kernel(config)
    if config.disk is not None:
        argv += _disk(config.disk, config.disk_format)
    if config.seed_iso is not None:
        argv += _seed(config.seed_iso)
    for index, nic in enumerate(config.nics):
        argv += _nic(index, nic)
    if config.loadvm:
        argv += ["-loadvm", config.loadvm]
    if config.incoming:
        argv += ["-incoming", config.incoming]
    argv += list(config.extra_args)
    return argv


def _opt(value: str) -> str:
    """Escape a value inside QEMU's ``key=value,…`` syntax (a comma is written twice)."""
    return value.replace(",", ",,")


def _accel(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "qemu64"]


def _kernel(config: MachineConfig) -> list[str]:
    if config.kernel is None:
        return []
    out = ["-kernel", str(config.kernel)]
    if config.initrd is not None:
        out += ["-initrd", str(config.initrd)]
    if config.cmdline:
        out += ["-append", config.cmdline]
    return out


def _blockdev(spec: dict[str, object]) -> list[str]:
    # JSON syntax: no escaping of commas in file names.
    return ["-blockdev", json.dumps(spec, separators=(",", ":"))]


def _disk(path: Path, fmt: str) -> list[str]:
    file_node = {"driver": "file", "filename": str(path), "discard": "unmap"}
    return [
        *_blockdev({"driver": fmt, "node-name": "disk0", "discard": "unmap", "file": file_node}),
        "-device",
        "virtio-blk-pci,drive=disk0,id=virtio-disk0,bootindex=1",
    ]


def _seed(path: Path) -> list[str]:
    file_node = {"driver": "file", "filename": str(path), "read-only": True}
    return [
        *_blockdev({"driver": "raw", "node-name": "seed0", "read-only": True, "file": file_node}),
        "-device",
        "ide-cd,drive=seed0,id=cidata0",
    ]


def _nic(index: int, nic: Nic) -> list[str]:
    netdev_id = f"net{index}"
    if nic.mode == "user":
        netdev = f"user,id={netdev_id}"
        for fwd in nic.forwards:
            netdev += f",hostfwd={fwd.proto}:{fwd.host_addr}:{fwd.host_port}-:{fwd.guest_port}"
    elif nic.mode == "bridge":
        if not nic.tap:
            raise ValueError("a bridged NIC needs its tap device")
        netdev = f"tap,id={netdev_id},ifname={nic.tap},script=no,downscript=no"
    else:
        raise ValueError(f"unknown NIC mode {nic.mode!r}")
    return [
        "-netdev",
        netdev,
        "-device",
        f"virtio-net-pci,netdev={netdev_id},mac={nic.mac},id=nic{index}",
    ]
