"""The agent's self-fencing watchdog: HA guests stop when the server is out of reach.

The server restarts a failed host's HA VMs elsewhere once the host is fenced; with the
``watchdog`` fencing policy it trusts that an agent which has not reached it for
``after_s`` has stopped those guests itself (``compute/migration/ha.py``). This is that
agent side: every heartbeat answer names the HA VMs and the delay; if no answer comes
for that long, the watchdog force-stops them, and the next heartbeat that gets through
reports it. A VM therefore never runs on two hosts: the server waits longer than
``after_s`` before restarting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from novacron.core.errors import NovaCronError
from novacron.hypervisor.base import HypervisorDriver

log = logging.getLogger(__name__)


class SelfFence:
    def __init__(
        self,
        drivers: Mapping[str, HypervisorDriver],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.drivers = drivers
        self._clock = clock
        self.after_s: float | None = None
        self.vms: dict[str, list[str]] = {}
        self.last_ok = clock()
        self.fenced: dict[str, dict[str, float]] = {}
        """What it stopped, per host, until a heartbeat reports it."""

    def answered(self, instructions: dict[str, Any]) -> None:
        """A heartbeat got through: the server is there; take its latest instructions."""
        self.last_ok = self._clock()
        self.after_s = float(instructions["after_s"]) if instructions.get("after_s") else None
        self.vms = {h: list(ids) for h, ids in (instructions.get("vms") or {}).items()}

    def reported(self, sent: dict[str, dict[str, float]]) -> None:
        for host in sent:
            self.fenced.pop(host, None)

    async def check(self) -> int:
        """Stop the HA guests if the server has been silent too long; returns how many."""
        if self.after_s is None or not self.vms:
            return 0
        alone = self._clock() - self.last_ok
        if alone < self.after_s:
            return 0
        stopped = 0
        for host, vm_ids in self.vms.items():
            driver = self.drivers.get(host)
            if driver is None:
                continue
            count = 0
            for vm_id in vm_ids:
                with contextlib.suppress(NovaCronError):  # already gone: fine
                    await driver.stop(vm_id)
                    count += 1
            self.fenced[host] = {"stopped": float(count), "after_s": round(alone, 1)}
            stopped += count
        log.warning(
            "no answer from the server for %.0f s: stopped %d HA guest(s) so that they can "
            "be restarted elsewhere without running twice",
            alone,
            stopped,
        )
        self.vms = {}  # once
        return stopped

    async def run(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.check()
            except Exception:
                log.exception("self-fencing check failed")
