"""Offline 整理券: numbers from the kiosk's own block, journaled before they are printed (docs/queue.md).

`<data_dir>/queue/offline.sqlite` (WAL, synchronous=FULL) keeps:

- the kiosk's block (`queue.block`, fetched once while online) and the status page's address base;
- the last number used per (business day, prefix): block b issues b×1000+1 … b×1000+999;
- every offline ticket (number, category, issue time, `then`, SHA-256 of its status token) until the
  central has given it a definite outcome (`merged`, `duplicate`, `expired`; `rejected` ones stay, marked,
  for staff).

`issue()` takes the next number and journals the ticket in one transaction, before anything is printed:
a power cut between the journal and the printer uses the number up (it is merged like any other), so no
number is ever printed twice. The business day starts at the branch's opening time in Japan time: the one
the central pushes with the lamps (`CongestionView.opening_time`, kept in `settings`), `[queue]
opening_time` of kiosk.toml (default 08:30) only before the first push. 08:29 still belongs to the day
before, as at the central.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from madoguchi.contracts.queue import BlockView, MergeItem, MergeResult, OfflineTicketIn
from madoguchi.sqlite import connect_durable

__all__ = ["OfflineIssued", "OfflineUnavailable", "QueueJournal", "business_day", "token_hash"]

_logger = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
BLOCK_SIZE = 1000  # block b: numbers b*1000+1 … b*1000+999
MAX_IN_BLOCK = 999
BATCH = 200  # MergeParams.tickets max_length
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS numbers (
    day TEXT NOT NULL, prefix TEXT NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (day, prefix)
);
CREATE TABLE IF NOT EXISTS tickets (
    number TEXT NOT NULL, day TEXT NOT NULL, category TEXT NOT NULL, issued_ms INTEGER NOT NULL,
    token_hash TEXT NOT NULL, then_json TEXT NOT NULL, printed INTEGER NOT NULL DEFAULT 0,
    rejected TEXT, tries INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, number)
);
"""


class OfflineUnavailable(Exception):
    """No offline number can be issued: no block yet, or the block is used up for the day."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OfflineIssued:
    """A ticket issued from the block; `token` is printed once (QR) and only its hash is kept."""

    number: str
    category: str
    issued_ms: int
    token: str
    status_url: str | None
    day: str


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a status token: what the central stores and matches."""
    return hashlib.sha256(token.encode()).hexdigest()


def business_day(at_ms: int, opening: str = "08:30") -> str:
    """The business day (YYYY-MM-DD, Japan time) a moment belongs to: it starts at the opening time."""
    hours, minutes = (int(part) for part in opening.split(":"))
    local = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(JST)
    return (local - timedelta(hours=hours, minutes=minutes)).date().isoformat()


class QueueJournal:
    """The kiosk's offline block, numbering and ticket journal (thread-safe)."""

    def __init__(
        self,
        path: Path,
        *,
        opening_time: str = "08:30",
        status_url_base: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = connect_durable(path, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._configured_opening = opening_time
        self._configured_base = status_url_base
        self.clock = clock

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # --- settings -------------------------------------------------------------------------------------

    def _setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
        self._db.execute("COMMIT")

    @property
    def opening_time(self) -> str:
        """Where the business day starts (HH:MM JST): the central's pushed value, else kiosk.toml's."""
        with self._lock:
            pushed = self._setting("opening_time")
        return pushed or self._configured_opening

    def adopt_opening_time(self, opening_time: str) -> None:
        """Use the central's opening time (from `down/queue`) from now on, also after a restart."""
        if not _HHMM.match(opening_time):
            _logger.warning("opening time %r from the central ignored: not HH:MM", opening_time)
            return
        with self._lock:
            pushed = self._setting("opening_time")
            if pushed == opening_time:
                return
            self._set("opening_time", opening_time)
        previous = pushed or self._configured_opening
        _logger.info("business day starts at %s JST (the central's; was %s)", opening_time, previous)

    def block(self) -> BlockView | None:
        """The block fetched from the central (None before the first `queue.block` answer)."""
        with self._lock:
            raw = self._setting("block")
        return None if raw is None else BlockView.model_validate_json(raw)

    def set_block(self, block: BlockView) -> None:
        """Keep the central's block answer (it never changes for this kiosk and branch)."""
        with self._lock:
            self._set("block", block.model_dump_json())

    def status_url_base(self) -> str:
        """The address a status token is appended to: learnt from an online ticket, else the config's."""
        with self._lock:
            learnt = self._setting("status_url_base")
        return learnt or self._configured_base

    def learn_status_url(self, status_url: str, token: str) -> None:
        """Remember the status page's address from an online ticket (its URL ends with its token)."""
        if token and status_url.endswith(token) and len(status_url) > len(token):
            base = status_url[: -len(token)]
            with self._lock:
                if self._setting("status_url_base") != base:
                    self._set("status_url_base", base)

    # --- issuing --------------------------------------------------------------------------------------

    def issue(self, category: str, prefix: str, then: tuple[str, ...] = ()) -> OfflineIssued:
        """Take the next number of `prefix` from the block and journal the ticket (durably, before printing).

        Raises:
            OfflineUnavailable: no block yet, or all 999 numbers of the block are used today.
        """
        block = self.block()
        if block is None:
            raise OfflineUnavailable("no_block")
        now_ms = int(self.clock() * 1000)
        day = business_day(now_ms, self.opening_time)  # read before the lock: the property takes it
        token = secrets.token_urlsafe(24)  # 192 random bits
        base = self.status_url_base()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT last FROM numbers WHERE day = ? AND prefix = ?", (day, prefix)
                ).fetchone()
                start = max(block.first, block.block * BLOCK_SIZE + 1)
                end = min(block.last, block.block * BLOCK_SIZE + MAX_IN_BLOCK)
                n = start if row is None else max(int(row[0]) + 1, start)
                if n > end:
                    raise OfflineUnavailable("block_used_up")
                number = f"{prefix}-{n}"
                self._db.execute(
                    "INSERT OR REPLACE INTO numbers (day, prefix, last) VALUES (?, ?, ?)", (day, prefix, n)
                )
                self._db.execute(
                    "INSERT INTO tickets (number, day, category, issued_ms, token_hash, then_json)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (number, day, category, now_ms, token_hash(token), json.dumps(list(then))),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        _logger.info("offline ticket %s issued (%s)", number, category)
        return OfflineIssued(number, category, now_ms, token, base + token if base else None, day)

    def mark_printed(self, day: str, number: str) -> None:
        """The ticket came out of the printer (for staff: an unprinted one may be a power cut)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE tickets SET printed = 1 WHERE day = ? AND number = ?", (day, number))
            self._db.execute("COMMIT")

    # --- merging --------------------------------------------------------------------------------------

    def unmerged(self) -> list[OfflineTicketIn]:
        """Tickets the central has not settled yet (rejected ones excluded), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number, category, issued_ms, token_hash, then_json FROM tickets"
                " WHERE rejected IS NULL ORDER BY issued_ms, number"
            ).fetchall()
        return [
            OfflineTicketIn(
                number=r[0], category=r[1], issued_at=r[2], token_hash=r[3], then=json.loads(r[4])
            )
            for r in rows
        ]

    def rejected(self, day: str | None = None) -> list[tuple[str, str]]:
        """(number, reason) of tickets the central rejected (of business day `day` if given): kept for staff."""
        query = "SELECT number, rejected FROM tickets WHERE rejected IS NOT NULL"
        args: tuple[str, ...] = ()
        if day is not None:
            query, args = query + " AND day = ?", (day,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY issued_ms", args).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def today(self) -> str:
        """The current business day by the opening time in force."""
        return business_day(int(self.clock() * 1000), self.opening_time)

    def settle(self, sent: list[OfflineTicketIn], results: list[MergeItem]) -> int:
        """Apply the central's outcomes: definite ones leave the journal, rejected ones are marked.

        A ticket without an outcome in `results` stays for the next attempt. Returns how many left.
        """
        issued = {(t.number, t.issued_at) for t in sent}
        by_number = {t.number: t for t in sent}
        removed = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for item in results:
                ticket = by_number.get(item.number)
                if ticket is None or (ticket.number, ticket.issued_at) not in issued:
                    continue  # an answer for a ticket not sent in this batch: ignore
                if item.outcome is MergeResult.REJECTED:
                    self._db.execute(
                        "UPDATE tickets SET rejected = ? WHERE number = ? AND issued_ms = ?",
                        (item.reason or "rejected", ticket.number, ticket.issued_at),
                    )
                    _logger.error("offline ticket %s rejected by the central: %s", item.number, item.reason)
                    continue
                cursor = self._db.execute(
                    "DELETE FROM tickets WHERE number = ? AND issued_ms = ?",
                    (ticket.number, ticket.issued_at),
                )
                removed += cursor.rowcount
            self._db.execute("COMMIT")
        return removed

    def batches(self) -> list[list[OfflineTicketIn]]:
        """The unmerged tickets in batches the central accepts, oldest first."""
        pending = self.unmerged()
        return [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
