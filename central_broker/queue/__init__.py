"""Visit queue (待たない窓口, issue 18): one number per visit across counters, calling, estimates, KPIs.

See docs/queue.md for the model, the states and the API the RPC and web layers build on.
"""

from __future__ import annotations

from central_broker.queue.days import OFFLINE_BLOCK_SIZE, business_day, format_number, parse_number
from central_broker.queue.desks import BoardEntry, DeskStatus
from central_broker.queue.estimates import CategoryCongestion
from central_broker.queue.issuing import VisitStatus
from central_broker.queue.kpis import DurationStat, QueueKpis
from central_broker.queue.models import (
    CongestionLevel,
    Desk,
    Estimate,
    EventKind,
    NoShowPolicy,
    QueueConfig,
    QueueError,
    QueueErrorKind,
    QueueEvent,
    Staff,
    Stop,
    StopState,
    TakenTicket,
    TicketSource,
    Visit,
    VisitState,
)
from central_broker.queue.offline import MergeOutcome, OfflineBlock, OfflineTicket, TicketMerge
from central_broker.queue.refused import RefusedTicket
from central_broker.queue.service import QueueService, open_queue

__all__ = [
    "OFFLINE_BLOCK_SIZE",
    "BoardEntry",
    "CategoryCongestion",
    "CongestionLevel",
    "Desk",
    "DeskStatus",
    "DurationStat",
    "Estimate",
    "EventKind",
    "MergeOutcome",
    "NoShowPolicy",
    "OfflineBlock",
    "OfflineTicket",
    "QueueConfig",
    "QueueError",
    "QueueErrorKind",
    "QueueEvent",
    "QueueKpis",
    "QueueService",
    "RefusedTicket",
    "Staff",
    "Stop",
    "StopState",
    "TakenTicket",
    "TicketMerge",
    "TicketSource",
    "Visit",
    "VisitState",
    "VisitStatus",
    "business_day",
    "format_number",
    "open_queue",
    "parse_number",
]
