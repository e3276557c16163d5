"""Helpers for the flow tests: a certificate flow on a fake clock, and event paths to reach every step."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Event, Tick
from kiosk_app.flows.issuance import CertificateFlow
from kiosk_app.flows.issuance_context import IssuanceSettings, Step
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.issuance import Offer, OptionsResult, Refusal

PIN = "4729"
NAME = "山田 太郎"

EventSource = Event | Callable[[CertificateFlow], Event]


def sample_options() -> OptionsResult:
    """What the central offers a resident in the sample city: 住民票 (with options) and 印鑑; 戸籍 refused."""
    catalog = load_sample_catalog()
    juminhyo = catalog.certificate_type("juminhyo")
    refusal = catalog.refusal("koseki_zenbu", RuleKind.REGISTRATION_REQUIRED)
    assert refusal is not None
    return OptionsResult(
        offers=[
            Offer(
                type_id="juminhyo",
                name=juminhyo.names.text("ja"),
                fee_yen=200,
                max_copies=juminhyo.max_copies,
                options={o.id: [ch.id for ch in o.choices] for o in juminhyo.options},
                defaults=juminhyo.default_choices(),
            ),
            Offer(type_id="inkan", name="印鑑登録証明書", fee_yen=200, max_copies=10),
        ],
        refused=[
            Refusal(
                kind=refusal.kind.value,
                reason=refusal.reason.text("ja"),
                where_to_go=refusal.where_to_go.text("ja"),
                type_id="koseki_zenbu",
            )
        ],
    )


def approved(flow: CertificateFlow) -> Event:
    """Approval of the payment the flow started."""
    assert flow.session is not None and flow.session.payment_ref is not None
    return ev.PaymentApproved(flow.session.payment_ref)


TO_LANGUAGE: list[EventSource] = [ev.Start()]
TO_PLACE_CARD = [*TO_LANGUAGE, ev.ChooseLanguage("en")]
TO_READING = [*TO_PLACE_CARD, ev.CardInserted()]
TO_PIN = [*TO_READING, ev.PinTriesRead(3)]
TO_VERIFYING = [*TO_PIN, *(ev.Digit(d) for d in PIN), ev.Confirm()]
TO_NAME = [*TO_VERIFYING, ev.AuthOk(NAME)]
TO_FETCHING = [*TO_NAME, ev.Confirm()]
TO_TYPE = [*TO_FETCHING, ev.OptionsReceived(sample_options())]
TO_OPTIONS = [*TO_TYPE, ev.ChooseType("juminhyo")]
TO_COPIES = [*TO_OPTIONS, ev.Confirm()]
TO_FEE = [*TO_COPIES, ev.SetCopies(2), ev.Confirm()]
TO_METHOD = [*TO_FEE, ev.Confirm()]
TO_CHECKING = [*TO_METHOD, ev.ChooseMethod("credit")]
TO_PAYING = [*TO_CHECKING, ev.PrinterReady()]
TO_PRINTING = [*TO_PAYING, ev.PaymentProgress("WAIT_CARD"), approved]
TO_PRINT_FAILED = [*TO_PRINTING, ev.PrintFailed("paper_jam")]
TO_TAKE_CERT = [*TO_PRINTING, ev.PrintProgress(1, 2), ev.PrintDone()]
TO_TAKE_CARD = [*TO_TAKE_CERT, ev.Confirm()]
TO_RATING = [*TO_TAKE_CARD, ev.CardRemoved()]

PATHS: dict[Step, list[EventSource]] = {
    Step.HOME: [],
    Step.LANGUAGE: TO_LANGUAGE,
    Step.PLACE_CARD: TO_PLACE_CARD,
    Step.READING_CARD: TO_READING,
    Step.PIN_ENTRY: TO_PIN,
    Step.PIN_FORGOTTEN: [*TO_PIN, ev.ForgotPin()],
    Step.PIN_LOCKED: [*TO_READING, ev.PinTriesRead(0)],
    Step.CARD_PROBLEM: [*TO_READING, ev.CardUnreadable("not_my_number_card")],
    Step.VERIFYING: TO_VERIFYING,
    Step.REFUSED: [*TO_VERIFYING, ev.AuthRefused(Refusal(kind="certificate_expired", reason="expired"))],
    Step.NAME_CONFIRM: TO_NAME,
    Step.FETCHING_OPTIONS: TO_FETCHING,
    Step.ISSUANCE_UNAVAILABLE: [*TO_FETCHING, ev.CentralUnreachable()],
    Step.CHOOSE_TYPE: TO_TYPE,
    Step.CHOOSE_OPTIONS: TO_OPTIONS,
    Step.COPIES: TO_COPIES,
    Step.FEE_SUMMARY: TO_FEE,
    Step.CHOOSE_METHOD: TO_METHOD,
    Step.CHECKING_PRINTER: TO_CHECKING,
    Step.PRINTER_UNAVAILABLE: [*TO_CHECKING, ev.PrinterNotReady("out_of_paper")],
    Step.PAYING: TO_PAYING,
    Step.PAYMENT_DECLINED: [*TO_PAYING, ev.PaymentDeclined()],
    Step.PAYMENT_UNKNOWN: [*TO_PAYING, ev.PaymentUnknown()],
    Step.PRINTING: TO_PRINTING,
    Step.PRINT_FAILED: TO_PRINT_FAILED,
    Step.VOIDED: [*TO_PRINT_FAILED, ev.VoidDocument()],
    Step.TAKE_CERTIFICATE: TO_TAKE_CERT,
    Step.TAKE_CARD: TO_TAKE_CARD,
    Step.CARD_LEFT_BEHIND: [*TO_TAKE_CARD, "timeout"],  # type: ignore[list-item]
    Step.RATING: TO_RATING,
    Step.MORE_TIME: [*TO_LANGUAGE, "timeout"],  # type: ignore[list-item]
}


@dataclass
class Harness:
    """A certificate flow with a fake clock, recording every command it returned."""

    clock: FakeClock = field(default_factory=FakeClock)
    flow: CertificateFlow = field(init=False)
    commands: list[Command] = field(default_factory=list)

    def __post_init__(self) -> None:
        counter = itertools.count(1)
        settings = IssuanceSettings(methods=("credit", "emoney", "qr"), idle_timeout_s=60.0)
        self.flow = CertificateFlow(settings, self.clock, make_ref=lambda: f"ref-{next(counter):04d}")

    @property
    def step(self) -> Step:
        return self.flow.step

    def send(self, *events: EventSource | str) -> list[Command]:
        """Feed events (or "timeout": let the current step's deadline pass); return the new commands."""
        out: list[Command] = []
        for item in events:
            if item == "timeout":
                out += self.expire()
                continue
            event = item(self.flow) if callable(item) else item
            assert isinstance(event, Event)
            out += self.flow.handle(event)
        self.commands += out
        return out

    def expire(self) -> list[Command]:
        """Advance to just before the deadline (nothing happens), then to it (the timeout fires)."""
        left = self.flow.machine.time_left()
        assert left is not None, f"{self.step} has no timeout"
        before = self.step
        self.clock.advance(max(0.0, left - 0.05))
        assert self.flow.handle(Tick()) == [] and self.step is before, "timed out early"
        self.clock.advance(0.05)
        return self.flow.handle(Tick())

    def goto(self, step: Step, extra: Sequence[EventSource] = ()) -> Harness:
        """Drive the flow along the path to `step` (plus `extra` events first, e.g. a card at home)."""
        self.send(*extra, *PATHS[step])
        assert self.step is step, f"path to {step} ended in {self.step}"
        return self


def of_type(commands: Sequence[Command], kind: type[Command]) -> list[Command]:
    """The commands of one type."""
    return [c for c in commands if isinstance(c, kind)]
