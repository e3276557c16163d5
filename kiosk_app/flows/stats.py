"""Anonymous statistics of one session (completed or aborted): what `madoguchi.contracts.messages.StatsItem` carries.

No personal data: no name, PIN, card data or order contents — only the kind of service, the
certificate type, copies, fee, method, seconds per step, abort reason and rating (R-36).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from madoguchi.contracts.messages import StatsItem

__all__ = ["AbortReason", "Outcome", "SessionStats", "StepTimes"]


class Outcome(enum.StrEnum):
    """How a session ended."""

    COMPLETED = "completed"
    ABORTED = "aborted"  # ended before any money was taken
    FAILED = "failed"  # paid but not delivered, or payment outcome unknown: staff follow up


class AbortReason(enum.StrEnum):
    """Why a session did not complete."""

    CANCELLED = "cancelled"
    CARD_REMOVED = "card_removed"
    IDLE_TIMEOUT = "idle_timeout"
    PIN_FORGOTTEN = "pin_forgotten"
    PIN_LOCKED = "pin_locked"
    CARD_UNREADABLE = "card_unreadable"
    REFUSED = "refused"
    CENTRAL_UNREACHABLE = "central_unreachable"
    PRINTER_UNAVAILABLE = "printer_unavailable"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_UNKNOWN = "payment_unknown"
    PRINT_FAILED = "print_failed"
    ORDER_NOT_FOUND = "order_not_found"


class StepTimes:
    """Seconds spent per step, summed over repeated visits."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    def add(self, step: str, seconds: float) -> None:
        """Count `seconds` spent in `step`."""
        self._seconds[step] = self._seconds.get(step, 0.0) + seconds

    def snapshot(self) -> tuple[tuple[str, float], ...]:
        """(step, seconds) pairs in the order the steps were first visited, rounded to 0.1 s."""
        return tuple((step, round(seconds, 1)) for step, seconds in self._seconds.items())


@dataclass(frozen=True)
class SessionStats:
    """One session's anonymous record; `kind` is `certificate_session` or `register_session`."""

    kind: str
    outcome: Outcome
    language: str
    step_seconds: tuple[tuple[str, float], ...]
    abort_reason: AbortReason | None = None
    type_id: str | None = None
    copies: int | None = None
    fee_yen: int | None = None
    method: str | None = None
    rating: int | None = None
    reprints: int = 0
    items: int | None = None

    def fields(self) -> dict[str, Any]:
        """The kind-specific fields of a `StatsItem` (JSON-ready, no personal data)."""
        data: dict[str, Any] = {
            "outcome": self.outcome.value,
            "language": self.language,
            "step_seconds": dict(self.step_seconds),
            "total_seconds": round(sum(seconds for _, seconds in self.step_seconds), 1),
        }
        optional: dict[str, Any] = {
            "abort_reason": self.abort_reason.value if self.abort_reason else None,
            "type": self.type_id,
            "copies": self.copies,
            "fee_yen": self.fee_yen,
            "method": self.method,
            "rating": self.rating,
            "items": self.items,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.reprints:
            data["reprints"] = self.reprints
        return data

    def to_stats_item(self, seq: int, ts_ms: int) -> StatsItem:
        """The outbox row: `seq` from the outbox, `ts_ms` epoch milliseconds."""
        return StatsItem.model_validate({"seq": seq, "ts": ts_ms, "kind": self.kind, **self.fields()})
