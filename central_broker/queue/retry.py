"""Retry a queue write that met a transient lock (SQLite "database is locked", a PostgreSQL deadlock).

Every SQLite connection of the store waits up to its busy timeout (`store.engine`, 5 s) for the write
lock. Under heavy load a writer can still lose that wait (SQLite's busy handler is not a queue: the
ingest, the RPC workers and the web all write), and PostgreSQL aborts one side of a deadlock or a
serialization conflict. Either way the transaction was rolled back and nothing was written, so the
whole operation can run again. `retry_on_lock` does that a bounded number of times with growing, jittered
waits (`LockRetry`), then lets the error through: the caller reports it (the counter page answers 500, the
simulated staff log it and try at their next tick) and is not left half-done.

Only whole operations that are one transaction and touch nothing outside it are retried (the staff
actions, opening and closing a counter, routing, closing a category, and `take` / `offline_block` /
`merge_offline`, whose RPC answer is written inside that transaction); a `QueueError` (a refusal) is never
retried.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.exc import DBAPIError

__all__ = ["LockRetry", "is_transient_lock", "retry_on_lock"]

_logger = logging.getLogger(__name__)

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_PG_TRANSIENT = frozenset({"40001", "40P01", "55P03"})
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")

_P = ParamSpec("_P")
_T = TypeVar("_T")


def is_transient_lock(exc: BaseException) -> bool:
    """Whether `exc` is a database error that a new attempt of the same transaction may not meet."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_TRANSIENT:
        return True
    text = str(orig).lower()
    return any(marker in text for marker in _SQLITE_TRANSIENT)


@dataclass(frozen=True)
class LockRetry:
    """How often and how long a write that met a lock is tried again.

    Args:
        attempts: tries in all (the first included).
        first_wait_s: wait before the second try; doubled before each further one.
        max_wait_s: no single wait is longer.
        sleep: waits (tests pass one that releases the lock they hold).
    """

    attempts: int = 4
    first_wait_s: float = 0.05
    max_wait_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def wait_s(self, retry: int) -> float:
        """The wait before retry number `retry` (1 = the second try), with ±50 % jitter."""
        base = min(self.max_wait_s, self.first_wait_s * 2.0 ** (retry - 1))
        return base * random.uniform(0.5, 1.5)  # noqa: S311 - spreads writers apart, not security


class _HasLockRetry(Protocol):
    lock_retry: LockRetry


_S = TypeVar("_S", bound=_HasLockRetry)


def retry_on_lock(
    operation: Callable[Concatenate[_S, _P], _T],
) -> Callable[Concatenate[_S, _P], _T]:
    """Run the method again (per `self.lock_retry`) when it fails on a transient lock; other errors pass."""

    def retrying(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        policy = self.lock_retry
        for retry in range(1, policy.attempts):
            try:
                return operation(self, *args, **kwargs)
            except DBAPIError as exc:
                if not is_transient_lock(exc):
                    raise
                wait = policy.wait_s(retry)
                _logger.warning(
                    "queue %s met a locked database (try %d of %d); trying again in %.2f s",
                    operation.__name__,
                    retry,
                    policy.attempts,
                    wait,
                )
                policy.sleep(wait)
        return operation(self, *args, **kwargs)  # the last try: its error goes to the caller

    retrying.__name__ = operation.__name__
    retrying.__qualname__ = operation.__qualname__
    retrying.__doc__ = operation.__doc__
    return retrying
