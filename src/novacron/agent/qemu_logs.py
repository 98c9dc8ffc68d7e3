"""Ship the new lines of each guest's QEMU log (its stderr: assertion failures, device
errors, seccomp kills) to the server, whose VM-escape rules read them.

Offsets are kept in ``<data_dir>/qemu-log-offsets.json`` so an agent restart neither
resends nor skips lines; a log that shrank (a new QEMU process for the VM) is read from
its start. Each round sends at most ``MAX_LINES``; the rest waits for the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger("novacron.agent.qemu_logs")

INTERVAL_S = 5.0
MAX_LINES = 500
MAX_LINE = 4000
MAX_READ = 256 * 1024


class QemuLogShipper:
    def __init__(
        self,
        host: str,
        vms_dir: Path,
        state_file: Path,
        server_url: str,
        token: Callable[[], str | None],
        interval_s: float = INTERVAL_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.transport = transport
        """Mutual TLS towards the server, when the agent enrolled for it."""
        self.host = host
        self.vms_dir = vms_dir
        self.state_file = state_file
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.interval_s = interval_s
        self.offsets: dict[str, int] = self._load()

    def _load(self) -> dict[str, int]:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.state_file.read_text())
            return {str(k): int(v) for k, v in data.items()}
        return {}

    def _save(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.offsets))
        tmp.replace(self.state_file)

    def collect(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """New lines since the saved offsets, and the offsets after them (not yet saved:
        they are kept only once the server has the lines)."""
        lines: list[dict[str, Any]] = []
        offsets = dict(self.offsets)
        for path in sorted(self.vms_dir.glob("*/qemu.log")):
            vm_id = path.parent.name
            try:
                size = path.stat().st_size
                start = offsets.get(vm_id, 0)
                if size < start:  # a new log: read it from its start
                    start = 0
                if size == start:
                    continue
                with path.open("rb") as f:
                    f.seek(start)
                    chunk = f.read(min(MAX_READ, size - start))
            except OSError:
                continue
            pos = start
            *complete, partial = chunk.split(b"\n")
            if not complete and len(partial) == MAX_READ:
                complete = [partial]  # one line longer than a read: take it, cut short
            for raw in complete:
                if len(lines) >= MAX_LINES:
                    break
                pos += len(raw) + 1 if raw is not partial else len(raw)
                text = raw.decode("utf-8", "replace").strip()
                if text:
                    lines.append({"vm_id": vm_id, "line": text[:MAX_LINE]})
            offsets[vm_id] = pos
            if len(lines) >= MAX_LINES:
                break
        return lines, offsets

    async def ship_once(self, http: httpx.AsyncClient) -> int:
        token = self.token()
        if not token:
            return 0  # not registered yet
        lines, offsets = self.collect()
        if lines:
            response = await http.post(
                f"{self.server_url}/api/v1/agents/host-events",
                json={"host": self.host, "lines": lines},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
        if offsets != self.offsets:
            self.offsets = offsets
            self._save()
        return len(lines)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=30, transport=self.transport) as http:
            while True:
                try:
                    await self.ship_once(http)
                except (httpx.HTTPError, OSError) as exc:
                    log.debug("could not ship QEMU log lines: %s", exc)
                await asyncio.sleep(self.interval_s)
