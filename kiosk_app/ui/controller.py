"""`KioskController`: the one place screens send resident actions and devices send results (no Kivy here).

It routes each event to the active flow (card events always reach the certificate flow, which tracks
the card), hands the returned commands to the runner's `execute`, and tells listeners (the root
widget) that the state changed. Call `send()` only from the UI loop; device threads use the flows'
`EventPump` or `post()` + `drain()`.

It also owns what lies over every screen: the staff call (a banner, never a flow step: the resident
keeps their place and their timeouts are held while staff come) and the 時間を延長 count-down of the
steps whose timeout waits for the resident. And the wall clock's status (`clock_status`): read every
`CLOCK_CHECK_S` on the UI loop; the home screen warns while it is not synchronised, and certificate
issuance does not start while it is implausible (see `clock_status.py`).
"""

from __future__ import annotations

import enum
import logging
import math
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import Clock, monotonic_clock
from kiosk_app.flows.commands import CallStaffCommand, PlayCue
from kiosk_app.flows.core import Command, Event, Machine, Tick
from kiosk_app.flows.guide_events import VisitCodeScanned
from kiosk_app.flows.guide_flow import GuideFlow, GuideStep, GuideView, guide_screen
from kiosk_app.flows.guide_plan import visit_code_of
from kiosk_app.flows.issuance import CertificateFlow, IssuanceView, settings_from_catalog
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.prefill_flow import HandedTicket, PrefillFlow, PrefillStep, PrefillView
from kiosk_app.flows.queue_events import CongestionChanged
from kiosk_app.flows.queue_flow import QueueFlow, QueueStep, QueueView
from kiosk_app.flows.register import RegisterFlow, RegisterSettings, RegisterStep, RegisterView
from kiosk_app.flows.staff_call import RESIDENT, OpenCall, StaffCallTracker
from kiosk_app.i18n.translator import Translator
from kiosk_app.ui.clock_status import CLOCK_CHECK_S, ClockStatus
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import Channel
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["COUNTDOWN_S", "TIME_CUE", "Countdown", "KioskController", "Service", "screen_for"]

_logger = logging.getLogger(__name__)

_CERT_SCREENS = {
    Step.HOME: "home",
    Step.LANGUAGE: "language",
    Step.PIN_ENTRY: "keypad",
    Step.CHOOSE_TYPE: "choices",
    Step.CHOOSE_OPTIONS: "choices",
    Step.CHOOSE_METHOD: "choices",
    Step.COPIES: "copies",
    Step.RATING: "rating",
}
_REGISTER_SCREENS = {
    RegisterStep.HOME: "home",
    RegisterStep.ENTER_CODE: "keypad",
    RegisterStep.ORDER_SUMMARY: "choices",
    RegisterStep.CHOOSE_METHOD: "choices",
}
_PREFILL_SCREENS = {PrefillStep.HOME: "home", PrefillStep.PIN_ENTRY: "prefill_pin"}
CARD_EVENTS = (ev.CardInserted, ev.CardRemoved, ev.ServiceStatus)
COUNTDOWN_S = 20  # the last seconds of a resident's timeout are counted down on screen
TIME_CUE = "time_running_out"  # chime when the count-down appears


@dataclass(frozen=True)
class Countdown:
    """時間を延長 on the current step: offered (`extendable`) and, in the last seconds, the seconds left."""

    extendable: bool = False
    seconds_left: int | None = None  # shown only in the last COUNTDOWN_S seconds (None otherwise)


class Service(enum.Enum):
    """What the resident is doing."""

    CERTIFICATE = "certificate"
    REGISTER = "register"
    QUEUE = "queue"  # 整理券
    PREFILL = "prefill"  # 書かない窓口 (from the guide's ticket screen: `start_prefill`)
    GUIDE = "guide"  # 手続きガイド


FlowView = IssuanceView | RegisterView | QueueView | GuideView | PrefillView


def screen_for(view: FlowView | None) -> str:
    """The screen that shows a flow step (steps without their own screen use the message screen)."""
    if view is None:
        return "home"
    if isinstance(view, QueueView):
        return "home" if view.step is QueueStep.HOME else "ticket"
    if isinstance(view, GuideView):
        return guide_screen(view.step)
    if isinstance(view, PrefillView):
        return _PREFILL_SCREENS.get(view.step, "prefill")
    if isinstance(view, IssuanceView):
        return _CERT_SCREENS.get(view.step, "message")
    return _REGISTER_SCREENS.get(view.step, "message")


class KioskController:
    """Owns the flows, the display settings (language, large text, contrast) and the routing of events."""

    def __init__(
        self,
        certificate: CertificateFlow,
        register: RegisterFlow,
        execute: Callable[[Command], None],
        catalog: Catalog | None = None,
        clock: Clock = monotonic_clock,
        clock_status: Callable[[], ClockStatus] | None = None,
        queue_flow: QueueFlow | None = None,
        guide_flow: GuideFlow | None = None,
    ) -> None:
        self.catalog = catalog
        self.certificate = certificate
        self.register = register
        self.queue = queue_flow or QueueFlow.for_catalog(catalog, clock)
        self.prefill = PrefillFlow(clock)
        self.guide = guide_flow or GuideFlow.for_catalog(catalog, clock)
        self.execute = execute
        self.active: Service | None = None
        self.default_language = certificate.context.settings.default_language
        self.home_language = self.default_language
        self.large_text = False
        self.high_contrast = False
        self.listeners: list[Callable[[], None]] = []
        self.inbox: queue.Queue[Event] = queue.Queue()
        self._translators: dict[str, Translator] = {}
        self.staff = StaffCallTracker(clock)
        self._shown_countdown: int | None = None
        self._clock = clock
        self._read_clock_status = clock_status
        self.clock_status = clock_status() if clock_status is not None else ClockStatus()
        self._clock_checked_at = clock()

    @classmethod
    def for_catalog(
        cls,
        catalog: Catalog,
        execute: Callable[[Command], None],
        clock: Clock,
        *,
        idle_timeout_s: float = 60.0,
        language: str = "ja",
        clock_status: Callable[[], ClockStatus] | None = None,
    ) -> KioskController:
        """Both flows set up from the catalog: its kiosk payment methods, the `[ui]` idle timeout and language.

        `clock_status` reads the wall clock's status (None: always synchronised and plausible).
        """
        methods = tuple(m.id for m in catalog.payment.methods_for(Channel.KIOSK))
        certificate = CertificateFlow(
            settings_from_catalog(catalog, idle_timeout_s=idle_timeout_s, language=language), clock
        )
        register = RegisterFlow(RegisterSettings(methods=methods, idle_timeout_s=idle_timeout_s), clock)
        queue_flow = QueueFlow.for_catalog(catalog, clock, idle_timeout_s=idle_timeout_s)
        guide_flow = GuideFlow.for_catalog(catalog, clock, idle_timeout_s=idle_timeout_s)
        return cls(certificate, register, execute, catalog, clock, clock_status, queue_flow, guide_flow)

    # --- what the screens read ------------------------------------------------------------------------

    @property
    def language(self) -> str:
        """The language the screens are in now."""
        if self.active is Service.CERTIFICATE:
            return self.certificate.context.language
        if self.active is Service.PREFILL:
            return self.prefill.context.language
        return self.home_language

    def translator(self) -> Translator:
        """The translator of the current language (built once per language)."""
        language = self.language
        if language not in self._translators:
            self._translators[language] = Translator(language)
        return self._translators[language]

    def view(self) -> FlowView | None:
        """The active flow's view (None on the home screen)."""
        if self.active is Service.CERTIFICATE:
            return self.certificate.view()
        if self.active is Service.REGISTER:
            return self.register.view()
        if self.active is Service.QUEUE:
            return self.queue.view()
        if self.active is Service.PREFILL:
            return self.prefill.view()
        if self.active is Service.GUIDE:
            return self.guide.view()
        return None

    def screen(self) -> str:
        """The name of the screen to show."""
        return screen_for(self.view())

    def step_name(self) -> str:
        """The current step, for staff calls and screenshots."""
        view = self.view()
        return "home" if view is None else view.step.value

    def _machine(self) -> Machine[Any, Any] | None:
        if self.active is Service.CERTIFICATE:
            return self.certificate.machine
        if self.active is Service.REGISTER:
            return self.register.machine
        if self.active is Service.QUEUE:
            return self.queue.machine
        if self.active is Service.PREFILL:
            return self.prefill.machine
        if self.active is Service.GUIDE:
            return self.guide.machine
        return None

    def countdown(self) -> Countdown:
        """Whether the current step offers 時間を延長, and the seconds left once the count-down shows."""
        machine = self._machine()
        if machine is None or not machine.extendable or machine.held:
            return Countdown()
        left = machine.time_left()
        if left is None:
            return Countdown()
        seconds = math.ceil(left)
        return Countdown(True, seconds if seconds <= COUNTDOWN_S else None)

    @property
    def staff_call(self) -> OpenCall | None:
        """The staff call shown on the banner (None when staff were not called)."""
        return self.staff.current

    # --- what the screens and devices do ---------------------------------------------------------------

    def start(self, service: Service) -> None:
        """The resident picked a service on the home screen."""
        if self.active is not None:
            return
        if service is Service.CERTIFICATE and not self.clock_status.plausible:
            _logger.warning("certificate issuance refused: the clock is implausible")
            self._notify()  # the home screen says why
            return
        self.active = service
        if service is Service.REGISTER:
            self.register.context.language = self.home_language
        if service is Service.QUEUE:
            self.queue.context.language = self.home_language
        if service is Service.GUIDE:
            self.guide.context.language = self.home_language
        self.send(ev.Start())
        if self.active is None:  # the flow refused to start (e.g. the central is offline)
            _logger.info("%s could not start", service.value)
        elif service is Service.CERTIFICATE and self.certificate.context.language != self.home_language:
            self.certificate.context.language = self.home_language  # keep the language picked on home
            self._notify()

    def start_prefill(self, procedures: Sequence[str], ticket: HandedTicket | None) -> None:
        """書かない窓口 for `procedures` (ids with a form) and the ticket just taken (None: print only).

        Called by the guide's ticket-done screen; the prefill flow takes over from whatever flow was shown."""
        event = PrefillFlow.start_event(procedures, ticket, self.language)
        if self.prefill.handle(event) or self.prefill.step is not PrefillStep.HOME:
            self.active = Service.PREFILL
        self._notify()

    def set_home_language(self, language: str) -> None:
        """Language picked on the home screen."""
        if language in LANGUAGES:
            self.home_language = language
            self._notify()

    def toggle_large_text(self) -> None:
        """Large text on or off."""
        self.large_text = not self.large_text
        self._notify()

    def toggle_high_contrast(self) -> None:
        """High-contrast colours on or off."""
        self.high_contrast = not self.high_contrast
        self._notify()

    def call_staff(self) -> None:
        """職員を呼ぶ: from any screen, including home; the screen stays, a banner says staff were called."""
        if self.staff.current is not None:
            self._notify()  # already called: the banner says so
            return
        if self.active is None:
            self.execute_all([CallStaffCommand("home", RESIDENT)])
            self._notify()
            return
        self.send(ev.CallStaff())

    def cancel_staff_call(self) -> None:
        """The resident withdraws their call (the banner's cancel button)."""
        command = self.staff.cancel()
        if command is not None:
            self.execute(command)
            self._hold()
        self._notify()

    def more_time(self) -> None:
        """時間を延長: the step's whole time again (or back from the "more time?" prompt)."""
        self.send(ev.MoreTime())

    def send(self, event: Event) -> None:
        """Handle one event on the UI loop (a slip scanned on the home screen starts the register)."""
        if isinstance(event, ev.StaffCallAnswered):
            if self.staff.answered(event.call_id, event.acknowledged):
                self._hold()
                self._notify()
            return
        if isinstance(event, ev.CancelStaffCall):
            self.cancel_staff_call()
            return
        if isinstance(event, CongestionChanged):
            self.queue.handle(event)  # the lamps are kept whatever the resident is doing
            self._notify()
            return
        self._hold()
        if isinstance(event, ev.SlipScanned) and (code := visit_code_of(event.code)) is not None:
            event = VisitCodeScanned(code)  # a web guide's visit code, not a payment slip
        if isinstance(event, VisitCodeScanned) and self.active is None:
            self.active = Service.QUEUE
            self.queue.context.language = self.home_language
        if isinstance(event, ev.SlipScanned) and self.active is None:
            self.start(Service.REGISTER)
        commands: list[Command] = []
        if isinstance(event, Tick):
            commands += self.prefill.handle(event)
            commands += (
                self.certificate.handle(event) + self.register.handle(event) + self.queue.handle(event)
            ) + self.guide.handle(event)
        elif self.active is Service.PREFILL:
            commands += self.prefill.handle(event)
            if isinstance(event, CARD_EVENTS):
                commands += self.certificate.handle(event)  # it keeps track of the card
        elif isinstance(event, CARD_EVENTS) or self.active is Service.CERTIFICATE:
            commands += self.certificate.handle(event)
        elif self.active is Service.REGISTER:
            commands += self.register.handle(event)
        elif self.active is Service.QUEUE:
            commands += self.queue.handle(event)
        elif self.active is Service.GUIDE:
            commands += self.guide.handle(event)
        was_active = self.active
        if self.active is Service.CERTIFICATE and self.certificate.step is Step.HOME:
            self.active = None
        if self.active is Service.REGISTER and self.register.step is RegisterStep.HOME:
            self.active = None
        if self.active is Service.QUEUE and self.queue.step is QueueStep.HOME:
            self.active = None
        if self.active is Service.PREFILL and self.prefill.step is PrefillStep.HOME:
            self.active = None
        if self.active is Service.GUIDE and self.guide.step is GuideStep.HOME:
            self.active = None
        if was_active is not None and self.active is None:
            self.home_language = self.default_language  # the next resident is greeted in the kiosk's language
        self.execute_all(commands)
        shown = self.countdown().seconds_left
        if shown is not None and self._shown_countdown is None and isinstance(event, Tick):
            self.execute(PlayCue(TIME_CUE))  # the count-down starts: a chime for those not looking
        changed = shown != self._shown_countdown
        self._shown_countdown = shown
        if commands or not isinstance(event, Tick) or changed or self.step_name() == "more_time":
            self._notify()  # (the count-down and the "more time?" prompt change every second)

    def post(self, event: Event) -> None:
        """Queue an event from any thread (a device driver); `drain()` handles it on the UI loop."""
        self.inbox.put(event)

    def drain(self) -> None:
        """Handle queued device events, then a tick (call a few times a second from the UI clock)."""
        while True:
            try:
                event = self.inbox.get_nowait()
            except queue.Empty:
                break
            self.send(event)
        self.check_clock()
        self.send(Tick())

    def check_clock(self) -> None:
        """Read the wall clock's status (at most every `CLOCK_CHECK_S`); redraw when it changed."""
        if self._read_clock_status is None or self._clock() - self._clock_checked_at < CLOCK_CHECK_S:
            return
        self._clock_checked_at = self._clock()
        status = self._read_clock_status()
        if status != self.clock_status:
            _logger.info("wall clock: synchronised=%s plausible=%s", status.synced, status.plausible)
            self.clock_status = status
            self._notify()

    def execute_all(self, commands: list[Command]) -> None:
        """Pass commands to the runner (each staff call gets its id and opens the banner first)."""
        for command in commands:
            if isinstance(command, CallStaffCommand):
                opened = self.staff.open(command)
                if opened is None:
                    continue
                command = opened
                self._hold()
            self.execute(command)

    def _hold(self) -> None:
        """While staff are called, the resident's timeouts wait (device watchdogs do not)."""
        holding = self.staff.holding()
        self.certificate.machine.held = holding
        self.register.machine.held = holding
        self.queue.machine.held = holding
        self.prefill.machine.held = holding
        self.guide.machine.held = holding

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()
