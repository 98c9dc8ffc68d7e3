"""New-value rules: a value never seen for a group, after the group's learning period."""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from functools import lru_cache

from ..conditions import parse_ip
from ..detection import Detection
from ..events import SecurityEvent
from ..rules import NewValueParams, Rule
from .base import Detector, as_text, evidence_of, group_text


class _Known:
    __slots__ = ("first", "last", "quiet_until", "values")

    def __init__(self, t: float) -> None:
        self.first = t
        self.last = t
        self.values: OrderedDict[str, float] = OrderedDict()
        self.quiet_until = -math.inf


@lru_cache(maxsize=16384)
def _place(value: str, v4: int, v6: int) -> str:
    """An address as its network (``203.0.113.0/24``), anything else unchanged."""
    addr = parse_ip(value)
    if addr is None:
        return value
    prefix = v4 if addr.version == 4 else v6
    if prefix == addr.max_prefixlen:
        return str(addr)
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


class NewValueDetector(Detector[_Known]):
    def __init__(self, rule: Rule, max_groups: int) -> None:
        super().__init__(rule, max_groups)
        assert isinstance(rule.params, NewValueParams)
        self.p = rule.params

    def feed(self, e: SecurityEvent, t: float) -> Detection | None:
        if not self.condition(e):
            return None
        raw = as_text(self.p.value_get(e))
        if raw is None:
            return None
        key = self.key(e)
        if None in key:
            return None
        p = self.p
        value = _place(raw, p.ipv4_prefix, p.ipv6_prefix)
        state = self._state(key, lambda: _Known(t))
        state.last = t
        values = state.values
        if value in values:
            values[value] = t
            values.move_to_end(value)
            return None
        known = list(values)
        values[value] = t
        if len(values) > p.max_values:
            values.popitem(last=False)
        # Learning is per group: a group's own first weeks (and its first value) never
        # fire, so a token created today is not flagged for its second address.
        if not known or t - state.first < p.learning or t < state.quiet_until:
            return None
        state.quiet_until = t + self.rule.cooldown
        shown = ", ".join(known[-5:]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
        group = group_text(self.rule, key)
        return self._detection(
            e,
            t,
            key,
            1,
            (evidence_of(e),),
            f"{group}: {p.value} {raw} never seen before (known: {shown})",
            value=raw,
            known=shown,
        )

    def prune(self, now: float) -> None:
        cutoff = now - self.p.forget
        for key in [k for k, s in self.groups.items() if s.last < cutoff]:
            del self.groups[key]

    def size(self) -> int:
        return sum(1 + len(s.values) for s in self.groups.values())
