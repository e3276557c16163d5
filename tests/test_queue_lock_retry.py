"""Staff actions and the simulated staff under a held SQLite write lock ("database is locked").

Another process holds the store's write lock (a raw `sqlite3` connection in `BEGIN IMMEDIATE`). The queue's
engine here waits 50 ms for the lock instead of the store's 5 s, so a lost wait happens at once; the
retry's sleep is replaced by one that releases (or keeps) the lock, so nothing depends on timing.
"""

from __future__ import annotations

import logging
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from central_broker.queue import QueueService, StopState, TicketSource, open_queue
from central_broker.queue.retry import LockRetry
from central_broker.queue_link import SimulatedStaff, StaffPlan
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from tests.fixtures.queue import BRANCH, DESK_A, STAFF


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "central.db"


@pytest.fixture
def impatient_queue(db_path: Path, catalog: Catalog, queue_clock: SteppableClock) -> Iterator[QueueService]:
    """A queue service whose connections give up waiting for the write lock after 50 ms."""
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"check_same_thread": False, "timeout": 0.05})
    service = open_queue(engine, catalog, clock=queue_clock)
    yield service
    engine.dispose()


class _Holder:
    """Another process's connection holding the database's write lock until `release`."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, timeout=0.05)
        self.db.execute("BEGIN IMMEDIATE")
        self.waits: list[float] = []

    def release(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def release_on_first_wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.release()

    def keep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def close(self) -> None:
        self.release()
        self.db.close()


@pytest.fixture
def holder(db_path: Path, impatient_queue: QueueService) -> Iterator[_Holder]:
    held = _Holder(db_path)
    yield held
    held.close()


def test_a_call_that_meets_a_held_write_lock_is_tried_again_and_calls_the_number(
    impatient_queue: QueueService, db_path: Path
) -> None:
    """GIVEN a waiting A-1 at an open counter and another writer holding the database's write lock WHEN staff
    press call and the lock is released while the call waits THEN A-1 is called (on the board), not a
    "database is locked" error."""
    impatient_queue.open_desk(DESK_A, STAFF)
    impatient_queue.take(BRANCH, "moving", source=TicketSource.KIOSK, device_id="k1")
    held = _Holder(db_path)
    try:
        impatient_queue.lock_retry = LockRetry(sleep=held.release_on_first_wait)
        visit = impatient_queue.call_next(DESK_A, STAFF)
    finally:
        held.close()
    assert visit is not None and visit.number == "A-1"
    assert [(e.number, e.state) for e in impatient_queue.board(BRANCH)] == [("A-1", StopState.CALLED)]
    assert len(held.waits) == 1


def test_retries_are_bounded_and_growing_then_the_error_reaches_the_caller(
    impatient_queue: QueueService, holder: _Holder
) -> None:
    """GIVEN the write lock held for good WHEN staff open a counter THEN the queue tries a bounded number of
    times with growing waits, then reports the locked database (nothing written, no endless wait)."""
    impatient_queue.lock_retry = LockRetry(attempts=4, first_wait_s=0.1, max_wait_s=0.25, sleep=holder.keep)
    with pytest.raises(OperationalError, match="database is locked"):
        impatient_queue.open_desk(DESK_A, STAFF)
    assert len(holder.waits) == 3
    assert 0.05 <= holder.waits[0] <= 0.15 and all(w <= 0.375 for w in holder.waits)
    holder.release()
    assert not any(d.is_open for d in impatient_queue.desks(BRANCH))


def test_simulated_staff_keep_working_through_a_locked_database(
    impatient_queue: QueueService, holder: _Holder, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN simulated staff and a ticket WHEN the database stays locked through a whole step THEN the step
    logs it and returns (the staff thread would go on), and once the lock is gone the next step opens the
    counters and calls the number."""
    impatient_queue.lock_retry = LockRetry(attempts=2, sleep=holder.keep)
    staff = SimulatedStaff(impatient_queue, BRANCH, StaffPlan(counters=("shimin_1",)), rng=random.Random(3))
    holder.release()
    impatient_queue.take(BRANCH, "moving", source=TicketSource.KIOSK, device_id="k1")
    holder.db.execute("BEGIN IMMEDIATE")

    with caplog.at_level(logging.WARNING):
        staff.step()
    assert staff.called == 0 and staff.lock_waits == 1
    assert any("stayed locked" in r.getMessage() for r in caplog.records)

    holder.release()
    staff.step()
    assert staff.called == 1
    assert [(e.number, e.counter) for e in impatient_queue.board(BRANCH)] == [("A-1", "shimin_1")]


def test_a_ticket_taken_while_another_writer_holds_the_lock_is_issued_once(
    impatient_queue: QueueService, holder: _Holder
) -> None:
    """GIVEN another writer holding the write lock WHEN a kiosk takes a number and the lock is released while
    it waits THEN the resident gets A-1, and exactly one visit exists (the failed try wrote nothing)."""
    impatient_queue.lock_retry = LockRetry(sleep=holder.release_on_first_wait)
    ticket = impatient_queue.take(BRANCH, "moving", source=TicketSource.KIOSK, device_id="k1")
    assert ticket.visit.number == "A-1" and len(holder.waits) == 1
    assert [v.number for v in impatient_queue.line(DESK_A)] == ["A-1"]
