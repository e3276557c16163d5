"""Visit numbers: per category prefix, restarted at opening time, unique under concurrency; refusals at take."""

from __future__ import annotations

import threading
from datetime import time
from pathlib import Path

import pytest

from central_broker.queue import (
    QueueConfig,
    QueueError,
    QueueErrorKind,
    QueueService,
    TicketSource,
    business_day,
    open_queue,
)
from central_broker.store import sqlite_url
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from madoguchi.errors import ConfigError
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    OTHER_BRANCH,
    T0,
    at_jst,
)


def test_numbers_count_up_per_prefix_and_branch(queue: QueueService) -> None:
    """GIVEN an empty day WHEN tickets of two categories are taken at two branches
    THEN each (branch, prefix) counts A-1, A-2 … on its own."""
    numbers = [queue.take(BRANCH, "moving").visit.number for _ in range(3)]
    assert numbers == ["A-1", "A-2", "A-3"]
    assert queue.take(BRANCH, "certificates").visit.number == "B-1"
    assert queue.take(OTHER_BRANCH, "moving").visit.number == "A-1"
    assert queue.take(BRANCH, "moving").visit.number == "A-4"


def test_numbering_restarts_next_day_at_opening_time(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN A-1, A-2 issued on Monday WHEN the next day opens at 08:30 JST THEN the next ticket is A-1 again,
    and before opening no ticket is issued."""
    sqlite_queue.take(BRANCH, "moving")
    sqlite_queue.take(BRANCH, "moving")
    queue_clock.advance(at_jst(8, 8, 29) - T0)
    with pytest.raises(QueueError) as refused:
        sqlite_queue.take(BRANCH, "moving")
    assert refused.value.kind is QueueErrorKind.OUTSIDE_HOURS
    assert "08:30" in refused.value.message
    queue_clock.advance(60)
    taken = sqlite_queue.take(BRANCH, "moving")
    assert taken.visit.number == "A-1"
    assert taken.visit.day == "2026-12-08"
    assert sqlite_queue.visit_by_number(BRANCH, "A-2", day="2026-12-07").day == "2026-12-07"


def test_business_day_follows_a_configured_opening_time() -> None:
    """GIVEN opening at 07:00 WHEN times around it are mapped THEN 06:59 still belongs to the day before."""
    opening = time(7, 0)
    assert business_day(int(at_jst(8, 6, 59) * 1000), opening) == "2026-12-07"
    assert business_day(int(at_jst(8, 7, 0) * 1000), opening) == "2026-12-08"


def test_an_earlier_opening_time_is_honoured(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN a branch configured to open at 08:00 WHEN a ticket is taken at 08:10 THEN it is issued."""
    clock = SteppableClock(base=lambda: at_jst(7, 8, 10))
    config = QueueConfig(opening_time=time(8, 0))
    service = open_queue(sqlite_url(tmp_path / "c.db"), catalog, config, clock=clock)
    try:
        assert service.take(BRANCH, "moving").visit.number == "A-1"
    finally:
        service.close()


def test_concurrent_takes_from_threads_get_unique_numbers(queue: QueueService) -> None:
    """GIVEN 6 kiosks WHEN they take 15 tickets each at the same time THEN the 90 numbers are A-1…A-90, no gap."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def kiosk(k: int) -> None:
        start.wait()
        for _ in range(15):
            try:
                taken = queue.take(BRANCH, "moving", device_id=f"k{k}")
            except BaseException as exc:  # reported below
                errors.append(exc)
                return
            with lock:
                numbers.append(taken.visit.number)

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers, key=lambda s: int(s.split("-")[1])) == [f"A-{i}" for i in range(1, 91)]
    assert len(queue.line(DESK_A)) == 90


def test_unknown_category_is_refused_with_the_known_ones(sqlite_queue: QueueService) -> None:
    """GIVEN the sample catalog WHEN a kiosk asks for category "parking" THEN it is refused naming the real ones."""
    with pytest.raises(QueueError) as refused:
        sqlite_queue.take(BRANCH, "parking")
    assert refused.value.kind is QueueErrorKind.UNKNOWN_CATEGORY
    assert "moving" in refused.value.hint


def test_a_closed_category_is_refused_until_reopened(sqlite_queue: QueueService) -> None:
    """GIVEN staff closed "moving" at one branch WHEN tickets are taken THEN that branch refuses, others issue,
    and after reopening it issues again."""
    sqlite_queue.set_category_closed(BRANCH, "moving", True, actor="sato")
    with pytest.raises(QueueError) as refused:
        sqlite_queue.take(BRANCH, "moving")
    assert refused.value.kind is QueueErrorKind.CATEGORY_CLOSED
    assert sqlite_queue.take(OTHER_BRANCH, "moving").visit.number == "A-1"
    sqlite_queue.set_category_closed(BRANCH, "moving", False, actor="sato")
    assert sqlite_queue.take(BRANCH, "moving").visit.number == "A-1"


def test_config_closed_and_concierge_only_categories(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN "tax" closed by config and "children" concierge-only WHEN a kiosk asks THEN both are refused;
    reception staff still issue "children"."""
    categories = [
        c.model_copy(update={"concierge_only": True}) if c.id == "children" else c
        for c in catalog.queue.categories
    ]
    special = catalog.model_copy(
        update={"queue": catalog.queue.model_copy(update={"categories": categories})}
    )
    clock = SteppableClock(base=lambda: T0)
    config = QueueConfig(closed_categories=frozenset({"tax"}))
    service = open_queue(sqlite_url(tmp_path / "c.db"), special, config, clock=clock)
    try:
        with pytest.raises(QueueError) as closed:
            service.take(BRANCH, "tax")
        assert closed.value.kind is QueueErrorKind.CATEGORY_CLOSED
        with pytest.raises(QueueError) as concierge:
            service.take(BRANCH, "children")
        assert concierge.value.kind is QueueErrorKind.CONCIERGE_ONLY
        assert service.take(BRANCH, "children", source=TicketSource.CONCIERGE).visit.number == "F-1"
    finally:
        service.close()


def test_daily_cap_refuses_and_does_not_use_up_a_number(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN a cap of 2 "moving" tickets a day WHEN a third is asked THEN it is refused, other categories go on,
    and the next day A-1 is issued again."""
    clock = SteppableClock(base=lambda: T0)
    service = open_queue(
        sqlite_url(tmp_path / "c.db"), catalog, QueueConfig(daily_cap={"moving": 2}), clock=clock
    )
    try:
        service.take(BRANCH, "moving")
        service.take(BRANCH, "moving")
        for _ in range(2):
            with pytest.raises(QueueError) as capped:
                service.take(BRANCH, "moving")
            assert capped.value.kind is QueueErrorKind.DAILY_CAP
        assert service.take(BRANCH, "certificates").visit.number == "B-1"
        clock.advance(24 * 3600)
        assert service.take(BRANCH, "moving").visit.number == "A-1"
    finally:
        service.close()


def test_caps_that_would_reach_offline_numbers_are_a_config_error() -> None:
    """GIVEN a daily cap of 1000 WHEN the config is built THEN it is refused (offline blocks start at 1001)."""
    with pytest.raises(ConfigError):
        QueueConfig(daily_cap={"moving": 1000})
    with pytest.raises(ConfigError):
        QueueConfig(opening_time=time(18, 0))


def test_ticket_carries_route_estimate_and_a_status_token(sqlite_queue: QueueService) -> None:
    """GIVEN two residents waiting at shimin_1 WHEN a third takes "moving" then kodomo THEN the ticket shows
    the route in order, 2 people ahead, a range, and a 192-bit token."""
    sqlite_queue.take(BRANCH, "moving")
    sqlite_queue.take(BRANCH, "moving")
    taken = sqlite_queue.take(BRANCH, "moving", then=("kodomo",))
    assert taken.visit.route == ("shimin_1", "kodomo")
    assert taken.estimate.people_ahead == 2
    assert taken.estimate.lower_minutes < taken.estimate.upper_minutes
    assert len(taken.token) >= 32
    assert taken.token_expires == int(at_jst(8, 0) * 1000)
