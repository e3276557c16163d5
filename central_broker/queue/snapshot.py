"""Where every visit of a branch stands, read at once: what the live status pages share per journal change.

`branch_snapshot(queue, branch, last_id)` reads today's visits and stops of a branch in two queries and
computes, in memory, the same `VisitStatus` that `status_by_token` gives one visit at a time (people ahead =
waiting stops at the same counter that joined its line earlier; the counter's recent service times read
once per counter). Given the branch's `previous` snapshot, a visit whose rows did not change keeps its
`Visit` object (no rebuild: less work and less memory churn 2–4 times a second on a busy day).
`token_visit(queue, token)` resolves a status token to its visit once, so a live page can read its visit
from the snapshot afterwards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select

from central_broker.queue.base import hash_token, visit_of
from central_broker.queue.estimates import EstimateQueries, percentile, wait_range
from central_broker.queue.issuing import VisitStatus
from central_broker.queue.models import Estimate, StopState
from central_broker.queue.schema import queue_stop, queue_visit

__all__ = ["BranchSnapshot", "TokenVisit", "branch_snapshot", "token_visit"]

_logger = logging.getLogger(__name__)

TOKEN_MAX = 128


@dataclass(frozen=True)
class TokenVisit:
    """The visit a status token opens, and until when (epoch ms)."""

    visit_id: int
    branch: str
    expires_at: int


@dataclass(frozen=True)
class BranchSnapshot:
    """Every visit of `branch` on `day` with its status, as of journal entry `last_id` (or later)."""

    branch: str
    day: str
    last_id: int
    statuses: dict[int, VisitStatus]
    rows: dict[int, tuple[object, ...]] = field(default_factory=dict, repr=False, compare=False)  # as read


def token_visit(queue: EstimateQueries, token: str) -> TokenVisit | None:
    """The visit behind a status token; None alike for unknown, forged and expired tokens."""
    if not token or len(token) > TOKEN_MAX:
        return None
    with queue.engine.connect() as conn:
        row = conn.execute(
            select(queue_visit.c.id, queue_visit.c.branch, queue_visit.c.token_expires).where(
                (queue_visit.c.token_hash == hash_token(token))
                & (queue_visit.c.token_expires > queue.now_ms())
            )
        ).first()
    return None if row is None else TokenVisit(row.id, row.branch, int(row.token_expires))


def _service_samples(queue: EstimateQueries, stops: Sequence[Row[Any]]) -> dict[str, list[float]]:
    """Per counter: the minutes of its last `service_window` services (as `_service_minutes`)."""
    done: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for s in stops:
        began = s.first_called_at if s.first_called_at is not None else s.started_at
        if s.state == StopState.DONE.value and began is not None and s.done_at is not None:
            done[s.counter].append((s.done_at, s.id, max(0, s.done_at - began) / 60000))
    window = queue.config.service_window
    return {c: [m for *_, m in sorted(rows, reverse=True)[:window]] for c, rows in done.items()}


def _estimate(queue: EstimateQueries, counter: str, samples: list[float], ahead: int) -> Estimate:
    """The same range as `EstimateQueries._estimate`, from samples already read."""
    if samples:
        mean = sum(samples) / len(samples)
        low, high = percentile(samples, 25), percentile(samples, 75)
    else:
        mean = queue.config.default_service_for(counter)
        low, high = mean * 0.75, mean * 1.25
    lower, upper = wait_range(ahead, low, high)
    return Estimate(counter, ahead, lower, upper, round(mean, 2), bool(samples))


def branch_snapshot(
    queue: EstimateQueries, branch: str, last_id: int, previous: BranchSnapshot | None = None
) -> BranchSnapshot:
    """Status of every visit of `branch` today (read after journal entry `last_id` was seen); the `Visit` of
    `previous` (the branch's last snapshot) is kept for each visit whose rows are unchanged."""
    day = queue.today()
    if previous is not None and (previous.branch, previous.day) != (branch, day):
        previous = None
    with queue.engine.connect() as conn:
        visits = conn.execute(
            select(queue_visit).where((queue_visit.c.branch == branch) & (queue_visit.c.day == day))
        ).all()
        stops = conn.execute(
            select(queue_stop).where((queue_stop.c.branch == branch) & (queue_stop.c.day == day))
        ).all()
    by_visit: dict[int, list[Row[Any]]] = defaultdict(list)
    lines: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    for s in stops:
        by_visit[s.visit_id].append(s)
        if s.state == StopState.WAITING.value and s.entered_at is not None:
            lines[s.counter].append((s.entered_at, s.id, s.visit_id, s.seq))
    ahead_of: dict[tuple[int, int], int] = {}  # (visit id, seq) -> people ahead of that waiting stop
    for line in lines.values():
        for position, (_, _, visit_id, seq) in enumerate(sorted(line)):
            ahead_of[visit_id, seq] = position
    samples = _service_samples(queue, stops)
    statuses: dict[int, VisitStatus] = {}
    rows: dict[int, tuple[object, ...]] = {}
    for row in visits:
        visit_stops = by_visit.get(row.id, [])
        rows[row.id] = read = (tuple(row), *(tuple(s) for s in visit_stops))
        if previous is not None and previous.rows.get(row.id) == read:
            visit = previous.statuses[row.id].visit
        else:
            visit = visit_of(row, visit_stops)
        stop = visit.current
        estimate = None
        if stop is not None and stop.state is StopState.WAITING and stop.entered_at is not None:
            ahead = ahead_of.get((visit.id, stop.seq), 0)
            estimate = _estimate(queue, stop.counter, samples.get(stop.counter, []), ahead)
        statuses[visit.id] = VisitStatus(visit, estimate)
    _logger.debug("queue snapshot of %s at %d: %d visits", branch, last_id, len(statuses))
    return BranchSnapshot(branch, day, last_id, statuses, rows)
