"""Request rate limits (placeholder until branch `context` lands its version).

Same signature as that branch's module: on merge, take its version.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import time

_MINUTE = 60.0
_HOUR = 3600.0


class RateLimiter:
    """Requests per minute for everyone, and per user per hour."""

    def __init__(
        self,
        per_minute: int,
        per_user_per_hour: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start with no requests counted."""
        self.per_minute = per_minute
        self.per_user_per_hour = per_user_per_hour
        self._clock = clock
        self._all: deque[float] = deque()
        self._users: dict[str | None, deque[float]] = {}

    def try_acquire(self, user_id: str | None) -> float | None:
        """None when allowed (and counted); else seconds until one is allowed."""
        now = self._clock()
        _drop_before(self._all, now - _MINUTE)
        user = self._users.setdefault(user_id, deque())
        _drop_before(user, now - _HOUR)
        waits = []
        if len(self._all) >= self.per_minute:
            waits.append(self._all[0] + _MINUTE - now)
        if user_id is not None and len(user) >= self.per_user_per_hour:
            waits.append(user[0] + _HOUR - now)
        if waits:
            return max(*waits, 0.0)
        self._all.append(now)
        user.append(now)
        return None


def _drop_before(times: deque[float], limit: float) -> None:
    while times and times[0] <= limit:
        times.popleft()
