"""Back-off and lockout after failed sign-ins: pure policy, no storage.

The first few failures are free (typos); after that each failure locks the account for
twice as long as the one before, up to a ceiling, so an online guesser gets a few dozen
tries a day while the owner is never locked out for longer than the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    free_attempts: int = 5
    base_lock_s: float = 30.0
    max_lock_s: float = 900.0

    def lock_for(self, failures: int) -> timedelta | None:
        """How long to lock after the ``failures``-th consecutive failure (None: not)."""
        if failures < self.free_attempts:
            return None
        seconds = self.base_lock_s * 2 ** (failures - self.free_attempts)
        return timedelta(seconds=min(seconds, self.max_lock_s))

    def locked(self, locked_until: datetime | None, now: datetime) -> float:
        """Seconds the account stays locked (0 when it is not)."""
        if locked_until is None or locked_until <= now:
            return 0.0
        return (locked_until - now).total_seconds()
