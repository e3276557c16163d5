"""Visit codes: the web guide's result as a short-lived, signed token a kiosk's scanner reads (R-30).

A code is `<catalog version>.<expiry, base 36 epoch s>.<life events>.<answers>[.<kept>].<mac>`: ids of the
catalog (`[a-z0-9_-]`) joined by `~`, answers as `<question id>-<y|n|u>`, the route ④ procedures the
resident chose to keep (left out when none), and a MAC of HMAC-SHA256 over the rest
under the central's guide secret (`guide_secret_file`, 32 random bytes made at first use). It carries no
personal data, only what the resident answered, and expires at midnight Japan time of the day it was made.
Forged, altered, malformed and expired codes get one and the same `VisitCodeInvalid`: the caller cannot
tell them apart, and neither can someone probing codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from central_broker.queue.days import day_end_ms
from madoguchi.config.central import CentralConfig
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.catalog_guide import ProcedureGuide
from madoguchi.guide_links import (
    ANSWER_CODES,
    MAX_VISIT_CODE,
    GuideInput,
    GuideInputError,
    parse_guide_input,
)

__all__ = ["MAX_CODE_LENGTH", "VisitCode", "VisitCodeInvalid", "VisitCodes", "guide_secret_file"]

_logger = logging.getLogger(__name__)

MAX_CODE_LENGTH = MAX_VISIT_CODE
_MAC_BYTES = 12
_LABEL = b"madoguchi guide visit code v1\x00"


def guide_secret_file(config: CentralConfig) -> Path:
    """Where the central's visit-code secret lives: `<data_dir>/web/guide.key` (created at first use)."""
    return config.central.data_dir / "web" / "guide.key"


class VisitCodeInvalid(ValueError):
    """The code is forged, altered, malformed or expired (one answer for all of them)."""

    def __init__(self) -> None:
        super().__init__("this visit code is not valid (or has expired): answer the guide again")


@dataclass(frozen=True)
class VisitCode:
    """What a valid code carries."""

    given: GuideInput
    catalog_version: int
    expires_at_ms: int


class VisitCodes:
    """Makes and reads visit codes with `secret` (bytes) on `clock` (epoch seconds)."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the visit-code secret is too short (at least 16 bytes)")
        self._secret = secret
        self._clock = clock

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._secret, _LABEL + body.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode("ascii").rstrip("=")

    def issue(self, given: GuideInput, catalog_version: int) -> str | None:
        """The code of `given`, valid until midnight Japan time; None when it would exceed 200 characters."""
        today = datetime.fromtimestamp(self._clock(), UTC).astimezone(tokyo()).date().isoformat()
        expires_s = day_end_ms(today) // 1000
        answers = "~".join(f"{question}-{ANSWER_CODES[answer]}" for question, answer in given.answers.items())
        body = f"{catalog_version}.{_base36(expires_s)}.{'~'.join(given.events)}.{answers}"
        if given.kept:
            body += "." + "~".join(sorted(given.kept))
        code = f"{body}.{self._mac(body)}"
        if len(code) > MAX_CODE_LENGTH:
            _logger.info("visit code not made: %d characters for %d answers", len(code), len(given.answers))
            return None
        return code

    def read(self, code: str, guide: ProcedureGuide) -> VisitCode:
        """The content of a valid code, checked against `guide`.

        Raises:
            VisitCodeInvalid: forged, altered, malformed, expired, or naming what the catalog lacks.
        """
        if len(code) > MAX_CODE_LENGTH or not code.isascii():
            raise VisitCodeInvalid
        body, _, mac = code.rpartition(".")
        if not body or not hmac.compare_digest(self._mac(body).encode(), mac.encode()):
            raise VisitCodeInvalid
        parts = body.split(".")
        if len(parts) not in (4, 5):
            raise VisitCodeInvalid
        version, expires, events, answers = parts[:4]
        kept = parts[4].split("~") if len(parts) == 5 else []
        try:
            expires_ms = int(expires, 36) * 1000
            catalog_version = int(version)
            pairs = [item.rpartition("-") for item in answers.split("~") if item]
            given = parse_guide_input(
                events.replace("~", ","), ",".join(f"{q}:{letter}" for q, _, letter in pairs), guide, kept
            )
        except (ValueError, GuideInputError) as exc:
            raise VisitCodeInvalid from exc
        if self._clock() * 1000 >= expires_ms:
            raise VisitCodeInvalid
        return VisitCode(given, catalog_version, expires_ms)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
