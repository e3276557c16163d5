"""Rate limits of the public pages: a sliding window per client that remembers only recent clients."""

from __future__ import annotations

from central_broker.web.ratelimit import Limit, RateLimiter


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_forgets_clients_whose_window_is_over() -> None:
    """GIVEN 500 phones that opened their status page, one of them over its limit WHEN a minute has passed and
    another phone comes THEN only that phone is remembered (memory follows the last minute's clients, not the
    morning's), and the throttled phone may come back with a fresh window."""
    clock = _Clock()
    limiter = RateLimiter(Limit(3, 60), clock)
    for phone in range(500):
        assert limiter.wait_s(f"10.0.{phone // 250}.{phone % 250}") == 0
    assert limiter.wait_s("busy") == 0 and limiter.wait_s("busy") == 0 and limiter.wait_s("busy") == 0
    assert limiter.wait_s("busy") > 0
    assert len(limiter) == 501

    clock.now += 30
    assert limiter.wait_s("busy") > 0  # still within its window: remembered and still refused
    clock.now += 31
    assert limiter.wait_s("latecomer") == 0

    assert len(limiter) == 1
    assert limiter.wait_s("busy") == 0
