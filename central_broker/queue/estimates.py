"""Wait estimates and congestion: people ahead × recent service time of the counter, as a range.

Recent service time: the last `QueueConfig.service_window` services of the counter at the branch
today, each from its first call to done. The range is the people ahead times the 25th and 75th
percentile of those times, widened outwards to whole 5 minutes and never narrower than 5 minutes
(`0–5`, `10–20`); before the counter has served anyone today the configured default is used with
±25 %. The congestion level of a category is judged on people waiting × mean service time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from central_broker.queue.base import QueueBase
from central_broker.queue.models import CongestionLevel, Estimate, QueueError, QueueErrorKind, StopState
from central_broker.queue.schema import queue_stop

__all__ = ["CategoryCongestion", "EstimateQueries", "percentile", "wait_range"]

STEP_MINUTES = 5


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile `p` (0–100) of non-empty `values`."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def wait_range(people_ahead: int, low_minutes: float, high_minutes: float) -> tuple[int, int]:
    """(lower, upper) minutes for `people_ahead` at `low`…`high` minutes each, on 5-minute steps."""
    lower = math.floor(people_ahead * low_minutes / STEP_MINUTES) * STEP_MINUTES
    upper = math.ceil(people_ahead * high_minutes / STEP_MINUTES) * STEP_MINUTES
    return lower, max(upper, lower + STEP_MINUTES)


@dataclass(frozen=True)
class CategoryCongestion:
    """The 混雑 lamp of one category at a branch (published to kiosks, retained per branch)."""

    category: str
    counter: str
    level: CongestionLevel
    waiting: int
    estimate: Estimate


class EstimateQueries(QueueBase):
    """Estimates for a new ticket, for a waiting visit, and congestion per category."""

    def _service_minutes(self, conn: Connection, branch: str, day: str, counter: str) -> list[float]:
        began = func.coalesce(queue_stop.c.first_called_at, queue_stop.c.started_at)
        rows = conn.execute(
            select(began.label("began"), queue_stop.c.done_at)
            .where(
                (queue_stop.c.branch == branch)
                & (queue_stop.c.day == day)
                & (queue_stop.c.counter == counter)
                & (queue_stop.c.state == StopState.DONE.value)
                & began.is_not(None)
            )
            .order_by(queue_stop.c.done_at.desc(), queue_stop.c.id.desc())
            .limit(self.config.service_window)
        ).all()
        return [max(0, r.done_at - r.began) / 60000 for r in rows]

    def _estimate(self, conn: Connection, branch: str, day: str, counter: str, ahead: int) -> Estimate:
        samples = self._service_minutes(conn, branch, day, counter)
        if samples:
            mean = sum(samples) / len(samples)
            low, high = percentile(samples, 25), percentile(samples, 75)
        else:
            mean = self.config.default_service_for(counter)
            low, high = mean * 0.75, mean * 1.25
        lower, upper = wait_range(ahead, low, high)
        return Estimate(counter, ahead, lower, upper, round(mean, 2), bool(samples))

    @staticmethod
    def _waiting(
        conn: Connection, branch: str, day: str, counter: str, behind: tuple[int, int] | None = None
    ) -> int:
        """People waiting at a counter; with `behind=(entered_at, stop id)` only those ahead of that stop."""
        cond = (
            (queue_stop.c.branch == branch)
            & (queue_stop.c.day == day)
            & (queue_stop.c.counter == counter)
            & (queue_stop.c.state == StopState.WAITING.value)
        )
        if behind is not None:
            entered, stop_id = behind
            cond = cond & (
                (queue_stop.c.entered_at < entered)
                | ((queue_stop.c.entered_at == entered) & (queue_stop.c.id < stop_id))
            )
        return int(conn.execute(select(func.count()).where(cond)).scalar() or 0)

    def estimate_for_counter(self, branch: str, counter: str) -> Estimate:
        """The wait of someone joining `counter`'s line at `branch` now."""
        self._counter(counter)
        day = self.today()
        with self.engine.connect() as conn:
            return self._estimate(conn, branch, day, counter, self._waiting(conn, branch, day, counter))

    def estimate_for_visit(self, visit_id: int) -> Estimate | None:
        """The wait of a visit at its current counter; None unless it is waiting in a line."""
        with self.engine.connect() as conn:
            visit = self._load(conn, visit_id)
            stop = visit.current
            if stop is None or stop.state is not StopState.WAITING or stop.entered_at is None:
                return None
            stop_id = conn.execute(
                select(queue_stop.c.id).where(
                    (queue_stop.c.visit_id == visit_id) & (queue_stop.c.seq == stop.seq)
                )
            ).scalar_one()
            ahead = self._waiting(
                conn, visit.branch, visit.day, stop.counter, behind=(stop.entered_at, stop_id)
            )
            return self._estimate(conn, visit.branch, visit.day, stop.counter, ahead)

    def congestion(self, branch: str) -> list[CategoryCongestion]:
        """The 混雑 level of every catalog category at `branch`, in catalog order."""
        settings = self.catalog.queue
        day = self.today()
        out: list[CategoryCongestion] = []
        with self.engine.connect() as conn:
            for category in settings.categories:
                waiting = self._waiting(conn, branch, day, category.counter)
                estimate = self._estimate(conn, branch, day, category.counter, waiting)
                minutes = estimate.middle_minutes
                if minutes <= settings.busy_from_minutes:
                    level = CongestionLevel.CALM
                elif minutes >= settings.crowded_from_minutes:
                    level = CongestionLevel.CROWDED
                else:
                    level = CongestionLevel.BUSY
                out.append(CategoryCongestion(category.id, category.counter, level, waiting, estimate))
        return out

    def congestion_of(self, branch: str, category: str) -> CategoryCongestion:
        """The 混雑 level of one category.

        Raises:
            QueueError: UNKNOWN_CATEGORY.
        """
        for item in self.congestion(branch):
            if item.category == category:
                return item
        raise QueueError(QueueErrorKind.UNKNOWN_CATEGORY, f"there is no ticket category {category!r}")
