"""Steps, settings and context of the certificate self-issuance flow, and the guards and actions of its table."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Command
from kiosk_app.flows.session import IssuanceSession
from kiosk_app.flows.stats import AbortReason, Outcome, SessionStats, StepTimes
from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["IssuanceContext", "IssuanceSettings", "Step", "new_ref"]

KIND = "certificate_session"


class Step(enum.Enum):
    """Screens (and waits) of the certificate flow, in the order a resident meets them."""

    HOME = "home"
    LANGUAGE = "language"
    PLACE_CARD = "place_card"
    READING_CARD = "reading_card"
    PIN_ENTRY = "pin_entry"
    PIN_FORGOTTEN = "pin_forgotten"
    PIN_LOCKED = "pin_locked"
    CARD_PROBLEM = "card_problem"
    VERIFYING = "verifying"
    REFUSED = "refused"
    NAME_CONFIRM = "name_confirm"
    FETCHING_OPTIONS = "fetching_options"
    ISSUANCE_UNAVAILABLE = "issuance_unavailable"
    CHOOSE_TYPE = "choose_type"
    CHOOSE_OPTIONS = "choose_options"
    COPIES = "copies"
    FEE_SUMMARY = "fee_summary"
    CHOOSE_METHOD = "choose_method"
    CHECKING_PRINTER = "checking_printer"
    PRINTER_UNAVAILABLE = "printer_unavailable"
    PAYING = "paying"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_UNKNOWN = "payment_unknown"
    PRINTING = "printing"
    PRINT_FAILED = "print_failed"
    VOIDED = "voided"
    TAKE_CERTIFICATE = "take_certificate"
    TAKE_CARD = "take_card"
    CARD_LEFT_BEHIND = "card_left_behind"
    RATING = "rating"
    MORE_TIME = "more_time"


def new_ref() -> str:
    """A fresh random reference (session or payment), unique per call."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class IssuanceSettings:
    """Timeouts (seconds) and choices of the certificate flow; `methods` are catalog method ids for the kiosk."""

    methods: tuple[str, ...]
    idle_timeout_s: float = 60.0
    more_time_s: float = 30.0
    notice_s: float = 60.0
    device_timeout_s: float = 20.0
    central_timeout_s: float = 20.0
    payment_timeout_s: float = 300.0
    unknown_timeout_s: float = 600.0
    print_timeout_s: float = 300.0
    take_certificate_s: float = 30.0
    card_alarm_after_s: float = 10.0
    rating_s: float = 30.0
    max_reprints: int = 1
    pin_length: int = 4
    default_language: str = DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        if not self.methods:
            raise ValueError("no payment method for the kiosk; add one with channel 'kiosk' to the catalog")
        if self.default_language not in LANGUAGES:
            raise ValueError(f"default_language must be one of {', '.join(LANGUAGES)}")


@dataclass
class IssuanceContext:
    """What the flow's guards and actions work on; `session` is None between residents."""

    settings: IssuanceSettings
    make_ref: Callable[[], str] = new_ref
    session: IssuanceSession | None = None
    language: str = DEFAULT_LANGUAGE
    card_present: bool = False
    central_online: bool = True
    steps: StepTimes = field(default_factory=StepTimes)
    completed: SessionStats | None = None

    @property
    def s(self) -> IssuanceSession:
        """The current session (a flow bug if there is none)."""
        assert self.session is not None, "no session in progress"
        return self.session

    # --- session life ---------------------------------------------------------------------------------

    def begin(self) -> list[Command]:
        """A new session with a fresh reference and fresh step timing."""
        self.session = IssuanceSession(ref=self.make_ref())
        self.steps = StepTimes()
        self.completed = None
        self.language = self.settings.default_language
        return []

    def _stats(self, outcome: Outcome, reason: AbortReason | None) -> SessionStats:
        session = self.s
        offer = session.offer
        return SessionStats(
            kind=KIND,
            outcome=outcome,
            language=self.language,
            step_seconds=self.steps.snapshot(),
            abort_reason=reason,
            type_id=session.type_id,
            copies=session.copies if offer is not None else None,
            fee_yen=session.fee_yen if offer is not None else None,
            method=session.method_id if session.paid or session.method_id else None,
            reprints=session.reprints,
        )

    def end(self, outcome: Outcome, reason: AbortReason | None) -> list[Command]:
        """End an unfinished session: statistics, then wipe (the card may still need taking)."""
        if self.session is None:
            return []
        stats = self._stats(outcome, reason)
        ref = self.s.ref
        self.s.wipe()
        self.session = None
        return [cmd.EmitStatistic(stats), cmd.WipeSession(ref)]

    def complete(self) -> list[Command]:
        """The certificate printed: remember the statistics until the rating is given."""
        self.completed = self._stats(Outcome.COMPLETED, None)
        return [cmd.ConfirmDocument(self.s.ref, "printed"), cmd.PlayCue("take_certificate")]

    def wipe_completed(self) -> list[Command]:
        """After a completed session the card is out: forget the personal data before the rating."""
        if self.session is None:
            return []
        ref = self.s.ref
        self.s.wipe()
        self.session = None
        return [cmd.WipeSession(ref)]

    def rated(self, stars: int | None) -> list[Command]:
        """The completed session's statistics with the rating (or none), now they are final."""
        if self.completed is None:
            return []
        done = self.completed
        stats = SessionStats(
            kind=done.kind,
            outcome=done.outcome,
            language=done.language,
            step_seconds=self.steps.snapshot(),
            type_id=done.type_id,
            copies=done.copies,
            fee_yen=done.fee_yen,
            method=done.method,
            rating=stars,
            reprints=done.reprints,
        )
        self.completed = None
        return [cmd.EmitStatistic(stats)]

    # --- guards ---------------------------------------------------------------------------------------

    def pin_complete(self) -> bool:
        """True when all PIN digits are entered."""
        return len(self.s.pin) == self.settings.pin_length

    def offered(self, type_id: str) -> bool:
        """True when the type is among what this resident may have now."""
        return any(o.type_id == type_id for o in self.s.offers)

    def has_options(self, type_id: str | None) -> bool:
        """True when the (offered) type has options to choose."""
        offer = next((o for o in self.s.offers if o.type_id == type_id), None)
        return offer is not None and bool(offer.options)

    def valid_choice(self, event: ev.ChooseOption) -> bool:
        """True when the option belongs to the chosen type and the choice to the option."""
        offer = self.s.offer
        return offer is not None and event.choice_id in offer.options.get(event.option_id, [])

    def valid_copies(self, copies: int) -> bool:
        """True for 1..max copies of the chosen type."""
        offer = self.s.offer
        return offer is not None and 1 <= copies <= offer.max_copies
