"""Events and commands of the 書かない窓口 flow (`prefill_flow.py`).

Personal data stays in the runner (`kiosk_app.runner.prefill_jobs`): the flow only learns that the card was
read and the name masked for the screen. The PIN travels in `ReadBasicFour` only, hidden from `repr`; the
ticket's status token in `StartPrefill`/`AttachPrefill`, hidden too (it opens the visit's status page).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from kiosk_app.flows.core import Command, Event, UserAction
from kiosk_app.flows.stats import SessionStats

__all__ = [
    "AttachPrefill",
    "BasicFourRead",
    "ChoosePrefillTarget",
    "KenhojoLocked",
    "KenhojoPinWrong",
    "KenhojoTriesRead",
    "PrefillAttachFailed",
    "PrefillAttached",
    "PrefillStats",
    "PrefillTarget",
    "PrintPrefillForms",
    "ReadBasicFour",
    "ReadKenhojoTries",
    "StartPrefill",
    "WipePrefill",
]


class PrefillTarget(enum.StrEnum):
    """Where the prefilled data goes."""

    PRINT = "print"  # A4 forms with the basic four filled in
    COUNTER = "counter"  # attached to the visit, shown to the counter staff once called


@dataclass(frozen=True)
class StartPrefill(UserAction):
    """The resident asked for help with the forms (from the guide's ticket-done screen).

    `procedures`: catalog ids of the routed procedures that have a form; `status_token`/`number`: the ticket
    just taken (None: no ticket, so the data can only be printed)."""

    procedures: tuple[str, ...]
    status_token: str | None = field(default=None, repr=False)
    number: str | None = None
    language: str = "ja"


@dataclass(frozen=True)
class KenhojoTriesRead(Event):
    """Tries left on the card's 券面事項入力補助 PIN (spends none)."""

    tries_left: int


@dataclass(frozen=True)
class BasicFourRead(Event):
    """The card's basic four are held by the runner; only the masked name comes to the flow."""

    masked_name: str = field(repr=False)


@dataclass(frozen=True)
class KenhojoPinWrong(Event):
    """The PIN was wrong; `tries_left` now (the flow never retries by itself)."""

    tries_left: int


@dataclass(frozen=True)
class KenhojoLocked(Event):
    """The card refused to try (0 or 1 try left): the PIN can be reset at the マイナンバー窓口."""


@dataclass(frozen=True)
class ChoosePrefillTarget(UserAction):
    """The resident chose print or counter."""

    target: PrefillTarget


@dataclass(frozen=True)
class PrefillAttached(Event):
    """The central keeps the data for the visit `number` until it ends (midnight at the latest)."""

    number: str


@dataclass(frozen=True)
class PrefillAttachFailed(Event):
    """The central did not keep it: `reason` is `no_visit`, `unavailable` or `invalid`."""

    reason: str


@dataclass(frozen=True)
class ReadKenhojoTries(Command):
    """Read the 券面事項入力補助 PIN's tries left; answer `KenhojoTriesRead`, `CardUnreadable` or `CardRemoved`."""

    ref: str


@dataclass(frozen=True)
class ReadBasicFour(Command):
    """VERIFY the PIN and read the basic four (never the My Number EF); answer `BasicFourRead`,
    `KenhojoPinWrong`, `KenhojoLocked` or `CardUnreadable`."""

    ref: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class PrintPrefillForms(Command):
    """Print the prefilled forms of `procedures` on A4; answer `PrintDone` or `PrintFailed`."""

    ref: str
    procedures: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class AttachPrefill(Command):
    """Send the data to the central for the visit; answer `PrefillAttached` or `PrefillAttachFailed`."""

    ref: str
    status_token: str = field(repr=False)
    procedures: tuple[str, ...] = ()


@dataclass(frozen=True)
class WipePrefill(Command):
    """Forget the session's card data on the runner side (also any read still running for `ref`)."""

    ref: str


@dataclass(frozen=True)
class PrefillStats(SessionStats):
    """The anonymous `prefill_session` record: outcome, target (print|counter) and language only."""

    target: str | None = None

    def fields(self) -> dict[str, Any]:
        """outcome, language, target (when chosen) and the abort reason (when aborted)."""
        data: dict[str, Any] = {"outcome": self.outcome.value, "language": self.language}
        if self.target is not None:
            data["target"] = self.target
        if self.abort_reason is not None:
            data["abort_reason"] = self.abort_reason.value
        return data
