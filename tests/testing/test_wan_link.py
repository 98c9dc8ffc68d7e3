"""WanLink: bytes intact, shared rate, latency, set_rate, cuts, counters, close."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from novacron.testing.wan import WanLink

MIB = 1024 * 1024
RATE = 4 * MIB


class _Server:
    """A threaded TCP server on 127.0.0.1; ``handle`` runs in a thread per connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._guard, args=(conn,), daemon=True).start()

    def _guard(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


class EchoServer(_Server):
    """Echoes everything; on EOF it half-closes its side too. Counts ended connections."""

    def __init__(self) -> None:
        self.ended: list[str] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        try:
            while data := conn.recv(256 * 1024):
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            self.ended.append("eof")
        except OSError as exc:
            self.ended.append(type(exc).__name__)


@dataclass
class Received:
    count: int = 0
    eof_at: float | None = None
    digest: Any = field(default_factory=hashlib.sha256)


class SinkServer(_Server):
    """Reads and hashes everything; records when each connection ended."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        record = Received()
        self.received.append(record)
        buf = bytearray(256 * 1024)
        while n := conn.recv_into(buf):
            record.digest.update(memoryview(buf)[:n])
            record.count += n
        record.eof_at = time.monotonic()

    def total(self) -> int:
        return sum(r.count for r in self.received)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    server = SinkServer()
    yield server
    server.close()


@pytest.fixture
def make_link() -> Iterator[Callable[..., WanLink]]:
    links: list[WanLink] = []

    def make(**kwargs: Any) -> WanLink:
        link = WanLink(**kwargs).start()
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def send_all_then_eof(sock: socket.socket, payload: bytes) -> threading.Thread:
    def run() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def recv_until_eof(sock: socket.socket) -> bytes:
    chunks = []
    while data := sock.recv(256 * 1024):
        chunks.append(data)
    return b"".join(chunks)


def round_trip(sock: socket.socket, message: bytes = b"ping") -> bytes:
    sock.sendall(message)
    got = b""
    while len(got) < len(message):
        data = sock.recv(len(message) - len(got))
        assert data, "EOF during round trip"
        got += data
    return got


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("latency_ms", [0.0, 5.0])
def test_bytes_arrive_intact_both_ways_and_half_close_propagates(
    make_link: Callable[..., WanLink], echo: EchoServer, latency_ms: float
) -> None:
    link = make_link(latency_ms=latency_ms)
    port = link.forward("127.0.0.1", echo.port)
    payload = os.urandom(6 * MIB)
    with connect(port) as sock:
        sender = send_all_then_eof(sock, payload)
        echoed = recv_until_eof(sock)  # EOF only comes after the echo server saw ours
        sender.join(10)
    assert len(echoed) == len(payload)
    assert sha(echoed) == sha(payload)
    wait_for(lambda: echo.ended == ["eof"])


def test_rate_limits_a_transfer(make_link: Callable[..., WanLink], sink: SinkServer) -> None:
    link = make_link(rate_bytes_per_s=RATE)
    port = link.forward("127.0.0.1", sink.port)
    payload = os.urandom(4 * MIB)
    with connect(port) as sock:
        start = time.monotonic()
        send_all_then_eof(sock, payload).join(20)
        wait_for(lambda: bool(sink.received) and sink.received[0].eof_at is not None, 20)
    record = sink.received[0]
    assert record.eof_at is not None
    rate = record.count / (record.eof_at - start)
    assert 0.8 * RATE <= rate <= 1.2 * RATE, f"{rate / MIB:.2f} MiB/s"
    assert record.digest.hexdigest() == sha(payload)


def test_forwards_share_one_budget(make_link: Callable[..., WanLink], sink: SinkServer) -> None:
    link = make_link(rate_bytes_per_s=RATE)
    ports = [link.forward("127.0.0.1", sink.port), link.forward("127.0.0.1", sink.port)]
    each = 2 * MIB
    socks = [connect(port) for port in ports]
    start = time.monotonic()
    senders = [send_all_then_eof(sock, os.urandom(each)) for sock in socks]
    wait_for(lambda: len(sink.received) == 2 and all(r.eof_at for r in sink.received), 20)
    for sender in senders:
        sender.join(10)
    for sock in socks:
        sock.close()
    ends = [r.eof_at - start for r in sink.received if r.eof_at is not None]
    total_rate = 2 * each / max(ends)
    assert 0.8 * RATE <= total_rate <= 1.2 * RATE, f"total {total_rate / MIB:.2f} MiB/s"
    for end in ends:  # each got about half: neither finished in the other's share of time
        assert 0.3 * RATE <= each / end <= 0.7 * RATE, f"{each / end / MIB:.2f} MiB/s"


def test_set_rate_changes_rate_mid_transfer(
    make_link: Callable[..., WanLink], sink: SinkServer
) -> None:
    link = make_link(rate_bytes_per_s=RATE)
    port = link.forward("127.0.0.1", sink.port)
    with connect(port) as sock:
        send_all_then_eof(sock, os.urandom(6 * MIB))
        wait_for(lambda: sink.total() >= MIB)
        slow = 1 * MIB
        link.set_rate(slow)
        time.sleep(0.2)
        before, t0 = sink.total(), time.monotonic()
        time.sleep(1.0)
        rate = (sink.total() - before) / (time.monotonic() - t0)
        assert 0.8 * slow <= rate <= 1.2 * slow, f"{rate / MIB:.2f} MiB/s"
        link.set_rate(None)
        wait_for(lambda: sink.received[0].eof_at is not None, 10)
    assert sink.received[0].count == 6 * MIB


def test_latency_delays_each_direction(make_link: Callable[..., WanLink], echo: EchoServer) -> None:
    link = make_link(latency_ms=50.0)
    port = link.forward("127.0.0.1", echo.port)
    with connect(port) as sock:
        round_trip(sock, b"warm-up")
        start = time.monotonic()
        assert round_trip(sock, b"ping") == b"ping"
        elapsed = time.monotonic() - start
    assert 0.1 <= elapsed < 2.0, elapsed


def _recv_outcome(sock: socket.socket) -> str:
    """What a blocked recv sees: "eof", "reset", or "timeout"."""
    try:
        return "eof" if sock.recv(1024) == b"" else "data"
    except (ConnectionResetError, ConnectionAbortedError):
        return "reset"
    except TimeoutError:
        return "timeout"


def test_cut_reset_breaks_connections_and_refuses_new_ones_until_restore(
    make_link: Callable[..., WanLink], echo: EchoServer
) -> None:
    link = make_link()
    port = link.forward("127.0.0.1", echo.port)
    sock = connect(port, timeout=5.0)
    round_trip(sock)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_recv_outcome(sock)), daemon=True)
    reader.start()
    time.sleep(0.1)  # the recv is blocked now
    start = time.monotonic()
    link.cut("reset")
    reader.join(5)
    assert outcome and outcome[0] in ("eof", "reset"), outcome
    assert time.monotonic() - start < 1.0
    sock.close()
    wait_for(lambda: len(echo.ended) == 1, 5)  # the target side was closed too

    start = time.monotonic()
    try:
        with connect(port, timeout=5.0) as fresh:
            assert _recv_outcome(fresh) in ("eof", "reset")
    except (ConnectionRefusedError, ConnectionResetError):
        pass
    assert time.monotonic() - start < 1.0

    link.restore()
    with connect(port) as again:
        assert round_trip(again) == b"ping"


def test_cut_blackhole_stalls_but_keeps_sockets_open(
    make_link: Callable[..., WanLink], sink: SinkServer
) -> None:
    link = make_link(rate_bytes_per_s=MIB)
    port = link.forward("127.0.0.1", sink.port)
    sock = connect(port)
    sender = send_all_then_eof(sock, bytes(32 * MIB))  # more than kernel buffers hold
    wait_for(lambda: sink.total() >= 256 * 1024)
    link.cut("blackhole")
    time.sleep(0.3)  # what had crossed the link before the cut drains out of buffers
    stalled_at = sink.total()
    time.sleep(1.0)
    assert sink.total() == stalled_at
    assert stalled_at < 4 * MIB
    assert sender.is_alive(), "the sender should hang, not fail"
    assert sink.received[0].eof_at is None, "the target should see no EOF"

    with connect(port, timeout=0.5) as fresh:  # accepted into nowhere
        fresh.sendall(b"hello")
        assert _recv_outcome(fresh) == "timeout"
    assert sink.accepted == 1

    link.close()  # ends the hung peers
    sender.join(5)
    assert not sender.is_alive()
    sock.close()


def test_bytes_forwarded_counts_each_direction(
    make_link: Callable[..., WanLink], echo: EchoServer
) -> None:
    link = make_link()
    port = link.forward("127.0.0.1", echo.port)
    assert link.bytes_forwarded == {"up": 0, "down": 0}
    for size in (100_000, 23):
        with connect(port) as sock:
            payload = os.urandom(size)
            send_all_then_eof(sock, payload)
            assert recv_until_eof(sock) == payload
    wait_for(lambda: link.bytes_forwarded == {"up": 100_023, "down": 100_023})


def test_tap_sees_every_delivered_byte_per_connection_and_direction(
    make_link: Callable[..., WanLink], echo: EchoServer
) -> None:
    seen: dict[tuple[int, str], bytearray] = {}

    def tap(conn_id: int, direction: str, data: bytes) -> None:
        seen.setdefault((conn_id, direction), bytearray()).extend(data)
        if data.startswith(b"boom"):
            raise RuntimeError("a faulty tap must not break the link")

    link = make_link(tap=tap)
    port = link.forward("127.0.0.1", echo.port)
    payloads = [os.urandom(300_000), b"boom, then more"]
    for payload in payloads:
        with connect(port) as sock:
            send_all_then_eof(sock, payload)
            assert recv_until_eof(sock) == payload
    wait_for(lambda: sum(len(v) for v in seen.values()) == 2 * sum(map(len, payloads)))
    assert {key: bytes(v) for key, v in seen.items()} == {
        (1, "up"): payloads[0],
        (1, "down"): payloads[0],
        (2, "up"): payloads[1],
        (2, "down"): payloads[1],
    }


def test_close_is_idempotent_and_frees_the_port(
    make_link: Callable[..., WanLink], echo: EchoServer
) -> None:
    link = make_link(name="closing")
    port = link.forward("127.0.0.1", echo.port)
    with connect(port) as sock:
        round_trip(sock)
        link.close()
        link.close()
        assert _recv_outcome(sock) in ("eof", "reset")
    assert not any(t.name == "wanlink-closing" for t in threading.enumerate())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
    with pytest.raises(RuntimeError):
        link.forward("127.0.0.1", echo.port)


def test_context_manager_and_asyncio_clients(echo: EchoServer) -> None:
    async def talk(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"from asyncio")
        writer.write_eof()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        return data

    with WanLink(rate_bytes_per_s=RATE, latency_ms=1.0).start() as link:
        port = link.forward("127.0.0.1", echo.port)
        assert asyncio.run(talk(port)) == b"from asyncio"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_unreachable_target_resets_the_client(make_link: Callable[..., WanLink]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        dead_port = placeholder.getsockname()[1]
    link = make_link()
    port = link.forward("127.0.0.1", dead_port)
    try:
        with connect(port, timeout=5.0) as sock:
            assert _recv_outcome(sock) in ("eof", "reset")
    except ConnectionResetError:
        pass  # the reset can beat connect() itself back to the client


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        WanLink(rate_bytes_per_s=0)
    with pytest.raises(ValueError):
        WanLink(latency_ms=-1)
    with WanLink() as link, pytest.raises(ValueError):
        link.cut("unplug")  # type: ignore[arg-type]
