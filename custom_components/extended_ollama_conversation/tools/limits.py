"""Rate limits: requests per minute for the whole integration, per hour for each user.

A model on a small server answers one request at a time; a loop in an automation or a
person repeating a request should not keep it busy for everyone. Over a limit the
person is told when to try again and the model is not called.

Both limits are sliding windows: a request is counted at the moment it is allowed and
stops counting a window's length later. Memory stays bounded: each window keeps at most
its limit of moments, and a user whose last request is older than an hour is forgotten.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
import time

MINUTE = 60.0
HOUR = 3600.0


class _Window:
    """The moments of the requests counted in the last `length` seconds."""

    def __init__(self, limit: int, length: float) -> None:
        """Allow `limit` requests per `length` seconds; a limit below 1 allows all."""
        self.limit = limit
        self.length = length
        self._moments: deque[float] = deque()

    def wait(self, now: float) -> float | None:
        """Seconds until one more request fits, or None when it fits now."""
        if self.limit < 1:
            return None
        while self._moments and self._moments[0] <= now - self.length:
            self._moments.popleft()
        if len(self._moments) < self.limit:
            return None
        # The oldest request has to leave the window first.
        return self._moments[0] + self.length - now

    def count(self, now: float) -> None:
        """Count a request that `wait` allowed, so never more than `limit` are kept."""
        if self.limit >= 1:
            self._moments.append(now)

    def newest(self) -> float | None:
        """The moment of the last counted request, if any."""
        return self._moments[-1] if self._moments else None


class RateLimiter:
    """Requests per minute for everyone together and per hour for each user.

    A request without a user (an automation) counts only against the per-minute limit.
    A limit of 0 turns that limit off.
    """

    def __init__(
        self,
        per_minute: int,
        per_user_per_hour: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set the limits; `clock` gives seconds (injected by tests)."""
        self._clock = clock
        self._per_user_per_hour = per_user_per_hour
        self._everyone = _Window(per_minute, MINUTE)
        # Users by the time of their last request, the least recent first.
        self._users: OrderedDict[str, _Window] = OrderedDict()

    def try_acquire(self, user_id: str | None) -> float | None:
        """Count the request and return None, or return the seconds to wait.

        A refused request is not counted, so waiting the returned time is enough.
        """
        now = self._clock()
        self._forget_idle_users(now)
        user = self._user_window(user_id)
        waits = [
            wait
            for window in (self._everyone, user)
            if window is not None and (wait := window.wait(now)) is not None
        ]
        if waits:
            return max(waits)
        self._everyone.count(now)
        if user is not None and user_id is not None:
            user.count(now)
            self._users[user_id] = user
            self._users.move_to_end(user_id)
        return None

    def _user_window(self, user_id: str | None) -> _Window | None:
        if user_id is None or self._per_user_per_hour < 1:
            return None
        return self._users.get(user_id) or _Window(self._per_user_per_hour, HOUR)

    def _forget_idle_users(self, now: float) -> None:
        """Drop users whose requests have all left the hour's window."""
        while self._users:
            user_id, window = next(iter(self._users.items()))
            newest = window.newest()
            if newest is not None and newest > now - HOUR:
                return
            del self._users[user_id]

    @property
    def tracked_users(self) -> int:
        """How many users are remembered (for tests of the memory bound)."""
        return len(self._users)
