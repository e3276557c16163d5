"""The online check of a printed certificate, by serial and the verification code printed on it.

It answers only what the paper already shows or what the city decides about it: the status
(genuine, pending, voided, expired, not found), the certificate type, the printed issue time and
the digest of the printed content (the one the QR code signs). A serial with a wrong code is "not
found", so the answer never tells whether a serial exists. Optionally the reader types the holder's
name and birth date as printed and is told whether they are the ones the city issued — compared as
keyed hashes (`CheckKeys`); the store holds no name, no birth date and no code in clear, and the
answer never contains them. My Number is never printed, stored or answered.

Every lookup of an existing serial is journaled in the issuance audit log (`online_check:<status>`,
`online_check:wrong_code`), durably, with the serial and no personal data.
"""

from __future__ import annotations

import enum
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from central_broker.issuance.checkcode import CheckKeys, normalise_code
from central_broker.issuance.store import AuditEntry, DocState, IssuanceStore
from madoguchi.contracts.issuance import Binding

if TYPE_CHECKING:
    from madoguchi.config.issuance import IssuanceConfig

__all__ = [
    "ANSWER_DAYS",
    "CheckAnswer",
    "CheckInputError",
    "CheckStatus",
    "OnlineCheck",
    "parse_code",
    "parse_serial",
]

_logger = logging.getLogger(__name__)

ANSWER_DAYS = 365
_SERIAL = re.compile(r"\d{6}-\d{8}-\d{6}")
_AUDIT_DEVICE = "web:online-check"


class CheckStatus(enum.StrEnum):
    """What the city says about a certificate."""

    GENUINE = "genuine"  # issued and handed out
    PENDING = "pending"  # issued moments ago; the kiosk has not yet confirmed printing
    VOIDED = "voided"  # never handed out, or withdrawn
    EXPIRED = "expired"  # older than the period the city answers online for
    NOT_FOUND = "not_found"  # no such serial, or not with this code


class CheckInputError(ValueError):
    """A serial, code or birth date that cannot be right; the message says what is expected."""


@dataclass(frozen=True)
class CheckAnswer:
    """The answer: nothing but the status and what the certificate itself prints."""

    status: CheckStatus
    serial: str
    type_id: str | None = None
    issued_at: str | None = None  # printed issue time, ISO 8601
    content_digest: str | None = None
    holder_matches: bool | None = None  # None: not asked, or not for this status

    def to_dict(self) -> dict[str, object]:
        """The JSON answer."""
        return {
            "status": self.status.value,
            "serial": self.serial,
            "type_id": self.type_id,
            "issued_at": self.issued_at,
            "content_digest": self.content_digest,
            "holder_matches": self.holder_matches,
        }


def parse_serial(text: str) -> str:
    """A typed serial (full-width digits allowed) in its printed form; `CheckInputError` when malformed."""
    serial = unicodedata.normalize("NFKC", text).strip().replace("ー", "-")
    if not _SERIAL.fullmatch(serial):
        raise CheckInputError("The certificate number has the form 131016-20260401-000123, as printed.")
    return serial


def parse_code(text: str) -> str:
    """The 16 digits of a typed verification code; `CheckInputError` when malformed."""
    code = normalise_code(text)
    if code is None:
        raise CheckInputError("The verification code is 16 digits, printed as 1234-5678-9012-3456.")
    return code


class OnlineCheck:
    """Lookups against the issuance store (thread-safe: the store is)."""

    def __init__(
        self,
        store: IssuanceStore,
        keys: CheckKeys,
        clock: Callable[[], float] = time.time,
        answer_days: int = ANSWER_DAYS,
    ) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock
        self.answer_days = answer_days

    @classmethod
    def open(cls, config: IssuanceConfig, data_dir: Path) -> OnlineCheck:
        """The check on the issuance store in `data_dir` with the configured audit key."""
        from central_broker.issuance.runner import read_secret

        data_dir.mkdir(parents=True, exist_ok=True)
        store = IssuanceStore(data_dir / "issuance.sqlite")
        return cls(store, CheckKeys(read_secret(config.audit_key, "audit key")))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def lookup(self, serial: str, code: str, holder: tuple[str, date] | None = None) -> CheckAnswer:
        """The answer for `serial` (parsed) and `code` (16 digits); `holder` = (name, birth date) as printed."""
        doc = self.store.document(serial)
        if doc is None or not self.keys.same(doc.code_hmac, self.keys.code(serial, code)):
            if doc is not None:
                self._audit(doc.type_id, serial, "online_check:wrong_code")
            return CheckAnswer(CheckStatus.NOT_FOUND, serial)
        now_ms = int(self.clock() * 1000)
        if now_ms - doc.issued_ms > self.answer_days * 86_400_000:
            status = CheckStatus.EXPIRED
        elif doc.state is DocState.VOID:
            status = CheckStatus.VOIDED
        elif doc.state is DocState.PRINTED:
            status = CheckStatus.GENUINE
        else:
            status = CheckStatus.PENDING
        matches = None
        if holder is not None and status in (CheckStatus.GENUINE, CheckStatus.PENDING):
            matches = self.keys.same(doc.holder_hmac, self.keys.holder(serial, *holder))
        self._audit(doc.type_id, serial, f"online_check:{status.value}")
        issued_at = Binding.model_validate_json(doc.binding_json).issued_at
        return CheckAnswer(status, serial, doc.type_id, issued_at, doc.content_digest, matches)

    def _audit(self, type_id: str, serial: str, event: str) -> None:
        self.store.audit(AuditEntry(int(self.clock() * 1000), _AUDIT_DEVICE, event, type_id, serial, ""))
