"""Anonymous records of the web guide, kept beside the kiosks' statistics (`kiosk_stat`).

The web guide has no kiosk, so its records go under the pseudo-device `WEB_DEVICE` with a random sequence
number; the fields are those of the kiosks' `guide_session` (interfaces.md) with `channel: web`. Nothing
about the visitor is kept: no address, no cookie, no answer other than which questions were わからない.
A take with a visit code is recorded as `guide_ticket` (`channel: web`) so the KPIs can count tickets
pre-queued from the web guide; a rating given on the result page as `guide_rating` (it is not a second use).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, insert

from central_broker.store.telemetry_schema import kiosk_stat
from madoguchi.contracts.catalog_guide import Answer

__all__ = ["GUIDE_RATING", "GUIDE_SESSION", "GUIDE_TICKET", "WEB_DEVICE", "GuideStats"]

_logger = logging.getLogger(__name__)

WEB_DEVICE = "central-web-guide"
GUIDE_SESSION = "guide_session"
GUIDE_TICKET = "guide_ticket"
GUIDE_RATING = "guide_rating"


class GuideStats:
    """Writes the web guide's anonymous records to `engine` (clock: epoch seconds)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def _record(self, kind: str, fields: dict[str, Any]) -> None:
        now = int(self.clock() * 1000)
        row = {
            "device_id": WEB_DEVICE,
            "seq": secrets.randbits(62),
            "ts": now,
            "kind": kind,
            "fields": fields,
            "received_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kiosk_stat).values(**row))
        except Exception:  # a statistic must never break the resident's page or ticket
            _logger.exception("guide statistic %s not recorded", kind)

    def completed(
        self, language: str, events: Sequence[str], answers: dict[str, Answer], rating: int | None = None
    ) -> None:
        """A web guide run that reached its result."""
        self._record(
            GUIDE_SESSION,
            {
                "outcome": "completed",
                "language": language,
                "events": list(events),
                "questions_asked": len(answers),
                "unknown_questions": [q for q, a in answers.items() if a is Answer.UNKNOWN],
                "outputs": [],
                "rating": rating,
                "channel": "web",
            },
        )

    def rated(self, language: str, rating: int) -> None:
        """A web guide user's satisfaction (1–5), given on the result page."""
        self._record(GUIDE_RATING, {"language": language, "rating": rating, "channel": "web"})

    def ticket(self) -> None:
        """A kiosk took a ticket with a web guide visit code."""
        self._record(GUIDE_TICKET, {"channel": "web"})
