"""The 書かない窓口 flow on its own (fake clock, no devices): the rules a resident notices."""

from __future__ import annotations

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Tick
from kiosk_app.flows.prefill_flow import PrefillFlow, PrefillStep


def _flow() -> tuple[PrefillFlow, FakeClock]:
    clock = FakeClock()
    flow = PrefillFlow(clock, make_ref=lambda: "ref-1")
    assert flow.handle(pe.StartPrefill(("shussei",), "t" * 32, "A-12", "vi")) == []
    flow.handle(ev.CardInserted())
    flow.handle(ev.Confirm())
    return flow, clock


def _stats(commands: list[Command]) -> dict[str, object]:
    (record,) = [c.stats for c in commands if isinstance(c, cmd.EmitStatistic)]
    assert record.kind == "prefill_session"
    return record.fields()


def test_one_try_left_goes_to_the_counter_without_asking_for_the_pin() -> None:
    """GIVEN consent and a card WHEN the kenhojo PIN has 1 try left THEN no PIN is asked and nothing is sent."""
    flow, _ = _flow()
    assert flow.step is PrefillStep.CHECKING_TRIES
    assert flow.handle(pe.KenhojoTriesRead(1)) == []
    assert flow.view().step is PrefillStep.LOCKED
    assert _stats(flow.handle(ev.Confirm())) == {
        "outcome": "aborted",
        "language": "vi",
        "abort_reason": "pin_locked",
    }


def test_a_wrong_pin_waits_for_the_resident_even_when_time_passes() -> None:
    """GIVEN a wrong PIN WHEN the keypad comes back and minutes pass THEN no read is started by itself; the
    resident is asked for more time, then the session ends and everything is wiped."""
    flow, clock = _flow()
    flow.handle(pe.KenhojoTriesRead(3))
    for digit in "9999":
        flow.handle(ev.Digit(digit))
    assert [type(c) for c in flow.handle(ev.Confirm())] == [pe.ReadBasicFour]
    assert flow.handle(pe.KenhojoPinWrong(2)) == []
    view = flow.view()
    assert (view.step, view.tries_left, view.pin_error, view.pin_length) == (
        PrefillStep.PIN_ENTRY,
        2,
        True,
        0,
    )
    later: list[Command] = []
    for _ in range(20):
        clock.advance(10)
        later += flow.handle(Tick())
    assert not any(isinstance(c, pe.ReadBasicFour) for c in later)
    assert flow.step is PrefillStep.HOME
    assert any(isinstance(c, pe.WipePrefill) for c in later)
    assert _stats(later) == {"outcome": "aborted", "language": "vi", "abort_reason": "idle_timeout"}


def test_stats_carry_outcome_target_and_language_only() -> None:
    """GIVEN a completed session sent to the counter THEN the record is outcome, target and language."""
    flow, _ = _flow()
    flow.handle(pe.KenhojoTriesRead(3))
    for digit in "1234":
        flow.handle(ev.Digit(digit))
    flow.handle(ev.Confirm())
    flow.handle(pe.BasicFourRead("窓＊ 花＊"))
    attach = flow.handle(pe.ChoosePrefillTarget(pe.PrefillTarget.COUNTER))
    assert [type(c) for c in attach] == [pe.AttachPrefill]
    assert "t" * 32 not in repr(attach)  # the status token never shows in a repr (logs)
    flow.handle(pe.PrefillAttached("A-12"))
    done = flow.handle(ev.Confirm())
    assert _stats(done) == {"outcome": "completed", "language": "vi", "target": "counter"}
    assert flow.view().masked_name == "" and not flow.view().can_attach


def test_without_a_ticket_only_printing_is_offered() -> None:
    """GIVEN no ticket was taken WHEN the card was read THEN sending to the counter is refused."""
    flow = PrefillFlow(FakeClock())
    flow.handle(pe.StartPrefill(("shussei",), None, None, "ja"))
    flow.handle(ev.CardInserted())
    flow.handle(ev.Confirm())
    flow.handle(pe.KenhojoTriesRead(3))
    for digit in "1234":
        flow.handle(ev.Digit(digit))
    flow.handle(ev.Confirm())
    flow.handle(pe.BasicFourRead("窓＊ 花＊"))
    assert not flow.view().can_attach
    assert flow.handle(pe.ChoosePrefillTarget(pe.PrefillTarget.COUNTER)) == []
    assert flow.step is PrefillStep.CHOOSE_TARGET


def test_the_guide_hands_over_its_issued_ticket_and_an_offline_one_can_only_print() -> None:
    """GIVEN the guide's ticket (online with its status token, or issued offline without one) WHEN it starts the
    prefill flow THEN the online one offers the counter with its number, the offline one only printing."""
    online = qe.IssuedTicket("A-12", "moving", (qe.TicketStop("shimin_3"),), status_token="t" * 32)
    offline = qe.IssuedTicket("A-913", "moving", (qe.TicketStop("shimin_3"),), offline=True)
    for ticket, counter in ((online, True), (offline, False)):
        flow = PrefillFlow(FakeClock())
        flow.handle(PrefillFlow.start_event(("shussei",), ticket, "ja"))
        view = flow.view()
        assert (view.step, view.can_attach, view.number) == (PrefillStep.CONSENT, counter, ticket.number)
