"""When the next compliance run is due: every N minutes/hours/days, or daily at
HH:MM UTC. The server's worker asks ``next_run(last_started_at, now)`` and runs
when it is not in the future; a run missed while the server was down is due at
once, and only once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from novacron.core.errors import Invalid
from novacron.security.compliance.model import naive_utc

MIN_INTERVAL = timedelta(minutes=5)
_UNITS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    interval: timedelta | None = None
    daily_at: time | None = None

    def __post_init__(self) -> None:
        if (self.interval is None) == (self.daily_at is None):
            raise Invalid("a schedule is either an interval or a daily time, not both")
        if self.interval is not None and self.interval < MIN_INTERVAL:
            raise Invalid(f"interval must be at least {MIN_INTERVAL}")

    @classmethod
    def every(cls, interval: timedelta) -> Schedule:
        return cls(interval=interval)

    @classmethod
    def daily(cls, at: str | time) -> Schedule:
        if isinstance(at, str):
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at.strip())
            if not match:
                raise Invalid(f"daily time must be HH:MM (UTC), not {at!r}")
            at = time(int(match.group(1)), int(match.group(2)))
        return cls(daily_at=at.replace(second=0, microsecond=0, tzinfo=None))

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        """``every 30m``, ``every 6h``, ``every 1d`` or ``daily 02:30`` (UTC)."""
        text = spec.strip().lower()
        if match := re.fullmatch(r"every\s+(\d+)\s*([mhd])", text):
            return cls.every(timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)]))
        if match := re.fullmatch(r"daily\s+(?:at\s+)?(\S+)", text):
            return cls.daily(match.group(1))
        raise Invalid(f"schedule must be 'every <n>m|h|d' or 'daily HH:MM', not {spec!r}")

    def __str__(self) -> str:
        if self.daily_at is not None:
            return f"daily {self.daily_at.strftime('%H:%M')}"
        assert self.interval is not None
        seconds = int(self.interval.total_seconds())
        for unit in ("d", "h", "m"):
            if seconds % _UNITS[unit] == 0:
                return f"every {seconds // _UNITS[unit]}{unit}"
        return f"every {seconds}s"

    def next_run(self, last_run: datetime | None, now: datetime) -> datetime:
        """The next start time: never run → due now (interval) or at the next HH:MM
        (daily); otherwise one period after ``last_run`` (possibly already past)."""
        now = naive_utc(now)
        if self.interval is not None:
            return now if last_run is None else naive_utc(last_run) + self.interval
        assert self.daily_at is not None
        if last_run is None:
            return self._daily_at_or_after(now)
        return self._daily_at_or_after(naive_utc(last_run) + timedelta(microseconds=1))

    def is_due(self, last_run: datetime | None, now: datetime) -> bool:
        return self.next_run(last_run, now) <= naive_utc(now)

    def _daily_at_or_after(self, moment: datetime) -> datetime:
        assert self.daily_at is not None
        candidate = datetime.combine(moment.date(), self.daily_at)
        return candidate if candidate >= moment else candidate + timedelta(days=1)
