"""Live migration over TLS between two QEMU drivers on this machine, with real guests.

Both streams — memory (``migrate``) and the disk mirror (NBD) — cross a ``WanLink``
whose tap sees every byte. A marker the guest holds in memory and on its disk must
never appear on the wire with TLS, and must appear without it (the control that shows
the tap would have caught it). The first bytes show the protocols: the migration
stream is TLS from its first byte (a handshake record, 0x16 0x03) instead of QEMU's
``QEVM`` magic; NBD greets in plaintext (``NBDMAGIC``), the client asks for
``NBD_OPT_STARTTLS`` and then speaks TLS.

Mutual verification: a source whose client certificate comes from another CA is refused
by the destination; the migration rolls back and the guest keeps running on the source.
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
import socket
import ssl
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from novacron.compute.migration import tls
from novacron.compute.migration.policy import Objective, plan_migration
from novacron.core.errors import DriverError
from novacron.hypervisor.base import RUNNING, MigrationProgress
from novacron.hypervisor.qemu import migration
from novacron.hypervisor.qemu.driver import QemuDriver
from novacron.testing.migration import Route, boot, mover_spec, serial_log, start_migration
from novacron.testing.migration import wait_done as migrating_wait
from novacron.testing.qemu import guest_run, heartbeats, wait_for_text
from novacron.testing.wan import WanLink

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

Hosts = tuple[QemuDriver, QemuDriver]
TLS_RECORD = b"\x16\x03"  # a TLS handshake record, any TLS 1.x version
NBD_OPT_STARTTLS = 5


def tls_dir(driver: QemuDriver) -> Path:
    return driver.vms_dir / "vm-1" / migration.TLS_DIR


@dataclass
class Wire:
    """What crossed one link: the first bytes of each connection direction, and whether
    ``marker`` was anywhere in it (searched across chunk boundaries)."""

    marker: bytes
    heads: dict[tuple[int, str], bytearray] = field(default_factory=dict)
    tails: dict[tuple[int, str], bytes] = field(default_factory=dict)
    total: int = 0
    seen: bool = False

    def tap(self, conn: int, direction: str, data: bytes) -> None:
        key = (conn, direction)
        head = self.heads.setdefault(key, bytearray())
        if len(head) < 64:
            head.extend(data[: 64 - len(head)])
        window = self.tails.get(key, b"") + data
        if self.marker in window:
            self.seen = True
        self.tails[key] = window[-(len(self.marker) - 1) :]
        self.total += len(data)


@dataclass
class Links:
    memory: Wire
    disk: Wire
    _links: list[WanLink] = field(default_factory=list)

    def route(self, target: dict[str, Any]) -> dict[str, Any]:
        """The target with both streams sent through their tapped links (same host: the
        TLS name in the destination's certificate still matches)."""
        mem_link = WanLink(name="mem", tap=self.memory.tap).start()
        disk_link = WanLink(name="nbd", tap=self.disk.tap).start()
        self._links += [mem_link, disk_link]
        host, port = target["uri"].removeprefix("tcp:").rsplit(":", 1)
        routed = {**target, "uri": f"tcp:{host}:{mem_link.forward(host, int(port))}"}
        nbd = target["nbd"]
        routed["nbd"] = {**nbd, "port": disk_link.forward(nbd["host"], int(nbd["port"]))}
        return routed

    def close(self) -> None:
        for link in self._links:
            link.close()


async def put_marker(driver: QemuDriver, marker: str) -> None:
    """The marker in the guest's page cache (memory) and on its disk (the overlay)."""
    command = (
        f"i=0; while [ $i -lt 400 ]; do echo {marker}; i=$((i+1)); done > /data/marker.txt; "
        "sync; wc -l /data/marker.txt"
    )
    out = await asyncio.to_thread(guest_run, driver.serial_socket("vm-1"), command)
    assert "400" in out, out


async def migrate(
    src: QemuDriver, dst: QemuDriver, *, use_tls: bool, via: Route | None = None
) -> dict[str, Any]:
    spec = src._get("vm-1").spec
    quiet = Objective(allow_postcopy=False)
    return await start_migration(src, dst, spec, objective=quiet, via=via, tls=use_tls)


async def wait_done(src: QemuDriver, timeout_s: float = 120.0) -> MigrationProgress:
    return await migrating_wait(src, "vm-1", timeout_s)


async def hand_over(src: QemuDriver, dst: QemuDriver) -> None:
    progress = await wait_done(src)
    assert progress.status == "completed", progress.error
    info = await dst.finish_migration("vm-1", source=False)
    assert info is not None and info.power_state == RUNNING and not info.migrating
    assert await src.finish_migration("vm-1", source=True) is None


async def counting_on(driver: QemuDriver) -> None:
    last = max(heartbeats(serial_log(driver).read_text(errors="replace")) or [0])
    await asyncio.to_thread(wait_for_text, serial_log(driver), f"NOVACRON-HB {last + 2}")


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}


def test_tls_migration_encrypts_both_streams_and_plain_is_plain_again(
    make_hosts: Callable[[], Hosts],
) -> None:
    a, b = make_hosts()
    marker = f"NOVACRON-TLS-MARKER-{secrets.token_hex(12)}"
    encrypted = Links(Wire(marker.encode()), Wire(marker.encode()))
    clear = Links(Wire(marker.encode()), Wire(marker.encode()))

    async def scenario() -> None:
        await boot(a, b)
        await put_marker(a, marker)

        # a → b over TLS.
        target = await migrate(a, b, use_tls=True, via=encrypted.route)
        assert set(target["tls"]) == {"ca_cert", "client_cert", "hostname"}
        assert "PRIVATE" not in str(target)  # no key crossed from the destination
        assert modes(tls_dir(a)) == {
            tls.CLIENT_KEY: 0o600,
            tls.CLIENT_CERT: 0o600,
            tls.CA_CERT: 0o600,
        }
        assert modes(tls_dir(b)) == {
            tls.SERVER_KEY: 0o600,
            tls.SERVER_CERT: 0o600,
            tls.CA_CERT: 0o600,
        }
        assert stat.S_IMODE(tls_dir(b).stat().st_mode) == 0o700
        await hand_over(a, b)
        await counting_on(b)
        out = await asyncio.to_thread(
            guest_run, b.serial_socket("vm-1"), "grep -c NOVACRON-TLS-MARKER /data/marker.txt"
        )
        assert "400" in out, out  # the disk came along intact
        assert not tls_dir(b).exists()  # credentials gone from disk…
        proc = b._get("vm-1").proc
        assert proc is not None
        assert not await migration.has_tls_creds(proc)  # …and from QEMU
        params = await proc.execute("query-migrate-parameters")
        assert params.get("tls-creds") == ""

        # b → a in the clear: the QEMU that received over TLS sends plain TCP now.
        await migrate(b, a, use_tls=False, via=clear.route)
        await hand_over(b, a)
        await counting_on(a)
        await a.destroy("vm-1")

    try:
        asyncio.run(scenario())
    finally:
        encrypted.close()
        clear.close()

    # The control: without TLS the marker crosses both links, QEMU's magic opens the
    # stream and NBD never starts TLS.
    assert clear.memory.seen and clear.disk.seen
    assert bytes(clear.memory.heads[(1, "up")]).startswith(b"QEVM")
    assert bytes(clear.disk.heads[(1, "down")]).startswith(b"NBDMAGIC")
    assert TLS_RECORD not in bytes(clear.disk.heads[(1, "up")])

    # With TLS: megabytes crossed, the marker never did.
    assert encrypted.memory.total > 20 * 1024 * 1024, encrypted.memory.total
    assert encrypted.disk.total > 0
    assert not encrypted.memory.seen, "guest memory crossed the link in the clear"
    assert not encrypted.disk.seen, "the guest's disk crossed the link in the clear"
    for (_conn, direction), head in encrypted.memory.heads.items():
        assert bytes(head[:2]) == TLS_RECORD, (direction, bytes(head[:16]))
    for conn in {c for c, _ in encrypted.disk.heads}:
        down, up = (
            bytes(encrypted.disk.heads[(conn, "down")]),
            bytes(encrypted.disk.heads[(conn, "up")]),
        )
        assert down.startswith(b"NBDMAGIC")  # the plaintext greeting…
        assert up[4:12] == b"IHAVEOPT"  # …then the client's first option is STARTTLS
        assert int.from_bytes(up[12:16], "big") == NBD_OPT_STARTTLS
        assert up[20:22] == TLS_RECORD, up[:24]  # and its next bytes a TLS ClientHello


def test_a_source_with_a_client_certificate_of_another_ca_is_refused(
    make_hosts: Callable[[], Hosts],
) -> None:
    a, b = make_hosts()

    async def scenario() -> None:
        await boot(a, b)
        # Asked for TLS, offered none: refused before anything moves.
        facts = await a.prepare_outgoing("vm-1", {"tls": True})
        with pytest.raises(DriverError, match="refusing to migrate in the clear"):
            await a.migrate("vm-1", {"uri": "tcp:127.0.0.1:1", "nbd": None}, {"tls": True})
        assert not (await a.get_vm("vm-1")).migrating

        facts = await a.prepare_outgoing("vm-1", {"tls": True})
        plan = plan_migration(Objective(), facts["ram_bytes"], facts["dirty_rate_bps"])
        spec = a._get("vm-1").spec
        target = await b.prepare_incoming(spec, {**facts, "plan": plan.as_dict()})
        # The source's own key, certified by a CA the destination never heard of. The
        # source trusts that CA too, so its QEMU accepts its credentials and the
        # server's certificate: it is the destination that must say no. (GnuTLS does
        # not even present a certificate whose issuer the server did not ask for.)
        other = tls.issue(facts["tls_csr"], target["tls"]["hostname"])
        target["tls"] = {
            **target["tls"],
            "client_cert": other.client_cert_pem,
            "ca_cert": target["tls"]["ca_cert"] + other.ca_cert_pem,
        }
        await a.migrate("vm-1", target, {"plan": plan.as_dict(), "tls": True})
        progress = await wait_done(a, timeout_s=60)
        assert progress.status == "failed", progress
        assert "TLS" in str(progress.error), progress.error
        assert progress.disk_transferred_bytes == 0 and progress.transferred_bytes == 0
        dest_log = (b.vms_dir / "vm-1" / "qemu.log").read_text(errors="replace")
        assert "Verify failed: No certificate was found" in dest_log, dest_log
        await a.rollback_migration("vm-1", source=True)
        await b.rollback_migration("vm-1", source=False)
        assert not (b.vms_dir / "vm-1").exists()
        assert not tls_dir(a).exists()
        info = await a.get_vm("vm-1")
        assert info.power_state == RUNNING and not info.migrating
        proc = a._get("vm-1").proc
        assert proc is not None and not await migration.has_tls_creds(proc)
        await counting_on(a)
        await a.destroy("vm-1")

    asyncio.run(scenario())


# -- the destination's NBD export, spoken to directly ------------------------------------

NBD_REPLY_MAGIC = 0x3E889045565A9
NBD_OPT_LIST = 3
NBD_REP_ACK, NBD_REP_SERVER = 1, 2
NBD_REP_ERR_TLS_REQD = 2**31 + 5


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the NBD server closed the connection")
        data += chunk
    return data


def _option(sock: socket.socket, option: int) -> list[tuple[int, bytes]]:
    """Send an NBD option; its replies up to the final one (type, data)."""
    sock.sendall(b"IHAVEOPT" + struct.pack(">II", option, 0))
    replies = []
    while True:
        magic, opt, kind, length = struct.unpack(">QIII", _recv(sock, 20))
        assert magic == NBD_REPLY_MAGIC and opt == option
        replies.append((kind, _recv(sock, length)))
        if kind != NBD_REP_SERVER:
            return replies


def nbd_exports(port: int, context: ssl.SSLContext) -> list[str]:
    """Negotiate NBD with the destination's export as QEMU's client does (plaintext
    greeting, then ``NBD_OPT_STARTTLS``) and list its exports over TLS."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        assert _recv(raw, 18)[:16] == b"NBDMAGICIHAVEOPT"
        raw.sendall(struct.pack(">I", 3))  # fixed newstyle, no zeroes
        # Before TLS the server refuses everything else.
        [(kind, _text)] = _option(raw, NBD_OPT_LIST)
        assert kind == NBD_REP_ERR_TLS_REQD, kind
        assert _option(raw, NBD_OPT_STARTTLS) == [(NBD_REP_ACK, b"")]
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            replies = _option(sock, NBD_OPT_LIST)
    assert replies[-1][0] == NBD_REP_ACK, replies
    return [data[4 : 4 + struct.unpack(">I", data[:4])[0]].decode() for _, data in replies[:-1]]


def forged_client_cert(real_ca_pem: str, public: ec.EllipticCurvePublicKey) -> str:
    """A client certificate for ``public`` whose issuer NAME is the real CA's but which
    another key signed: presented as the real thing, refused on its signature."""
    real = x509.load_pem_x509_certificate(real_ca_pem.encode())
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "forger")]))
        .issuer_name(real.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    return leaf.public_bytes(serialization.Encoding.PEM).decode()


def test_the_destination_export_accepts_only_its_own_client_certificate(
    make_hosts: Callable[[], Hosts], tmp_path: Path
) -> None:
    """A TLS client that does present a certificate — a forgery naming the real CA, or
    none at all — is refused by the destination's NBD server; the genuine one lists the
    export. Before STARTTLS the server answers nothing but "TLS required"."""
    a, b = make_hosts()
    source = tls.client_request("vm-1")
    key = serialization.load_pem_private_key(source.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)

    def context(ca_cert: str, cert: str | None) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=ca_cert)
        if cert is not None:
            d = tmp_path / secrets.token_hex(4)
            tls.write_private(d, {"cert.pem": cert, "key.pem": source.key_pem})
            ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
        return ctx

    async def scenario() -> None:
        await b.open()
        options = {"uuid": "11111111-2222-3333-4444-555555555555", "tls_csr": source.csr_pem}
        target = await b.prepare_incoming(mover_spec(a), {**options, "plan": {}})
        offered, port = target["tls"], int(target["nbd"]["port"])
        try:
            forged = forged_client_cert(offered["ca_cert"], key.public_key())
            for cert in (forged, None):
                with pytest.raises((OSError, ssl.SSLError)):
                    await asyncio.to_thread(nbd_exports, port, context(offered["ca_cert"], cert))
            genuine = context(offered["ca_cert"], offered["client_cert"])
            assert await asyncio.to_thread(nbd_exports, port, genuine) == ["disk0"]
            log = (b.vms_dir / "vm-1" / "qemu.log").read_text(errors="replace")
            assert "The certificate is not trusted" in log, log  # the forgery
            assert "Verify failed: No certificate was found" in log, log  # no certificate
        finally:
            await b.rollback_migration("vm-1", source=False)
        assert not (b.vms_dir / "vm-1").exists()

    asyncio.run(scenario())
