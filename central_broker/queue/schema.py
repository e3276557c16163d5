"""Tables of the visit queue, on the central store's database (own MetaData, like the orders).

A visit (`queue_visit`) holds one number for a branch and day; its route is its stops
(`queue_stop`, one per counter, in visit order). `queue_desk` says which counters are open at a
branch and which visit each has called. `queue_number` is the per-(branch, day, prefix) number
sequence; `queue_offline_block` the number block each kiosk issues from while offline.
`queue_event` journals every transition in the same transaction as the change. Times are epoch
milliseconds from the central clock, except offline `issued_at` (the kiosk's clock).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "metadata",
    "queue_category_state",
    "queue_desk",
    "queue_event",
    "queue_number",
    "queue_offline_block",
    "queue_offline_refused",
    "queue_rpc_answer",
    "queue_stop",
    "queue_visit",
]

metadata = MetaData()

queue_visit = Table(
    "queue_visit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(64), nullable=False),
    Column("day", String(10), nullable=False),  # business day, Japan date YYYY-MM-DD
    Column("prefix", String(1), nullable=False),
    Column("n", Integer, nullable=False),
    Column("number", String(16), nullable=False),  # "A-12"
    Column("category", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # VisitState
    Column("source", String(16), nullable=False),  # TicketSource
    Column("device_id", String(64), nullable=True),  # issuing kiosk
    Column("issued_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Column("token_hash", String(64), nullable=True),
    Column("token_expires", BigInteger, nullable=True),
    Column("changed_at", BigInteger, nullable=False),
    Index("ux_queue_visit_number", "branch", "day", "prefix", "n", unique=True),
    Index("ux_queue_visit_token", "token_hash", unique=True),
    Index("ix_queue_visit_day", "branch", "day", "state"),
)

queue_stop = Table(
    "queue_stop",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", Integer, ForeignKey("queue_visit.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # position in the route
    Column("branch", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("counter", String(64), nullable=False),
    Column("department", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # StopState
    Column("joined_at", BigInteger, nullable=True),  # first joined this counter's line (KPI wait)
    Column("entered_at", BigInteger, nullable=True),  # joined, or rejoined after a no-show: the FIFO key
    Column("first_called_at", BigInteger, nullable=True),
    Column("called_at", BigInteger, nullable=True),  # latest call or recall
    Column("recalls", Integer, nullable=False, default=0),
    Column("started_at", BigInteger, nullable=True),
    Column("done_at", BigInteger, nullable=True),
    Index("ux_queue_stop_visit_seq", "visit_id", "seq", unique=True),
    Index("ix_queue_stop_line", "branch", "day", "counter", "state", "entered_at"),
)

queue_desk = Table(
    "queue_desk",
    metadata,
    Column("branch", String(64), primary_key=True),
    Column("counter", String(64), primary_key=True),
    Column("is_open", Integer, nullable=False),  # 1 open, 0 closed
    Column("staff", String(64), nullable=True),
    Column("visit_id", Integer, nullable=True),  # the visit called or being served here
    Column("changed_at", BigInteger, nullable=False),
)

queue_number = Table(
    "queue_number",
    metadata,
    Column("branch", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("prefix", String(1), primary_key=True),
    Column("last_n", Integer, nullable=False),
)

queue_offline_block = Table(
    "queue_offline_block",
    metadata,
    Column("branch", String(64), primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("block", Integer, nullable=False),
    Column("assigned_at", BigInteger, nullable=False),
    Index("ux_queue_offline_block", "branch", "block", unique=True),
)

# Offline tickets the centre refused at merge (a resident holds a printed number nobody will call): shown to
# the branch's counter staff. One row per ticket, however often the kiosk submits it.
queue_offline_refused = Table(
    "queue_offline_refused",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(64), nullable=False),
    Column("day", String(10), nullable=False),  # business day the centre refused it
    Column("device_id", String(64), nullable=False),
    Column("number", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("issued_at", BigInteger, nullable=False),  # the kiosk's clock
    Column("reason", String(300), nullable=False),
    Column("refused_at", BigInteger, nullable=False),
    Index("ux_queue_offline_refused", "branch", "device_id", "number", "issued_at", unique=True),
    Index("ix_queue_offline_refused_day", "branch", "day"),
)

# Answers of queue.take / queue.merge by (device, req_id), so a retry that reaches another RPC worker or a
# restarted central gets the same answer (never a second number). Deleted after `expires_at`.
queue_rpc_answer = Table(
    "queue_rpc_answer",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("req_id", String(64), primary_key=True),
    Column("method", String(32), nullable=False),
    Column("subject", String(64), nullable=False),  # take: the category asked for; merge: ""
    Column("answer", Text, nullable=False),  # the result JSON (a take's holds its status token)
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_queue_rpc_answer_expires", "expires_at"),
)

queue_category_state = Table(
    "queue_category_state",
    metadata,
    Column("branch", String(64), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("closed", Integer, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

queue_event = Table(
    "queue_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("kind", String(24), nullable=False),  # EventKind
    Column("visit_id", Integer, nullable=True),
    Column("number", String(16), nullable=True),
    Column("counter", String(64), nullable=True),
    Column("actor", String(64), nullable=False),  # staff user, kiosk id or "central"
    Column("detail", Text, nullable=False, default=""),
    Index("ix_queue_event_day", "branch", "day", "id"),
    Index("ix_queue_event_visit", "visit_id", "id"),
)
