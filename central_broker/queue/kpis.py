"""KPIs of a branch's day (kiosk-requirements §8): waits, stays, no-shows, tickets, one-stop receptions.

- wait at a counter = its first call − when the visit joined that counter's line (for the first
  counter: the issue time), grouped by counter and the Japan hour it joined;
- stay = last done − issue, for finished visits, grouped by the visit's first counter and issue hour;
- no-shows per counter (journal), tickets per category and issue hour;
- one-stop receptions = visits served (done) at counters of ≥ 2 departments (Isesaki Out②).
Medians and p90 are nearest-rank, in seconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from central_broker.queue.days import local_hour
from central_broker.queue.estimates import percentile
from central_broker.queue.models import EventKind, StopState, VisitState
from central_broker.queue.offline import OfflineMerge
from central_broker.queue.schema import queue_event, queue_stop, queue_visit

__all__ = ["DurationStat", "KpiQueries", "QueueKpis"]


@dataclass(frozen=True)
class DurationStat:
    """Median and p90 (seconds) of the durations in one (counter, hour) cell."""

    counter: str
    hour: int
    count: int
    median_s: float
    p90_s: float


@dataclass(frozen=True)
class QueueKpis:
    """The figures of one business day at one branch."""

    branch: str
    day: str
    visits: int
    finished: int
    cancelled: int
    one_stop: int  # visits served at ≥ 2 departments
    wait: list[DurationStat] = field(default_factory=list)
    stay: list[DurationStat] = field(default_factory=list)
    no_shows: dict[str, int] = field(default_factory=dict)  # counter → count
    tickets: dict[tuple[str, int], int] = field(default_factory=dict)  # (category, hour) → count


def _stats(cells: dict[tuple[str, int], list[float]]) -> list[DurationStat]:
    return [
        DurationStat(counter, hour, len(values), percentile(values, 50), percentile(values, 90))
        for (counter, hour), values in sorted(cells.items())
    ]


class KpiQueries(OfflineMerge):
    """`kpis(branch, day)` for the web dashboard and CSV."""

    def kpis(self, branch: str, day: str | None = None) -> QueueKpis:
        """The KPI figures of `day` (default today) at `branch`."""
        day = day or self.today()
        with self.engine.connect() as conn:
            visits = conn.execute(
                select(
                    queue_visit.c.id, queue_visit.c.category, queue_visit.c.state, queue_visit.c.issued_at
                ).where((queue_visit.c.branch == branch) & (queue_visit.c.day == day))
            ).all()
            stops = conn.execute(
                select(
                    queue_stop.c.visit_id,
                    queue_stop.c.seq,
                    queue_stop.c.counter,
                    queue_stop.c.department,
                    queue_stop.c.state,
                    queue_stop.c.joined_at,
                    queue_stop.c.first_called_at,
                    queue_stop.c.done_at,
                )
                .where((queue_stop.c.branch == branch) & (queue_stop.c.day == day))
                .order_by(queue_stop.c.visit_id, queue_stop.c.seq)
            ).all()
            no_shows = conn.execute(
                select(queue_event.c.counter, func.count())
                .where(
                    (queue_event.c.branch == branch)
                    & (queue_event.c.day == day)
                    & (queue_event.c.kind == EventKind.NO_SHOW.value)
                )
                .group_by(queue_event.c.counter)
            ).all()
        by_visit: dict[int, list[tuple[str, str, str, int | None, int | None, int | None]]] = defaultdict(
            list
        )
        waits: dict[tuple[str, int], list[float]] = defaultdict(list)
        for s in stops:
            by_visit[s.visit_id].append(
                (s.counter, s.department, s.state, s.joined_at, s.first_called_at, s.done_at)
            )
            if s.first_called_at is not None and s.joined_at is not None:
                waits[(s.counter, local_hour(s.joined_at))].append((s.first_called_at - s.joined_at) / 1000)
        stays: dict[tuple[str, int], list[float]] = defaultdict(list)
        tickets: Counter[tuple[str, int]] = Counter()
        one_stop = 0
        for v in visits:
            hour = local_hour(v.issued_at)
            tickets[(v.category, hour)] += 1
            route = by_visit.get(v.id, [])
            done = [r for r in route if r[2] == StopState.DONE.value]
            if len({r[1] for r in done}) >= 2:
                one_stop += 1
            ends = [r[5] for r in done if r[5] is not None]
            if v.state == VisitState.FINISHED.value and ends and route:
                stays[(route[0][0], hour)].append((max(ends) - v.issued_at) / 1000)
        return QueueKpis(
            branch=branch,
            day=day,
            visits=len(visits),
            finished=sum(1 for v in visits if v.state == VisitState.FINISHED.value),
            cancelled=sum(1 for v in visits if v.state == VisitState.CANCELLED.value),
            one_stop=one_stop,
            wait=_stats(waits),
            stay=_stats(stays),
            no_shows={str(c): int(n) for c, n in no_shows},
            tickets=dict(sorted(tickets.items())),
        )
