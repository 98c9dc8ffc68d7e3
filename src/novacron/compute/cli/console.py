"""``novacron vm console``: a VM's serial console log, printed or followed live.

The log is read in pages (``GET /vms/{vm}/console?offset=&limit=``, the next offset in
``X-Console-Offset``) up to its current end; following then streams from exactly that
offset (``follow=true``), so nothing is printed twice and nothing is skipped. Reading
first also means a VM without a console fails with the server's plain reason.

Output is the guest's bytes as they come; with ``--output json`` each piece is one JSON
line ``{"output": text, "next_offset": n}`` (one document in all without following).
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import httpx

from novacron.core.cli_support import ApiClient, seg

PAGE = 1 << 20  # the API's largest page
FOLLOW_TIMEOUT = httpx.Timeout(10.0, read=None)  # a quiet guest may print nothing for hours
ACCEPT = {"Accept": "text/plain, application/problem+json"}

Sink = Callable[[bytes, int], None]
"""Takes a piece of the log and the offset just after it."""


def console_path(vm: str) -> str:
    return f"/vms/{seg(vm)}/console"


def read_to_end(api: ApiClient, vm: str, offset: int, sink: Sink) -> int:
    """Hand the log from ``offset`` (negative: from the end) to its current end to ``sink``,
    a page at a time; returns the offset after it."""
    while True:
        params = {"offset": offset, "limit": PAGE}
        with api.stream("GET", console_path(vm), params=params, headers=ACCEPT) as response:
            data = response.read()
            after = int(response.headers.get("X-Console-Offset") or max(offset, 0) + len(data))
        if data:
            sink(data, after)
        if len(data) < PAGE:
            return after
        offset = after


def start_offset(api: ApiClient, vm: str, tail: int | None, sink: Sink) -> int:
    """Print what is there (all of it, or the last ``tail`` bytes); the offset after it."""
    if tail == 0:  # nothing of the past: just find the end
        return read_to_end(api, vm, -1, lambda _data, _after: None)
    return read_to_end(api, vm, -tail if tail else 0, sink)


def follow(api: ApiClient, vm: str, offset: int, sink: Sink) -> int:
    """Stream the log from ``offset`` until the server ends it (the VM was deleted);
    returns the offset after what came."""
    params = {"offset": offset, "follow": "true"}
    with api.stream(
        "GET", console_path(vm), params=params, headers=ACCEPT, timeout=FOLLOW_TIMEOUT
    ) as response:
        for chunk in response.iter_bytes():
            offset += len(chunk)
            sink(chunk, offset)
    return offset


def silence_stdout() -> None:
    """After a broken pipe (``| head``): stdout to /dev/null, so the interpreter's last
    flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (a test harness): nothing will complain
    finally:
        os.close(devnull)


# A guest's terminal queries (device status, device attributes) would make the user's
# terminal type its answer into their shell: they are dropped when stdout is a terminal.
TERMINAL_QUERY = re.compile(rb"\x1b\[[0-9;?>=]*[cn]")
UNFINISHED = re.compile(rb"\x1b(\[[0-9;?>=]*)?$")


class RawOutput:
    """The guest's bytes on stdout, flushed as they come (less terminal queries when
    stdout is a terminal: ``tty``, by default whether it is)."""

    def __init__(self, tty: bool | None = None) -> None:
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.carry = b""  # the start of a control sequence that the next piece finishes

    def __call__(self, data: bytes, after: int) -> None:
        if self.tty:
            data, self.carry = self.carry + data, b""
            cut = UNFINISHED.search(data)
            if cut:
                data, self.carry = data[: cut.start()], data[cut.start() :]
            data = TERMINAL_QUERY.sub(b"", data)
        self._write(data)

    def _write(self, data: bytes) -> None:
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stdout (some test harnesses)
            sys.stdout.write(data.decode("utf-8", errors="replace"))
        else:
            out.write(data)
        sys.stdout.flush()

    def close(self, after: int) -> None:
        if self.carry:
            self._write(self.carry)
            self.carry = b""


class JsonOutput:
    """``{"output": text, "next_offset": n}`` per piece (``lines``), or one in all."""

    def __init__(self, lines: bool) -> None:
        self.lines = lines
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text: list[str] = []
        self.after = 0

    def __call__(self, data: bytes, after: int) -> None:
        self.after = after
        text = self.decoder.decode(data)
        if self.lines:
            self._emit(text)
        else:
            self.text.append(text)

    def _emit(self, text: str) -> None:
        doc: dict[str, Any] = {"output": text, "next_offset": self.after}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()

    def close(self, after: int) -> None:
        self.after = after
        tail = self.decoder.decode(b"", final=True)
        if not self.lines:
            self._emit("".join(self.text) + tail)
        elif tail:
            self._emit(tail)
