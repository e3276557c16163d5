"""Rate limits: sliding windows for the public pages (the certificate online check) and, for the sign-in
form, exponential back-off after failures.

A `RateLimiter` allows at most `count` events per key within any `per_s` seconds and says how long to
wait otherwise; refused attempts do not count. A `Backoff` lets a key fail `free` times, then makes it
wait `base_s`, 2 × `base_s`, 4 × … (at most `cap_s`) after each further failure; a success forgets the
key. Both keep at most `max_keys` keys (the least recently used go first), so a flood of new client
addresses cannot grow memory without bound; a `RateLimiter` also forgets a key as soon as its window
is empty, so it only remembers the clients of the last `per_s` seconds (500 phones that opened their
status page this morning are not kept all day). State is in memory: limits restart with the process,
which bounds guessing no worse than the window itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff", "BackoffPolicy", "Limit", "LoginGate", "RateLimiter", "StatusGate", "VerifyGate"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` events within any `per_s` seconds."""

    count: int
    per_s: float


class RateLimiter:
    """Thread-safe sliding-window limiter keyed by any string (client address, serial, "all")."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.time, max_keys: int = 10_000) -> None:
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered (those with an event in the last `per_s` seconds, at most `max_keys`)."""
        with self._lock:
            return len(self._events)

    def wait_s(self, key: str) -> float:
        """0 and the event counted when `key` is within its limit; else the seconds until it will be."""
        now = self._clock()
        horizon = now - self.limit.per_s
        with self._lock:
            events = self._events.pop(key, None) or deque()
            while events and events[0] <= horizon:
                events.popleft()
            self._forget_idle(horizon)
            self._events[key] = events
            if len(self._events) > self._max_keys:
                self._events.popitem(last=False)
            if len(events) >= self.limit.count:
                return max(0.001, events[0] + self.limit.per_s - now)
            events.append(now)
            return 0.0

    def _forget_idle(self, horizon: float) -> None:
        # Keys are in the order of their last use, and a key used after `horizon` has an event after it (the one
        # counted, or the ones that refused it): so the idle keys are exactly the ones at the front.
        while self._events:
            oldest = next(iter(self._events.values()))
            if oldest and oldest[-1] > horizon:
                return
            self._events.popitem(last=False)


@dataclass
class VerifyGate:
    """The online check's rate limits: per client address, per serial (guessing a code or a birth date for
    one certificate) and for the whole service."""

    clock: Callable[[], float] = time.time
    client: Limit = Limit(10, 60)
    serial: Limit = Limit(5, 3600)
    overall: Limit = Limit(300, 60)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("overall", "client", "serial"):
            self._limiters[name] = RateLimiter(getattr(self, name), self.clock)

    def refusal(self, which: str, key: str) -> tuple[str, float] | None:
        """(which limit, seconds to wait) when `key` is over the `which` limit, else None (and counted)."""
        wait = self._limiters[which].wait_s(key)
        return (which, wait) if wait else None


@dataclass(frozen=True)
class BackoffPolicy:
    """`free` failures without a wait, then `base_s` doubled per failure, capped at `cap_s`; failures are
    forgotten after `forget_s` without one."""

    free: int = 3
    base_s: float = 1.0
    cap_s: float = 300.0
    forget_s: float = 3600.0

    def delay_s(self, failures: int) -> float:
        """The wait imposed after `failures` failures in a row."""
        if failures <= self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2 ** min(failures - self.free - 1, 62)))


class Backoff:
    """Thread-safe exponential back-off keyed by any string (a client address)."""

    def __init__(
        self, policy: BackoffPolicy, clock: Callable[[], float] = time.time, max_keys: int = 10_000
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key → (failures, last at)
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """Seconds `key` must still wait before its next attempt (0: it may try now)."""
        now = self._clock()
        with self._lock:
            failures, last = self._failures.get(key, (0, now))
            if now - last >= self.policy.forget_s:
                self._failures.pop(key, None)
                return 0.0
            return max(0.0, last + self.policy.delay_s(failures) - now)

    def failed(self, key: str) -> float:
        """Count a failure of `key`; returns the wait it now faces."""
        with self._lock:
            return self._count(key, self._clock())

    def attempt(self, key: str) -> float:
        """0 when `key` may try now, and the try counted as a failure at once (so parallel tries find the
        wait; `succeeded` forgets it); else the seconds still to wait, nothing counted."""
        now = self._clock()
        with self._lock:
            failures, last = self._failures.get(key, (0, now))
            if now - last < self.policy.forget_s and (wait := last + self.policy.delay_s(failures) - now) > 0:
                return wait
            self._count(key, now)
            return 0.0

    def _count(self, key: str, now: float) -> float:
        failures, last = self._failures.pop(key, (0, now))
        if now - last >= self.policy.forget_s:
            failures = 0
        self._failures[key] = (failures + 1, now)
        if len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)
        return self.policy.delay_s(failures + 1)

    def succeeded(self, key: str) -> None:
        """Forget `key`'s failures."""
        with self._lock:
            self._failures.pop(key, None)


@dataclass
class LoginGate:
    """The sign-in form's limits per client address: exponential back-off after refused sign-ins (whatever
    user names they were for), and a sliding window on all attempts (bounds password-hash work)."""

    clock: Callable[[], float] = time.time
    backoff: BackoffPolicy = BackoffPolicy()
    attempts: Limit = Limit(30, 60)
    _backoff: Backoff = field(init=False, repr=False)
    _attempts: RateLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._backoff = Backoff(self.backoff, self.clock)
        self._attempts = RateLimiter(self.attempts, self.clock)

    def admit(self, client: str) -> float:
        """0 when `client` may try a password now; else the seconds it must still wait.

        An admitted try counts as a refused one until `succeeded` says the password was right, so
        parallel requests from one client cannot all slip through the same opening.
        """
        if wait := self._backoff.wait_s(client):
            return wait
        return self._attempts.wait_s(client) or self._backoff.attempt(client)

    def succeeded(self, client: str) -> None:
        """A right password from `client` ends its back-off."""
        self._backoff.succeeded(client)


@dataclass
class StatusGate:
    """The resident status page's limits (`/q/<token>`): per client address (page loads and live-update
    connections alike) and for the whole service. Tokens are 192 random bits, so this is about load, not
    guessing; phones behind one carrier NAT share an address, hence a generous per-client window."""

    clock: Callable[[], float] = time.time
    client: Limit = Limit(30, 60)
    overall: Limit = Limit(6000, 60)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("overall", "client"):
            self._limiters[name] = RateLimiter(getattr(self, name), self.clock)

    def wait_s(self, client: str) -> float:
        """0 (and counted) when `client` may load the page now, else the seconds to wait."""
        return self._limiters["overall"].wait_s("all") or self._limiters["client"].wait_s(client)
