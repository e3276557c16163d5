"""Simulated counter staff for the demo: they open the counters, call, start and finish visits in seconds.

`SimulatedStaff` works one branch through the normal `QueueService` API (every step journaled, so the
display board, the status pages and the KPIs move as with people). Per counter: call the next waiting
visit, start after a short walk, mark it done after a short random service time; a visit of a category
with follow-up counters (moving → health insurance or child allowance) is sometimes sent on to one, so
multi-counter visits and one-stop receptions happen too. Optionally it also issues tickets as the
reception desk (`concierge_every_s`) when no kiosk residents take any.

A step that meets a database still locked after the queue's own retries (`queue.retry`) is logged and
done at a later tick; the thread never ends on an error.

Started by `madoguchi-demo` against the central's store; not used by `kiosk-central serve`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from central_broker.queue import Desk, QueueError, QueueService, Staff, StopState, TicketSource, Visit
from central_broker.queue.retry import is_transient_lock

__all__ = ["STAFF_PREFIX", "SimulatedStaff", "StaffPlan"]

_logger = logging.getLogger(__name__)

STAFF_PREFIX = "simulated-"  # + counter id: the staff name journaled and shown on the counter page
DEFAULT_FOLLOW_UPS: Mapping[str, tuple[str, ...]] = {"moving": ("hoken", "kodomo")}


@dataclass(frozen=True)
class StaffPlan:
    """How the simulated staff work (times in real seconds: a day compressed).

    Args:
        counters: counters to open; empty: every queue category's counter and the follow-up counters.
        walk_s: called → start (the resident walks to the counter), min and max.
        service_s: start → done, min and max.
        follow_ups: category id → counters a visit of it may be sent on to after its first counter.
        follow_up_share: share of such visits sent on.
        concierge_every_s: issue a reception ticket this often (None: only kiosks issue).
        tick_s: how often the staff look at their counters.
    """

    counters: tuple[str, ...] = ()
    walk_s: tuple[float, float] = (1.0, 2.0)
    service_s: tuple[float, float] = (3.0, 8.0)
    follow_ups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FOLLOW_UPS))
    follow_up_share: float = 0.5
    concierge_every_s: float | None = None
    tick_s: float = 0.5


class SimulatedStaff:
    """Counter staff of one branch, played by a thread (`start`/`stop`) or step by step (`step`).

    Args:
        queue: the queue service on the central's store.
        branch: the branch office whose counters they work.
        plan: times and counters.
        rng: random source (tests pass a seeded one).
        clock: monotonic seconds.
    """

    def __init__(
        self,
        queue: QueueService,
        branch: str,
        plan: StaffPlan | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.branch = branch
        self.plan = plan or StaffPlan()
        self.counters = self.plan.counters or self._default_counters()
        self._rng = rng or random.Random()  # noqa: S311 - simulated service times, not security
        self._clock = clock
        self._due: dict[str, tuple[int, float]] = {}  # counter → (visit id, when its next step is due)
        self.concierge_every_s = self.plan.concierge_every_s  # may be changed while running
        self._next_concierge = clock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.called = 0
        self.done = 0
        self.issued = 0
        self.lock_waits = 0  # steps put off because the database stayed locked

    def _default_counters(self) -> tuple[str, ...]:
        counters = [c.counter for c in self.queue.catalog.queue.categories if not c.concierge_only]
        for extra in self.plan.follow_ups.values():
            counters += extra
        return tuple(dict.fromkeys(counters))

    def _staff(self, counter: str) -> Staff:
        return Staff(STAFF_PREFIX + counter, self.branch)

    def _later(self, counter: str, visit_id: int, span: tuple[float, float]) -> None:
        self._due[counter] = (visit_id, self._clock() + self._rng.uniform(*span))

    def _is_due(self, counter: str, visit_id: int, span: tuple[float, float]) -> bool:
        due = self._due.get(counter)
        if due is None or due[0] != visit_id:  # held from before (a restart) or by another hand
            self._later(counter, visit_id, span)
            return False
        return self._clock() >= due[1]

    def step(self) -> None:
        """Look at every counter once and do what is due (open, call, start, done, send on)."""
        statuses = {s.desk.counter: s for s in self.queue.desks(self.branch)}
        for counter in self.counters:
            status = statuses.get(counter)
            desk, staff = Desk(self.branch, counter), self._staff(counter)
            try:
                if status is None or not status.is_open:
                    self.queue.open_desk(desk, staff)
                    self._call(desk, staff)
                elif status.visit_id is None:
                    self._call(desk, staff)
                elif status.state is StopState.CALLED:
                    if self._is_due(counter, status.visit_id, self.plan.walk_s):
                        visit = self.queue.start(desk, staff, visit_id=status.visit_id)
                        self._maybe_send_on(visit, staff)
                        self._later(counter, visit.id, self.plan.service_s)
                elif status.state is StopState.SERVING and self._is_due(
                    counter, status.visit_id, self.plan.service_s
                ):
                    visit = self.queue.done(desk, staff, visit_id=status.visit_id)
                    self.done += 1
                    self._due.pop(counter, None)
                    _logger.debug("%s done at %s (%s)", visit.number, counter, visit.state.value)
            except QueueError as exc:
                _logger.info("simulated staff at %s: %s", counter, exc)
                self._due.pop(counter, None)
            except DBAPIError as exc:
                if not is_transient_lock(exc):
                    raise
                self._locked(counter)  # nothing was written: the same step is due at the next tick
        try:
            self._concierge()
        except DBAPIError as exc:
            if not is_transient_lock(exc):
                raise
            self._locked("reception")

    def _locked(self, where: str) -> None:
        self.lock_waits += 1
        _logger.warning("simulated staff at %s/%s: the database stayed locked; next tick", self.branch, where)

    def _call(self, desk: Desk, staff: Staff) -> None:
        visit = self.queue.call_next(desk, staff)
        if visit is not None:
            self.called += 1
            self._later(desk.counter, visit.id, self.plan.walk_s)

    def _maybe_send_on(self, visit: Visit, staff: Staff) -> None:
        """Sometimes the resident needs another department too: add one counter after this one."""
        follow = [c for c in self.plan.follow_ups.get(visit.category, ()) if c in self.counters]
        if not follow or visit.next_stops or len(visit.stops) > 1:
            return
        if self._rng.random() < self.plan.follow_up_share:
            self.queue.add_counter(visit.id, self._rng.choice(follow), staff)

    def _concierge(self) -> None:
        every = self.concierge_every_s
        if every is None or self._clock() < self._next_concierge:
            return
        self._next_concierge = self._clock() + every
        categories = [c.id for c in self.queue.catalog.queue.categories if c.counter in self.counters]
        if categories:
            self.take_ticket(self._rng.choice(categories))

    def take_ticket(self, category: str) -> str:
        """Issue a number at the reception desk (source concierge); its status token.

        Raises:
            QueueError: the queue refused (outside hours, closed category, daily cap …).
        """
        ticket = self.queue.take(self.branch, category, source=TicketSource.CONCIERGE)
        self.issued += 1
        return ticket.token

    def _run(self) -> None:
        while not self._stopped.wait(self.plan.tick_s):
            try:
                self.step()
            except Exception:  # e.g. a store restart: never end the thread, try again next tick
                _logger.exception("simulated staff at %s: step failed", self.branch)

    def start(self) -> None:
        """Work the counters in a background thread until `stop`."""
        self._thread = threading.Thread(target=self._run, name="simulated-staff", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop working (counters stay open, as when people go home without closing them)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(5.0)
