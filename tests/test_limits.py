"""Rate limits: when a request is allowed, and how long a refused one must wait."""

from __future__ import annotations

import pytest

from custom_components.extended_ollama_conversation.tools.limits import RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at an arbitrary moment."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current moment."""
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_per_minute_limit_slides(clock: Clock) -> None:
    limiter = RateLimiter(3, 100, clock)
    for offset in (0, 20, 40):
        clock.now = 1000 + offset
        assert limiter.try_acquire("alice") is None
    clock.now = 1050
    assert limiter.try_acquire("alice") == pytest.approx(10)
    clock.now = 1060  # the first request has left the window
    assert limiter.try_acquire("alice") is None
    clock.now = 1061
    assert limiter.try_acquire("alice") == pytest.approx(19)


def test_a_refused_request_is_not_counted(clock: Clock) -> None:
    limiter = RateLimiter(1, 100, clock)
    assert limiter.try_acquire(None) is None
    for offset in range(1, 60):
        clock.now = 1000 + offset
        assert limiter.try_acquire(None) == pytest.approx(60 - offset)
    clock.now = 1060
    assert limiter.try_acquire(None) is None


def test_per_user_limit_is_per_user(clock: Clock) -> None:
    limiter = RateLimiter(100, 2, clock)
    assert limiter.try_acquire("alice") is None
    clock.now += 600
    assert limiter.try_acquire("alice") is None
    clock.now += 600
    assert limiter.try_acquire("alice") == pytest.approx(2400)
    assert limiter.try_acquire("bob") is None
    assert limiter.try_acquire(None) is None
    clock.now = 1000 + 3600
    assert limiter.try_acquire("alice") is None
    assert limiter.try_acquire("alice") == pytest.approx(600)


def test_requests_without_a_user_count_only_per_minute(clock: Clock) -> None:
    limiter = RateLimiter(5, 1, clock)
    for _ in range(5):
        assert limiter.try_acquire(None) is None
    assert limiter.try_acquire(None) == pytest.approx(60)
    assert limiter.try_acquire("alice") == pytest.approx(60)


def test_the_longer_wait_is_reported(clock: Clock) -> None:
    limiter = RateLimiter(2, 1, clock)
    assert limiter.try_acquire("alice") is None
    assert limiter.try_acquire("bob") is None
    assert limiter.try_acquire("alice") == pytest.approx(3600)
    clock.now += 60
    assert limiter.try_acquire("alice") == pytest.approx(3540)


def test_a_user_over_the_hour_does_not_use_up_the_minute(clock: Clock) -> None:
    limiter = RateLimiter(2, 1, clock)
    assert limiter.try_acquire("alice") is None
    for _ in range(5):
        assert limiter.try_acquire("alice") is not None
    assert limiter.try_acquire("bob") is None
    assert limiter.try_acquire("carol") is not None


def test_limits_of_zero_are_off(clock: Clock) -> None:
    limiter = RateLimiter(0, 0, clock)
    for _ in range(1000):
        assert limiter.try_acquire("alice") is None
    assert limiter.tracked_users == 0


def test_idle_users_are_forgotten(clock: Clock) -> None:
    limiter = RateLimiter(100_000, 5, clock)
    for user in range(1000):
        assert limiter.try_acquire(f"user{user}") is None
    assert limiter.tracked_users == 1000
    clock.now += 3600
    assert limiter.try_acquire("alice") is None
    assert limiter.tracked_users == 1


def test_memory_per_window_is_bounded(clock: Clock) -> None:
    """However many requests are refused, the user's wait depends only on the last few."""
    limiter = RateLimiter(100_000, 3, clock)
    for _ in range(3):
        assert limiter.try_acquire("alice") is None
        clock.now += 100
    for _ in range(10_000):
        assert limiter.try_acquire("alice") is not None
    assert limiter.try_acquire("alice") == pytest.approx(3600 - 300)


def test_the_default_clock_is_monotonic_time() -> None:
    limiter = RateLimiter(1, 10)
    assert limiter.try_acquire("alice") is None
    wait = limiter.try_acquire("alice")
    assert wait is not None
    assert 59 < wait <= 60
