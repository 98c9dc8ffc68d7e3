"""Collect a Linux host's compliance facts (run by the agent).

Each fact has a pure parser, tested on captured command output, and a collector
that runs the command. Collectors never raise: a fact they cannot read comes back
as "unknown" (``None`` fields, ``PendingUpdates(state="unknown")``) with a reason,
because a missing tool on one host must not stop the agent reporting the rest.

    parse_lsblk(json_text, paths)        → DiskEncryption
    listening_ports(connections, names)  → tuple[ListeningPort, ...]
    parse_apt_upgrade(text)              → tuple[PendingUpdate, ...]
    collect_host_facts(name, …)          → HostFacts (runs lsblk, psutil, apt-get)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from novacron import __version__
from novacron.core.clock import utcnow
from novacron.security.compliance.facts import (
    DiskEncryption,
    HostFacts,
    ListeningPort,
    PathEncryption,
    PendingUpdate,
    PendingUpdates,
)

log = logging.getLogger(__name__)

DEFAULT_PATHS: tuple[str, ...] = ("/", "/var", "/var/lib/novacron", "/home", "/tmp", "[SWAP]")
"""Where VM disks, images, credentials and swapped-out memory end up by default."""

SWAP = "[SWAP]"
COMMAND_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str]], CommandResult]
"""Runs an argv and returns its result; raises ``FileNotFoundError`` when the program is
missing and ``subprocess.TimeoutExpired`` on timeout. Tests pass a fake."""


def run_command(argv: Sequence[str]) -> CommandResult:
    # LC_ALL=C: the parsers read English keywords ("Inst"), never a translation.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, env=env, check=False
    )
    return CommandResult(proc.returncode, proc.stdout, proc.stderr)


# --- disk encryption (lsblk) ---------------------------------------------------------


@dataclass(frozen=True)
class _Mount:
    mountpoint: str
    device: str
    via: str | None
    """The encrypting ancestor (or the device itself), ``None`` when unencrypted."""


def _is_crypt(node: Mapping[str, Any]) -> bool:
    return node.get("type") == "crypt" or (node.get("fstype") or "").lower() == "crypto_luks"


def _mountpoints(node: Mapping[str, Any]) -> list[str]:
    # util-linux < 2.37 prints "mountpoint"; newer versions with MOUNTPOINTS print a list.
    found = [node.get("mountpoint"), *(node.get("mountpoints") or [])]
    return [m for m in found if isinstance(m, str) and m]


def _walk(nodes: Iterable[Mapping[str, Any]], via: str | None, out: list[_Mount]) -> None:
    for node in nodes:
        name = str(node.get("name", "?"))
        here = via
        if here is None and _is_crypt(node):
            label = "crypt" if node.get("type") == "crypt" else str(node.get("fstype"))
            here = f"{name} ({label})"
        out.extend(_Mount(m, name, here) for m in _mountpoints(node))
        _walk(node.get("children") or [], here, out)


def _mount_for(path: str, mounts: Sequence[_Mount]) -> _Mount | None:
    """The mount holding ``path``: the longest mountpoint that is a prefix of it."""
    best: _Mount | None = None
    for mount in mounts:
        mp = mount.mountpoint
        if mp == SWAP:
            continue
        inside = path == mp or path.startswith(mp.rstrip("/") + "/") or mp == "/"
        if inside and (best is None or len(mp) > len(best.mountpoint)):
            best = mount
    return best


def parse_lsblk(json_text: str, paths: Sequence[str] = DEFAULT_PATHS) -> DiskEncryption:
    """``lsblk -J -o NAME,TYPE,FSTYPE,MOUNTPOINT`` → whether each path sits on dm-crypt.

    A path is encrypted when its mounted device, or any device under it in the tree
    (LVM on LUKS, LUKS on LVM, LUKS on RAID), is a crypt device or a LUKS container.
    A path whose filesystem lsblk does not show (tmpfs, overlay, NFS) is unknown.
    ``[SWAP]`` stands for every swap device; none at all is reported as nothing.
    """
    tree = json.loads(json_text)
    mounts: list[_Mount] = []
    _walk(tree.get("blockdevices") or [], None, mounts)
    result: list[PathEncryption] = []
    for path in paths:
        if path == SWAP:
            result.extend(
                PathEncryption(SWAP, SWAP, m.device, m.via is not None, m.via)
                for m in mounts
                # zram swap is compressed RAM, not a disk that can leave the building.
                if m.mountpoint == SWAP and not m.device.startswith("zram")
            )
            continue
        norm = posixpath.normpath(path)
        mount = _mount_for(norm, mounts)
        if mount is None:
            result.append(PathEncryption(norm, None, None, None))
        else:
            result.append(
                PathEncryption(
                    norm, mount.mountpoint, mount.device, mount.via is not None, mount.via
                )
            )
    # Two paths on one filesystem (/var on /) are reported once, under the first path.
    seen: set[tuple[str | None, str | None]] = set()
    unique = []
    for entry in result:
        key = (entry.mountpoint, entry.device)
        if entry.mountpoint is None or entry.mountpoint == SWAP or key not in seen:
            unique.append(entry)
            seen.add(key)
    return DiskEncryption(tuple(unique))


def collect_disk_encryption(
    paths: Sequence[str] = DEFAULT_PATHS, runner: Runner = run_command
) -> DiskEncryption | None:
    try:
        result = runner(["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"])
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("disk encryption unknown: %s", exc)
        return None
    if result.returncode != 0:
        log.info("disk encryption unknown: lsblk exited %s: %s", result.returncode, result.stderr)
        return None
    try:
        return parse_lsblk(result.stdout, [p for p in paths if p == SWAP or os.path.exists(p)])
    except (ValueError, AttributeError, TypeError) as exc:
        log.info("disk encryption unknown: unreadable lsblk output: %s", exc)
        return None


# --- listening ports (psutil) --------------------------------------------------------


class _Addr(Protocol):
    @property
    def ip(self) -> str: ...

    @property
    def port(self) -> int: ...


class Connection(Protocol):
    """What we read of a ``psutil._common.sconn``."""

    @property
    def type(self) -> int: ...

    @property
    def laddr(self) -> Any: ...

    @property
    def status(self) -> str: ...

    @property
    def pid(self) -> int | None: ...


def listening_ports(
    connections: Iterable[Connection], process_names: Mapping[int, str]
) -> tuple[ListeningPort, ...]:
    """TCP sockets in LISTEN state, with their process name when known, deduplicated
    and sorted. UDP is left out: unconnected client sockets look the same as servers
    and would make the port check flap."""
    ports = set()
    for conn in connections:
        if conn.type != socket.SOCK_STREAM or conn.status != "LISTEN" or not conn.laddr:
            continue
        ip, port = conn.laddr[0], conn.laddr[1]
        name = process_names.get(conn.pid) if conn.pid is not None else None
        ports.add(ListeningPort("tcp", str(ip), int(port), name, conn.pid))
    return tuple(sorted(ports, key=lambda p: (p.port, p.address, p.process or "")))


def collect_listening_ports() -> tuple[ListeningPort, ...] | None:
    import psutil

    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError) as exc:
        log.info("listening ports unknown: %s", exc)
        return None
    names: dict[int, str] = {}
    for conn in conns:
        if conn.pid is not None and conn.pid not in names:
            # The process exited or is not ours to inspect: the port stays nameless.
            with contextlib.suppress(psutil.Error, OSError):
                names[conn.pid] = psutil.Process(conn.pid).name()
    return listening_ports(conns, names)


# --- pending updates (apt) -----------------------------------------------------------

_INST = re.compile(
    r"^Inst\s+(?P<pkg>\S+)"
    r"(?:\s+\[(?P<current>[^\]]*)\])?"
    r"\s+\((?P<candidate>\S+)\s+(?P<origins>[^)]*)\)"
)
_ARCH = re.compile(r"\s*\[[^\]]*\]\s*$")


def _is_security(origin: str) -> bool:
    """``Debian-Security:12/bookworm-security``, ``Ubuntu:22.04/jammy-security``."""
    suite = origin.rsplit("/", 1)[-1].strip().lower()
    return suite.endswith("-security") or origin.lower().startswith("debian-security:")


def parse_apt_upgrade(text: str) -> tuple[PendingUpdate, ...]:
    """``apt-get -s upgrade`` → one entry per ``Inst`` line.

    ``Inst libssl3 [3.0.19-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security
    [amd64]) []``: package, installed version, candidate version and the origins that
    carry it; an update is a security update when any origin is a ``-security`` suite.
    """
    updates = []
    for line in text.splitlines():
        match = _INST.match(line.strip())
        if not match:
            continue
        origins_text = _ARCH.sub("", match.group("origins"))
        origins = tuple(o.strip() for o in origins_text.split(",") if o.strip())
        updates.append(
            PendingUpdate(
                package=match.group("pkg"),
                current=match.group("current") or None,
                candidate=match.group("candidate"),
                suites=origins,
                security=any(_is_security(o) for o in origins),
            )
        )
    return tuple(updates)


APT_UPGRADE = ("apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade")


def collect_pending_updates(
    runner: Runner = run_command, which: Callable[[str], str | None] = shutil.which
) -> PendingUpdates:
    """Simulated upgrade from apt's current lists (no ``apt-get update``: that needs root
    and the network; the distribution's own timer keeps them fresh)."""
    if which("apt-get") is None:
        return PendingUpdates("unknown", reason="apt-get not found (not a Debian/Ubuntu host)")
    try:
        result = runner(APT_UPGRADE)
    except subprocess.TimeoutExpired:
        return PendingUpdates(
            "unknown", reason=f"apt-get timed out after {COMMAND_TIMEOUT_S:.0f} s"
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return PendingUpdates("unknown", reason=f"apt-get could not run: {exc}")
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return PendingUpdates("unknown", reason=f"apt-get exited {result.returncode}: {tail}")
    return PendingUpdates("known", parse_apt_upgrade(result.stdout))


# --- everything ----------------------------------------------------------------------


def collect_host_facts(
    name: str | None = None,
    *,
    paths: Sequence[str] = DEFAULT_PATHS,
    agent_version: str = __version__,
    expected_ports: Sequence[int] = (),
    runner: Runner = run_command,
) -> HostFacts:
    """All facts of this host; slow (apt resolves dependencies): run it in a thread."""
    return HostFacts(
        name=name or socket.gethostname(),
        agent_version=agent_version,
        collected_at=utcnow(),
        disk_encryption=collect_disk_encryption(paths, runner),
        listening_ports=collect_listening_ports(),
        pending_updates=collect_pending_updates(runner),
        expected_ports=tuple(expected_ports),
    )
