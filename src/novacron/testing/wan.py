"""A WAN link emulator for live-migration tests and benchmarks: a userspace TCP proxy.

Why a proxy and not ``tc qdisc … netem``: netem is not available on our machines (the
kernel module is missing; ``tbf``/``htb`` exist but add no latency), and a qdisc on an
interface shapes each flow by itself anyway. A live migration is several TCP
connections — QEMU's main migration socket, the multifd channels, the post-copy return
path and the NBD connection that mirrors the disks — and a real WAN gives all of them
ONE budget: the post-copy page requests on the return path queue behind the bulk
stream, the disk mirror competes with RAM. ``WanLink`` reproduces that: every
connection of every ``forward()`` of one link shares a token bucket per direction
(the link is full duplex: ``rate_bytes_per_s`` up and the same down), each chunk is
delivered ``latency_ms`` after it crossed the bucket, and ``cut()`` breaks the link
either loudly (``"reset"``) or silently (``"blackhole"``, a dead router).

How it shapes. Each connection direction reads one chunk from its source (64 KiB, or
rate × 10 ms on slow links, at least 4 KiB), waits its FIFO turn at the shared bucket
to pay for it (so concurrent streams get equal shares, and a small post-copy page
request waits behind at most one chunk per busy stream), then puts it with its due time
in a bounded delay line (256 KiB + rate × latency; without a rate, 2 Gbit/s × latency).
While the line is full or the bucket is in debt the proxy stops reading, so TCP flow
control throttles the sender: per connection direction the proxy holds at most that
line, one chunk and asyncio's 128 KiB read buffer. The bucket's burst is
max(64 KiB, rate × 10 ms) plus at most one chunk of debt, so over a 1-second window at
4 MiB/s the rate is within 3 % of the setting, and the long-run rate is exact. A
connection to the target is opened when the client is accepted (no RTT is charged for
the handshake); an unreachable target resets the client. Connections cut by
``"blackhole"`` stay open, silent, until ``close()``.

Measured on loopback (2-core VM, CPython 3.11, default asyncio loop, one connection,
sender and receiver threads in the same process): unthrottled 4.3-6.1 Gbit/s
(530-760 MB/s, the proxy thread 70-85 % of a core); at ``rate_bytes_per_s=125e6``
(1 Gbit/s) exactly 1.00 Gbit/s for 21-23 % of a core, the same with 20 ms latency;
with 20 ms latency and no rate 2.0 Gbit/s (the delay-line bound above).

Usage, from sync or asyncio code (the link runs its own event loop in a daemon thread;
its methods block the caller only for the few milliseconds a call into that loop takes)::

    with WanLink(rate_bytes_per_s=12.5e6, latency_ms=20).start() as link:
        port = link.forward("127.0.0.1", migration_port)
        ...  # point the source QEMU at 127.0.0.1:port
        link.cut("blackhole")

``tap=`` sees every chunk the link delivers — ``tap(conn_id, direction, data)``, on the
link's thread, in order per connection direction (``conn_id`` numbers the accepted
connections from 1) — e.g. to check that a migration's bytes are encrypted. It must
be quick: the connection waits for it. An exception in it is logged and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Literal, TypeVar

log = logging.getLogger("novacron.wan")

CHUNK = 64 * 1024
"""Largest read from a socket, and so the largest unit the bucket pays for."""
MIN_CHUNK = 4 * 1024
"""Smallest read size: slow links read rate × 10 ms at a time, at least this."""
MIN_BURST = 64 * 1024
BURST_SECONDS = 0.010
QUEUE_BASE = 256 * 1024
NOMINAL_UNLIMITED_RATE = 250_000_000.0
"""Bytes/s (2 Gbit/s) used to size the delay line when the link has latency but no rate
limit: each connection direction then carries at most about this much."""
RATE_POLL_S = 0.05
"""A waiting bucket re-reads the rate this often, so ``set_rate`` acts promptly."""
CALL_TIMEOUT_S = 10.0

CutMode = Literal["reset", "blackhole"]
Direction = Literal["up", "down"]
Tap = Callable[[int, Direction, bytes], None]
_T = TypeVar("_T")


def _burst(rate: float) -> float:
    return max(float(MIN_BURST), rate * BURST_SECONDS)


class _TokenBucket:
    """One direction's byte budget, shared by every connection of the link.

    ``take(n)`` waits until the bucket is out of debt, then pays ``n`` (possibly going
    into debt by up to one chunk: a timer that fires late then loses no tokens, so the
    long-run rate is exact). Waiters are served in FIFO order (``asyncio.Lock`` is fair),
    so concurrent connections alternate chunk by chunk. Over a window of T seconds at
    most ``burst + rate × T + one chunk`` bytes pass."""

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._tokens = _burst(rate) if rate is not None else 0.0
        self._last = 0.0
        self._lock = asyncio.Lock()

    def set_rate(self, rate: float | None, now: float) -> None:
        if self._rate is not None:
            self._refill(now)
        else:
            self._tokens = 0.0 if rate is None else _burst(rate)
            self._last = now
        self._rate = rate
        if rate is not None:
            self._tokens = min(self._tokens, _burst(rate))

    def _refill(self, now: float) -> None:
        rate = self._rate
        if rate is not None:
            self._tokens = min(_burst(rate), self._tokens + (now - self._last) * rate)
        self._last = now

    async def take(self, n: int) -> None:
        if self._rate is None:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            while (rate := self._rate) is not None:
                self._refill(loop.time())
                if self._tokens > -1.0:  # out of debt, give or take a float's rounding
                    self._tokens -= n
                    return
                await asyncio.sleep(min(-self._tokens / rate, RATE_POLL_S))


class _DelayLine:
    """One direction of one connection: chunks with the loop time they are due at.

    ``b""`` marks the end of the stream (the source's EOF), delivered in order like data."""

    def __init__(self) -> None:
        self._items: deque[tuple[float, bytes]] = deque()
        self.size = 0
        self._not_empty = asyncio.Event()
        self._not_full = asyncio.Event()

    def put(self, due: float, data: bytes) -> None:
        self._items.append((due, data))
        self.size += len(data)
        self._not_empty.set()

    async def get(self) -> tuple[float, bytes]:
        while not self._items:
            self._not_empty.clear()
            await self._not_empty.wait()
        due, data = self._items.popleft()
        self.size -= len(data)
        self._not_full.set()
        return due, data

    async def wait_room(self, limit: float) -> None:
        while self.size >= limit:
            self._not_full.clear()
            await self._not_full.wait()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), so the peer sees a connection reset, not an EOF."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _forever() -> None:
    await asyncio.get_running_loop().create_future()


class _Connection:
    """One accepted client and its connection to the target: two directions, each a
    reader task (source → bucket → delay line) and a writer task (delay line → sink)."""

    def __init__(self, link: WanLink, client: asyncio.StreamWriter, target: tuple[str, int]):
        self._link = link
        self._client = client
        self._target_addr = target
        self._target: asyncio.StreamWriter | None = None
        self.frozen = False
        self.task: asyncio.Task[None] | None = None
        self.peer = client.get_extra_info("peername")
        self.id = link.next_conn_id()

    async def run(self, client_reader: asyncio.StreamReader) -> None:
        host, port = self._target_addr
        try:
            target_reader, self._target = await asyncio.open_connection(host, port, limit=CHUNK)
        except OSError as exc:
            log.warning("%s: cannot reach %s:%s: %s", self._link.name, host, port, exc)
            _reset(self._client)
            return
        error: BaseException | None = None
        try:
            async with asyncio.TaskGroup() as group:
                self._pipe(group, client_reader, self._target, "up")
                self._pipe(group, target_reader, self._client, "down")
        except* OSError as errors:
            error = errors.exceptions[0]
        if error is not None:
            await self._fail(error)
        else:
            await asyncio.gather(_close(self._client), _close(self._target))

    def _pipe(
        self,
        group: asyncio.TaskGroup,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        direction: Direction,
    ) -> None:
        line = _DelayLine()
        group.create_task(self._carry(source, line, direction))
        group.create_task(self._deliver(line, sink, direction))

    async def _fail(self, error: BaseException) -> None:
        if self.frozen:  # a dead router tells nobody: the other side keeps waiting
            await _forever()
        log.debug("%s: connection failed: %s", self._link.name, error)
        self.reset()

    async def _live(self) -> None:
        """Return at once, or never when the link was blackholed under this connection."""
        if self.frozen:
            await _forever()

    async def _carry(self, source: asyncio.StreamReader, line: _DelayLine, d: Direction) -> None:
        link = self._link
        loop = asyncio.get_running_loop()
        while True:
            await line.wait_room(link.queue_limit())
            data = await source.read(link.read_size())
            await self._live()
            if data:
                await link.bucket(d).take(len(data))
                await self._live()
            line.put(loop.time() + link.latency_s, data)
            if not data:
                return

    async def _deliver(self, line: _DelayLine, sink: asyncio.StreamWriter, d: Direction) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await line.get()
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._live()
            if not data:
                if sink.can_write_eof():
                    sink.write_eof()
                return
            self._link.observe(self.id, d, data)
            sink.write(data)
            self._link.count(d, len(data))
            await sink.drain()

    def reset(self) -> None:
        """Both peers see a connection reset; the tasks end."""
        for writer in (self._client, self._target):
            if writer is not None:
                _reset(writer)
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def abort(self) -> None:
        for writer in (self._client, self._target):
            if writer is not None:
                writer.transport.abort()
        if self.task is not None:
            self.task.cancel()


class WanLink:
    """An emulated WAN link: shared bandwidth per direction, one-way latency, cuts.

    ``rate_bytes_per_s=None`` means unlimited; ``latency_ms`` is added to each direction.
    Call ``start()`` first, then ``forward()`` once per target; ``close()`` (or leaving the
    ``with`` block) stops it. Thread-safe: every method may be called from any thread
    except the link's own."""

    def __init__(
        self,
        *,
        rate_bytes_per_s: float | None = None,
        latency_ms: float = 0.0,
        name: str = "wan",
        tap: Tap | None = None,
    ) -> None:
        _check_rate(rate_bytes_per_s)
        if latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, not {latency_ms}")
        self.name = name
        self.latency_s = latency_ms / 1000.0
        self._rate = rate_bytes_per_s
        self._buckets = {d: _TokenBucket(rate_bytes_per_s) for d in ("up", "down")}
        self._counts: dict[str, int] = {"up": 0, "down": 0}
        self._tap = tap
        self._conn_ids = 0
        self._mode: Literal["up", "reset", "blackhole"] = "up"
        self._servers: list[asyncio.Server] = []
        self._conns: set[_Connection] = set()
        self._held: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> WanLink:
        if self._thread is not None or self._closed:
            raise RuntimeError(f"WanLink {self.name!r} can be started only once")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop, ready), name=f"wanlink-{self.name}", daemon=True
        )
        self._thread.start()
        ready.wait()
        log.info(
            "%s: started (rate %s B/s, latency %.1f ms)",
            self.name,
            self._rate,
            self.latency_s * 1000,
        )
        return self

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def close(self) -> None:
        """Stop listening, close every connection, stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown(), closing=True)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CALL_TIMEOUT_S)
            if not thread.is_alive():
                loop.close()
        log.info("%s: closed (forwarded %s)", self.name, self._counts)

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        tasks = [c.task for c in self._conns if c.task is not None]
        for conn in list(self._conns):
            conn.abort()
        for writer in self._held:
            writer.transport.abort()
        self._held.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    def __enter__(self) -> WanLink:
        return self if self._thread is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public controls -------------------------------------------------------------

    def forward(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1") -> int:
        """Listen on a free port of ``listen_host`` (one IP address); forward each connection
        to the target through this link. Returns the listening port."""
        port = self._call(self._listen(target_host, target_port, listen_host))
        log.info("%s: %s:%s -> %s:%s", self.name, listen_host, port, target_host, target_port)
        return port

    def set_rate(self, rate_bytes_per_s: float | None) -> None:
        """Change the rate of both directions now; ``None`` is unlimited."""
        _check_rate(rate_bytes_per_s)
        self._rate = rate_bytes_per_s
        if self._loop is None:
            for bucket in self._buckets.values():
                bucket.set_rate(rate_bytes_per_s, 0.0)
            return
        self._call(self._apply_rate(rate_bytes_per_s))
        log.info("%s: rate %s B/s", self.name, rate_bytes_per_s)

    def cut(self, mode: CutMode = "reset") -> None:
        """Break the link. ``"reset"``: reset every connection and every new one.
        ``"blackhole"``: move no more bytes on any connection, and accept new ones into
        nowhere; peers hang until their own timeouts."""
        if mode not in ("reset", "blackhole"):
            raise ValueError(f"cut mode must be 'reset' or 'blackhole', not {mode!r}")
        self._call(self._cut(mode))
        log.info("%s: cut (%s)", self.name, mode)

    def restore(self) -> None:
        """Forward new connections again; connections that were cut stay dead."""
        self._call(self._set_mode("up"))
        log.info("%s: restored", self.name)

    @property
    def bytes_forwarded(self) -> dict[str, int]:
        """Bytes delivered so far: ``up`` client → target, ``down`` target → client."""
        return dict(self._counts)

    # -- used by connections (event-loop thread) -------------------------------------

    def bucket(self, direction: Direction) -> _TokenBucket:
        return self._buckets[direction]

    def read_size(self) -> int:
        if self._rate is None:
            return CHUNK
        return int(min(CHUNK, max(MIN_CHUNK, self._rate * BURST_SECONDS)))

    def queue_limit(self) -> float:
        rate = self._rate if self._rate is not None else NOMINAL_UNLIMITED_RATE
        return QUEUE_BASE + rate * self.latency_s

    def count(self, direction: Direction, n: int) -> None:
        self._counts[direction] += n

    def next_conn_id(self) -> int:
        self._conn_ids += 1
        return self._conn_ids

    def observe(self, conn_id: int, direction: Direction, data: bytes) -> None:
        """Hand a delivered chunk to the tap, if any."""
        if self._tap is None:
            return
        try:
            self._tap(conn_id, direction, data)
        except Exception:
            log.exception("%s: the tap failed", self.name)

    # -- event-loop side -------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, _T], *, closing: bool = False) -> _T:
        loop = self._loop
        if loop is None or (self._closed and not closing):
            coro.close()
            raise RuntimeError(f"WanLink {self.name!r} is not running")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("WanLink methods cannot be called from the link's own thread")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(CALL_TIMEOUT_S)

    async def _listen(self, target_host: str, target_port: int, listen_host: str) -> int:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._accepted(reader, writer, (target_host, target_port))

        server = await asyncio.start_server(accepted, listen_host, 0, limit=CHUNK)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    def _accepted(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: tuple[str, int],
    ) -> None:
        """A plain callback, not a coroutine: connection tasks are ours to cancel."""
        if self._mode == "reset":
            _reset(writer)
        elif self._mode == "blackhole":
            self._held.add(writer)  # open, silent, never connected: a dead router
        else:
            conn = _Connection(self, writer, target)
            conn.task = asyncio.get_running_loop().create_task(self._serve(conn, reader))
            self._conns.add(conn)

    async def _serve(self, conn: _Connection, reader: asyncio.StreamReader) -> None:
        peer = conn.peer
        log.debug("%s: connection from %s", self.name, peer)
        try:
            await conn.run(reader)
        except Exception:
            log.exception("%s: connection from %s failed", self.name, peer)
            conn.reset()
        finally:
            self._conns.discard(conn)
            log.debug("%s: connection from %s ended", self.name, peer)

    async def _apply_rate(self, rate: float | None) -> None:
        now = asyncio.get_running_loop().time()
        for bucket in self._buckets.values():
            bucket.set_rate(rate, now)

    async def _set_mode(self, mode: Literal["up", "reset", "blackhole"]) -> None:
        self._mode = mode

    async def _cut(self, mode: CutMode) -> None:
        self._mode = mode
        for conn in list(self._conns):
            if mode == "reset":
                conn.reset()
            else:
                conn.frozen = True
        if mode == "reset":
            for writer in self._held:
                _reset(writer)
            self._held.clear()


def _check_rate(rate: float | None) -> None:
    if rate is not None and not rate > 0:
        raise ValueError(f"rate_bytes_per_s must be > 0 or None, not {rate}")


def route_migration(link: WanLink, target: dict[str, Any]) -> dict[str, Any]:
    """A live migration's target (what ``prepare_incoming`` returned), reached through
    ``link``: the memory stream and the disk export both cross it."""
    host, port = str(target["uri"]).removeprefix("tcp:").rsplit(":", 1)
    out = {**target, "uri": f"tcp:127.0.0.1:{link.forward(host, int(port))}"}
    if target.get("nbd"):
        nbd = target["nbd"]
        out["nbd"] = {**nbd, "port": link.forward(nbd["host"], int(nbd["port"]))}
    return out
