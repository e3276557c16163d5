"""Simulated counter staff of the demo (`central_broker.queue_link.SimulatedStaff`), step by step."""

from __future__ import annotations

import random

from central_broker.queue import EventKind, QueueService, StopState, TicketSource
from central_broker.queue_link import SimulatedStaff, StaffPlan
from central_broker.queue_link.simulated_staff import STAFF_PREFIX
from tests.fixtures.queue import BRANCH


class _Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _staff(queue: QueueService, clock: _Clock, **plan: object) -> SimulatedStaff:
    times = StaffPlan(walk_s=(1.0, 1.0), service_s=(2.0, 2.0), **plan)  # type: ignore[arg-type]
    return SimulatedStaff(queue, BRANCH, times, rng=random.Random(7), clock=clock)


def test_staff_call_start_and_finish_a_visit_sending_it_on_to_a_second_department(
    sqlite_queue: QueueService,
) -> None:
    """GIVEN a 引っ越し ticket and staff who always send moving visits on WHEN they work the counters THEN
    the number is called, served and done at shimin_1, then called and done at a second department's
    counter, every step journaled by the simulated staff, and the KPIs count one one-stop reception."""
    clock = _Clock()
    staff = _staff(sqlite_queue, clock, follow_up_share=1.0)
    ticket = sqlite_queue.take(BRANCH, "moving", source=TicketSource.KIOSK, device_id="k1")

    staff.step()  # opens every counter and calls A-1
    assert [(e.number, e.counter, e.state) for e in sqlite_queue.board(BRANCH)] == [
        ("A-1", "shimin_1", StopState.CALLED)
    ]
    assert {d.desk.counter for d in sqlite_queue.desks(BRANCH) if d.is_open} >= {
        "shimin_1",
        "hoken",
        "kodomo",
    }
    for _ in range(12):
        clock.now += 1.0
        staff.step()

    events = sqlite_queue.visit_events(ticket.visit.id)
    kinds = [e.kind for e in events]
    called_at = [e.counter for e in events if e.kind is EventKind.CALLED]
    assert called_at[0] == "shimin_1" and called_at[1] in ("hoken", "kodomo")
    assert kinds.count(EventKind.DONE) == 2 and kinds[-1] is EventKind.FINISHED
    assert all(e.actor.startswith(STAFF_PREFIX) for e in events if e.kind is not EventKind.ISSUED)
    assert (staff.called, staff.done) == (2, 2)
    assert sqlite_queue.kpis(BRANCH).one_stop == 1


def test_the_reception_desk_issues_numbers_the_staff_then_call(sqlite_queue: QueueService) -> None:
    """GIVEN staff with a reception desk issuing every 10 s WHEN 25 s pass THEN three numbers were issued as
    concierge tickets and every one was called."""
    clock = _Clock()
    staff = _staff(sqlite_queue, clock, concierge_every_s=10.0, follow_up_share=0.0)
    for _ in range(26):
        staff.step()
        clock.now += 1.0
    issued = [e for e in sqlite_queue.events(BRANCH) if e.kind is EventKind.ISSUED]
    assert len(issued) == staff.issued == 3
    assert all(e.detail == TicketSource.CONCIERGE.value for e in issued)
    assert staff.called == 3
