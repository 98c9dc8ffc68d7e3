"""Formatting helpers: times, ages, sizes and operation steps for display, and the
parsing of repeatable ``KEY=VALUE`` options. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from novacron.core.errors import NovaCronError


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fmt_time(value: str | None) -> str:
    """``2024-05-01T12:00:03.123Z`` → ``2024-05-01 12:00:03`` (UTC)."""
    parsed = parse_time(value)
    if parsed is None:
        return value or "-"
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_age(value: str | None, now: datetime | None = None) -> str:
    """How long ago: ``4s ago``, ``3m ago``, ``2h ago``, ``5d ago``."""
    parsed = parse_time(value)
    if parsed is None:
        return value or "never"
    seconds = max(0, int(((now or datetime.now(UTC)) - parsed).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def fmt_mib(mib: int | float | None) -> str:
    if mib is None:
        return "-"
    if mib >= 1024 and mib % 1024 == 0:
        return f"{int(mib) // 1024} GiB"
    if mib >= 1024:
        return f"{mib / 1024:.1f} GiB"
    return f"{int(mib)} MiB"


def parse_key_values(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; raises ``NovaCronError`` on bad syntax."""
    out: dict[str, str] = {}
    for raw in values or []:
        key, sep, value = raw.partition("=")
        key = key.strip()
        if not sep or not key:
            raise NovaCronError(f"invalid {option} {raw!r}: expected KEY=VALUE")
        out[key] = value.strip()
    return out


def _step_name(step: Any) -> str:
    if isinstance(step, dict):
        for key in ("name", "step", "title"):
            if step.get(key):
                return str(step[key])
    return str(step)
