"""`KioskController`: the one place screens send resident actions and devices send results (no Kivy here).

It routes each event to the active flow (card events always reach the certificate flow, which tracks
the card), hands the returned commands to the runner's `execute`, and tells listeners (the root
widget) that the state changed. Call `send()` only from the UI loop; device threads use the flows'
`EventPump` or `post()` + `drain()`.
"""

from __future__ import annotations

import enum
import logging
import queue
from collections.abc import Callable

from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.commands import CallStaffCommand
from kiosk_app.flows.core import Command, Event, Tick
from kiosk_app.flows.issuance import CertificateFlow, IssuanceView, settings_from_catalog
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.register import RegisterFlow, RegisterSettings, RegisterStep, RegisterView
from kiosk_app.i18n.translator import Translator
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import Channel
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["KioskController", "Service", "screen_for"]

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
CARD_EVENTS = (ev.CardInserted, ev.CardRemoved, ev.ServiceStatus)


class Service(enum.Enum):
    """What the resident is doing."""

    CERTIFICATE = "certificate"
    REGISTER = "register"


def screen_for(view: IssuanceView | RegisterView | None) -> str:
    """The screen that shows a flow step (steps without their own screen use the message screen)."""
    if view is None:
        return "home"
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
    ) -> None:
        self.catalog = catalog
        self.certificate = certificate
        self.register = register
        self.execute = execute
        self.active: Service | None = None
        self.home_language = certificate.context.settings.default_language
        self.large_text = False
        self.high_contrast = False
        self.listeners: list[Callable[[], None]] = []
        self.inbox: queue.Queue[Event] = queue.Queue()
        self._translators: dict[str, Translator] = {}

    @classmethod
    def for_catalog(
        cls,
        catalog: Catalog,
        execute: Callable[[Command], None],
        clock: Clock,
        *,
        idle_timeout_s: float = 60.0,
        language: str = "ja",
    ) -> KioskController:
        """Both flows set up from the catalog: its kiosk payment methods, the `[ui]` idle timeout and language."""
        methods = tuple(m.id for m in catalog.payment.methods_for(Channel.KIOSK))
        certificate = CertificateFlow(
            settings_from_catalog(catalog, idle_timeout_s=idle_timeout_s, language=language), clock
        )
        register = RegisterFlow(RegisterSettings(methods=methods, idle_timeout_s=idle_timeout_s), clock)
        return cls(certificate, register, execute, catalog)

    # --- what the screens read ------------------------------------------------------------------------

    @property
    def language(self) -> str:
        """The language the screens are in now."""
        if self.active is Service.CERTIFICATE:
            return self.certificate.context.language
        return self.home_language

    def translator(self) -> Translator:
        """The translator of the current language (built once per language)."""
        language = self.language
        if language not in self._translators:
            self._translators[language] = Translator(language)
        return self._translators[language]

    def view(self) -> IssuanceView | RegisterView | None:
        """The active flow's view (None on the home screen)."""
        if self.active is Service.CERTIFICATE:
            return self.certificate.view()
        if self.active is Service.REGISTER:
            return self.register.view()
        return None

    def screen(self) -> str:
        """The name of the screen to show."""
        return screen_for(self.view())

    def step_name(self) -> str:
        """The current step, for staff calls and screenshots."""
        view = self.view()
        return "home" if view is None else view.step.value

    # --- what the screens and devices do ---------------------------------------------------------------

    def start(self, service: Service) -> None:
        """The resident picked a service on the home screen."""
        if self.active is not None:
            return
        self.active = service
        if service is Service.REGISTER:
            self.register.context.language = self.home_language
        self.send(ev.Start())
        if self.active is None:  # the flow refused to start (e.g. the central is offline)
            _logger.info("%s could not start", service.value)

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
        """職員を呼ぶ: from any screen, including home."""
        if self.active is None:
            self.execute(CallStaffCommand("home", "resident"))
            self._notify()
            return
        self.send(ev.CallStaff())

    def send(self, event: Event) -> None:
        """Handle one event on the UI loop (a slip scanned on the home screen starts the register)."""
        if isinstance(event, ev.SlipScanned) and self.active is None:
            self.start(Service.REGISTER)
        commands: list[Command] = []
        if isinstance(event, Tick):
            commands += self.certificate.handle(event) + self.register.handle(event)
        elif isinstance(event, CARD_EVENTS) or self.active is Service.CERTIFICATE:
            commands += self.certificate.handle(event)
        elif self.active is Service.REGISTER:
            commands += self.register.handle(event)
        if self.active is Service.CERTIFICATE and self.certificate.step is Step.HOME:
            self.active = None
        if self.active is Service.REGISTER and self.register.step is RegisterStep.HOME:
            self.active = None
        self.execute_all(commands)
        if commands or not isinstance(event, Tick) or self.step_name() == "more_time":
            self._notify()  # (the "more time?" prompt counts down every tick)

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
        self.send(Tick())

    def execute_all(self, commands: list[Command]) -> None:
        """Pass commands to the runner."""
        for command in commands:
            self.execute(command)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()
