"""職員を呼ぶ (R-34): the call is a banner over the resident's step, and staff answer it in the web.

Kiosk side: the controller (no Kivy) on a fake clock. Centre side: the ingest's dispatch into the store,
and the staff page through the real web app (`TestClient`), CSRF and audit log included.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.ingest_dispatch import dispatch
from central_broker.store import FleetStore
from central_broker.web import WebContext
from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Command, Tick
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.staff_call import CallStatus
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.staff_call import StaffCallMessage, StaffCallStatus
from madoguchi.contracts.topics import Up, parse_topic, up
from tests.fixtures.web import csrf_of, make_user, signed_in
from tests.flow_helpers import PIN, Harness
from tests.test_flow_register import Reg

DEVICE = "jp-999999-k31"


def _kiosk(step: Step) -> tuple[Harness, KioskController, list[Command]]:
    h = Harness().goto(step)
    executed: list[Command] = []
    controller = KioskController(h.flow, Reg().flow, executed.append, clock=h.clock)
    controller.active = Service.CERTIFICATE
    return h, controller, executed


def _calls(executed: list[Command]) -> list[cmd.CallStaffCommand]:
    return [c for c in executed if isinstance(c, cmd.CallStaffCommand)]


def test_calling_staff_shows_a_banner_and_keeps_the_residents_place() -> None:
    """GIVEN a resident half-way through typing the PIN WHEN they press 職員を呼ぶ (twice) THEN one call
    with an id, the step and no personal data goes out, the banner shows "staff have been called", and the
    step, the digits typed and the session are exactly as before."""
    h, controller, executed = _kiosk(Step.PIN_ENTRY)
    controller.send(ev.Digit(PIN[0]))
    controller.send(ev.Digit(PIN[1]))
    session = h.flow.session
    assert session is not None
    controller.call_staff()
    controller.call_staff()
    (call,) = _calls(executed)
    assert call.step == "pin_entry" and call.reason == "resident" and call.call_id
    assert controller.staff_call is not None and controller.staff_call.status is CallStatus.CALLED
    assert h.step is Step.PIN_ENTRY and h.flow.session is session and len(session.pin) == 2
    assert controller.screen() == "keypad"
    controller.send(ev.Digit(PIN[2]))
    assert len(session.pin) == 3  # the resident can go on while waiting


def test_resident_timeouts_wait_while_staff_are_called() -> None:
    """GIVEN a resident who called staff on the copies step WHEN ten minutes pass before anyone comes
    THEN they are still on the copies step with their choices (no "more time?" prompt, no wipe); once they
    withdraw the call the step has its whole time again."""
    h, controller, executed = _kiosk(Step.COPIES)
    controller.send(ev.SetCopies(2))
    controller.call_staff()
    for _ in range(600):
        h.clock.advance(1)
        controller.send(Tick())
    assert h.step is Step.COPIES and h.flow.session is not None and h.flow.session.copies == 2
    assert not controller.countdown().extendable  # nothing counts down while staff come
    controller.send(ev.CancelStaffCall())
    assert controller.staff_call is None
    (cancel,) = [c for c in executed if isinstance(c, cmd.CancelStaffCallCommand)]
    assert cancel.call_id == _calls(executed)[0].call_id and cancel.step == "copies"
    assert h.flow.machine.time_left() == pytest.approx(60)
    h.clock.advance(61)
    controller.send(Tick())
    assert controller.step_name() == "more_time"  # normal timeouts again


def test_acknowledgement_says_staff_are_coming_and_closing_removes_the_banner() -> None:
    """GIVEN an open call WHEN staff acknowledge it in the web THEN the banner says staff are coming; an
    answer for another call changes nothing; when staff close it the banner goes and the step stays."""
    h, controller, executed = _kiosk(Step.CHOOSE_TYPE)
    controller.call_staff()
    call_id = _calls(executed)[0].call_id
    controller.post(ev.StaffCallAnswered("someone-else", True))
    controller.drain()
    assert controller.staff_call is not None and controller.staff_call.status is CallStatus.CALLED
    controller.post(ev.StaffCallAnswered(call_id, True))
    controller.drain()
    assert controller.staff_call is not None and controller.staff_call.status.value == "acknowledged"
    assert controller.translator().tr("staff.coming") == "Staff are on their way. Please wait here."
    controller.post(ev.StaffCallAnswered(call_id, False))
    controller.drain()
    assert controller.staff_call is None and h.step is Step.CHOOSE_TYPE


def test_a_call_the_flow_made_cannot_be_withdrawn_at_the_kiosk() -> None:
    """GIVEN a payment whose outcome is unknown (the flow calls staff itself) THEN the banner shows the
    call, but the resident cannot cancel it."""
    _h, controller, executed = _kiosk(Step.PAYING)
    controller.send(ev.PaymentUnknown())
    (call,) = _calls(executed)
    assert call.reason == "payment_unknown" and call.call_id
    assert controller.staff_call is not None and not controller.staff_call.cancellable
    controller.cancel_staff_call()
    assert controller.staff_call is not None
    assert not [c for c in executed if isinstance(c, cmd.CancelStaffCallCommand)]


def test_call_from_the_home_screen() -> None:
    """GIVEN nobody is using the kiosk WHEN someone presses 職員を呼ぶ THEN a call for step `home` goes out."""
    h = Harness()
    executed: list[Command] = []
    controller = KioskController(h.flow, Reg().flow, executed.append, clock=h.clock)
    controller.call_staff()
    assert [(c.step, c.reason) for c in _calls(executed)] == [("home", "resident")]
    assert controller.staff_call is not None and controller.staff_call.cancellable


def test_the_staff_call_message_carries_no_free_text() -> None:
    """GIVEN a step or reason that is not a code (a name, a sentence) THEN the message is refused: only
    the kiosk id (topic), a step code and a reason code can leave the kiosk."""
    for field in ("step", "reason"):
        values = {"call_id": "abc", "step": "pin_entry", "reason": "resident", "status": "called", "ts": 1}
        values[field] = "山田 太郎"
        with pytest.raises(ContractError):
            StaffCallMessage.from_bytes(json.dumps(values).encode())


def _send(store: FleetStore, call_id: str, status: StaffCallStatus, step: str = "pin_entry") -> str:
    message = StaffCallMessage(
        call_id=call_id, step=step, reason="resident", status=status, ts=1_700_000_000_000
    )
    handled = dispatch(store, parse_topic(up(DEVICE, Up.STAFF_CALL)), message.to_bytes())
    assert handled is not None
    return handled.outcome


def test_ingest_keeps_every_call_and_its_end(central_store: FleetStore) -> None:
    """GIVEN calls from a kiosk (one delivered twice, one withdrawn) THEN the live list holds the open one
    once, the withdrawn one is no longer live but is kept, marked as ended by the kiosk."""
    assert _send(central_store, "c1", StaffCallStatus.CALLED) == "called"
    assert _send(central_store, "c1", StaffCallStatus.CALLED) == "ignored"
    assert _send(central_store, "c2", StaffCallStatus.CALLED, "copies") == "called"
    assert _send(central_store, "c2", StaffCallStatus.CANCELLED, "copies") == "cancelled"
    assert [c.call_id for c in central_store.staff_calls()] == ["c1"]
    (ended,) = central_store.staff_calls(live=False)
    assert (ended.call_id, ended.state.value, ended.closed_by) == ("c2", "cancelled", "kiosk")


@pytest.fixture
def staff_client(web_client: TestClient, web_context: WebContext) -> TestClient:
    name, password = make_user(web_context, Role.STAFF)
    return signed_in(web_client, name, password)


def test_staff_acknowledge_and_resolve_a_call_in_the_web(
    staff_client: TestClient, web_context: WebContext, central_store: FleetStore
) -> None:
    """GIVEN a kiosk calling staff WHEN counter staff open Staff calls THEN they see the kiosk and step;
    acknowledging without the form's token is refused; with it the call shows who acknowledged it and
    the audit log has it; once resolved it leaves the live list, stays in the recent calls and the log."""
    _send(central_store, "c7", StaffCallStatus.CALLED)
    page = staff_client.get("/staff-calls")
    assert page.status_code == 200
    assert f'data-call="{DEVICE}/c7"' in page.text and "pin_entry" in page.text
    assert staff_client.post(f"/staff-calls/{DEVICE}/c7/acknowledge", data={}).status_code == 403
    assert central_store.staff_call(DEVICE, "c7").state.value == "open"  # type: ignore[union-attr]
    token = csrf_of(page.text)
    answer = staff_client.post(f"/staff-calls/{DEVICE}/c7/acknowledge", data={"csrf_token": token})
    assert answer.status_code == 200  # followed the redirect back to the list
    assert "staff-call-unsent" in answer.text  # no signing keys here: the page says the kiosk was not told
    fragment = staff_client.get("/staff-calls/fragment").text
    user = web_context.accounts.audit_entries()[0].actor
    assert 'data-state="acknowledged"' in fragment and user in fragment
    staff_client.post(f"/staff-calls/{DEVICE}/c7/resolve", data={"csrf_token": token})
    assert central_store.staff_calls() == []
    fragment = staff_client.get("/staff-calls/fragment").text
    assert "no-staff-calls" in fragment and 'data-state="resolved"' in fragment
    actions = [(e.action, e.target, e.actor) for e in web_context.accounts.audit_entries()]
    assert ("staff_call.acknowledge", DEVICE, user) in actions and (
        "staff_call.resolve",
        DEVICE,
        user,
    ) in actions


def test_auditors_cannot_answer_calls(web_client: TestClient, web_context: WebContext) -> None:
    """GIVEN an auditor THEN the staff-call page is not theirs."""
    name, password = make_user(web_context, Role.AUDITOR)
    signed_in(web_client, name, password)
    assert web_client.get("/staff-calls").status_code == 403
