"""``vm create`` options that become structured fields: ``--port``, ``--bridge``,
``--ssh-key``, ``--user-data``, ``--hostname``; and how ``vm show`` prints them back
(``render_vm``).

Parsing is checked before any request: a bad value is one ``error:`` line and nothing
is sent. The server validates again (ranges, duplicates, sizes) and says why in its own
words.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from novacron.core.cli_support import CLIContext, render
from novacron.core.errors import NovaCronError

RESTART_POLICIES = ("never", "on-failure", "always")
PROTOCOLS = ("tcp", "udp")
PORT_SYNTAX = "expected [ADDR:]HOST:GUEST[/tcp|/udp], e.g. 8080:80 or 127.0.0.1:5353:53/udp"
# A public key line as ssh-keygen writes it: type, base64 key, optional comment.
SSH_PUBLIC_KEY = re.compile(
    r"^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-\S+|sk-\S+@openssh\.com)\s+[A-Za-z0-9+/]+=*(\s|$)"
)


def _port(text: str, raw: str, which: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise NovaCronError(f"invalid --port {raw!r}: {which} port {text!r} is not 1-65535")
    return int(text)


def parse_port(raw: str) -> dict[str, Any]:
    """``8080:80`` → ``{"host_port": 8080, "guest_port": 80, "proto": "tcp"}``;
    ``0.0.0.0:5353:53/udp`` also sets ``host_addr`` (the server's default is 127.0.0.1)."""
    spec, _, proto = raw.strip().partition("/")
    proto = proto.lower() or "tcp"
    if proto not in PROTOCOLS:
        raise NovaCronError(f"invalid --port {raw!r}: protocol must be tcp or udp")
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise NovaCronError(f"invalid --port {raw!r}: {PORT_SYNTAX}")
    out: dict[str, Any] = {
        "host_port": _port(parts[-2], raw, "host"),
        "guest_port": _port(parts[-1], raw, "guest"),
        "proto": proto,
    }
    if len(parts) == 3:
        try:
            out["host_addr"] = str(ipaddress.IPv4Address(parts[0]))
        except ValueError:
            raise NovaCronError(
                f"invalid --port {raw!r}: {parts[0]!r} is not an IPv4 address"
            ) from None
    return out


def network_body(ports: Sequence[str] | None, bridge: str | None) -> dict[str, Any] | None:
    """The request's ``network``, or None to leave the server's default (user mode)."""
    forwards = [parse_port(raw) for raw in ports or []]
    if bridge is not None:
        if forwards:
            raise NovaCronError(
                "--port forwards need user-mode networking: drop them or drop --bridge"
            )
        return {"mode": "bridge", "bridge": bridge}
    if forwards:
        return {"mode": "user", "forwards": forwards}
    return None


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NovaCronError(f"invalid {option} {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise NovaCronError(f"invalid {option} {str(path)!r}: is a directory") from None
    except UnicodeDecodeError:
        raise NovaCronError(f"invalid {option} {str(path)!r}: not UTF-8 text") from None
    except OSError as exc:
        raise NovaCronError(f"cannot read {option} {str(path)!r}: {exc.strerror}") from None


def ssh_keys(values: Sequence[str] | None) -> list[str]:
    """Each ``--ssh-key`` is a public key, or a file of them (one per line, ``#`` comments
    and blank lines skipped, like ``authorized_keys``)."""
    keys: list[str] = []
    for raw in values or []:
        value = raw.strip()
        if SSH_PUBLIC_KEY.match(value):
            keys.append(value)
            continue
        path = Path(value).expanduser()
        if not path.exists():
            raise NovaCronError(
                f"invalid --ssh-key {raw!r}: no such file, and not an SSH public key"
            )
        text = _read_text(path, "--ssh-key")
        found = [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not found:
            raise NovaCronError(f"invalid --ssh-key {raw!r}: the file holds no SSH public key")
        if not all(SSH_PUBLIC_KEY.match(line) for line in found):
            hint = ": that is a private key, give its .pub" if "PRIVATE KEY" in text else ""
            raise NovaCronError(f"invalid --ssh-key {raw!r}: not a file of SSH public keys{hint}")
        keys.extend(found)
    return keys


def cloud_init_body(
    keys: Sequence[str] | None, user_data: Path | None, hostname: str | None
) -> dict[str, Any] | None:
    """The request's ``cloud_init``, or None when no option asks for one."""
    body: dict[str, Any] = {}
    if hostname is not None:
        body["hostname"] = hostname
    if keys:
        body["ssh_authorized_keys"] = ssh_keys(keys)
    if user_data is not None:
        body["user_data"] = _read_text(user_data, "--user-data")
    return body or None


# -- showing them ------------------------------------------------------------------------------


def fmt_forward(fwd: dict[str, Any]) -> str:
    """``127.0.0.1:8080->80/tcp`` (as ``docker ps`` writes them)."""
    addr = fwd.get("host_addr") or "127.0.0.1"
    return f"{addr}:{fwd.get('host_port')}->{fwd.get('guest_port')}/{fwd.get('proto') or 'tcp'}"


def fmt_network(network: dict[str, Any] | None) -> str:
    network = network or {}
    if network.get("mode") == "bridge":
        return f"bridge {network.get('bridge') or '(host default)'}"
    return "user-mode NAT"


def vm_for_table(vm: dict[str, Any]) -> dict[str, Any]:
    """The VM with ``network`` spelt out and its port forwards as a row of their own."""
    out: dict[str, Any] = {}
    for key, value in vm.items():
        if key == "network" and isinstance(value, dict):
            out["network"] = fmt_network(value)
            forwards = [f for f in value.get("forwards") or [] if isinstance(f, dict)]
            out["ports"] = ", ".join(fmt_forward(f) for f in forwards)
        else:
            out[key] = value
    return out


def render_vm(cli: CLIContext, vm: dict[str, Any]) -> None:
    """A VM as the API returned it (JSON), or with its network spelt out (table)."""
    render(cli, vm if cli.json else vm_for_table(vm))
