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
import json
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


def follow(api: ApiClient, vm: str, offset: int, sink: Sink) -> None:
    """Stream the log from ``offset`` until the server ends it (the VM was deleted)."""
    params = {"offset": offset, "follow": "true"}
    with api.stream(
        "GET", console_path(vm), params=params, headers=ACCEPT, timeout=FOLLOW_TIMEOUT
    ) as response:
        for chunk in response.iter_bytes():
            offset += len(chunk)
            sink(chunk, offset)


class RawOutput:
    """The guest's bytes on stdout, flushed as they come."""

    def __call__(self, data: bytes, after: int) -> None:
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stdout (some test harnesses)
            sys.stdout.write(data.decode("utf-8", errors="replace"))
        else:
            out.write(data)
        sys.stdout.flush()

    def close(self, after: int) -> None:
        pass


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
