"""The staff call a kiosk has open (職員を呼ぶ, R-34): an overlay on whatever the resident is doing.

A call never changes the flow's step: the controller keeps one `StaffCallTracker`, gives every
`CallStaffCommand` an id, shows a banner ("staff have been called", then "staff are coming" once staff
acknowledge it in the central web) and, while the call is open, holds the resident's timeouts so
nobody loses their place waiting (at most `hold_s`). The resident may withdraw a call they made;
calls the flow made itself (payment unknown, printer failure …) cannot be withdrawn at the kiosk.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import Command, Event, Machine

__all__ = ["RESIDENT", "CallStatus", "OpenCall", "StaffCallTracker", "handle_calling_staff"]

_logger = logging.getLogger(__name__)

RESIDENT = "resident"  # the reason of a call made with the 職員を呼ぶ button
DEFAULT_HOLD_S = 900.0


def handle_calling_staff(machine: Machine[Any, Any], event: Event) -> list[Command]:
    """`machine`'s commands for `event`; the 職員を呼ぶ button adds a call naming the step the resident was on.

    Every flow handles its events this way, so the button works the same on every screen.
    """
    step = machine.state
    commands = machine.handle(event)
    if isinstance(event, ev.CallStaff):
        commands.append(cmd.CallStaffCommand(step.value, RESIDENT))
    return commands


class CallStatus(enum.Enum):
    """Where the open call stands, as the kiosk knows it."""

    CALLED = "called"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class OpenCall:
    """The call shown on the banner."""

    call_id: str
    step: str
    reason: str
    status: CallStatus
    opened_at: float

    @property
    def cancellable(self) -> bool:
        """Only a call the resident made can be withdrawn at the kiosk."""
        return self.reason == RESIDENT


def new_call_id() -> str:
    """A random call id (no meaning, no personal data)."""
    return uuid.uuid4().hex[:16]


class StaffCallTracker:
    """The kiosk's open staff call (at most one is shown; a later flow call replaces a resident call)."""

    def __init__(
        self, clock: Clock, *, make_id: Callable[[], str] = new_call_id, hold_s: float = DEFAULT_HOLD_S
    ) -> None:
        self._clock = clock
        self._make_id = make_id
        self.hold_s = hold_s
        self.current: OpenCall | None = None

    def open(self, command: cmd.CallStaffCommand) -> cmd.CallStaffCommand | None:
        """The command to send for a new call, with its id; None when the resident is already waiting
        for staff and pressed 職員を呼ぶ again (one call is enough)."""
        if command.reason == RESIDENT and self.current is not None:
            return None
        sent = replace(command, call_id=command.call_id or self._make_id())
        self.current = OpenCall(sent.call_id, sent.step, sent.reason, CallStatus.CALLED, self._clock())
        return sent

    def cancel(self) -> cmd.CancelStaffCallCommand | None:
        """Withdraw the resident's call; None when there is none they may withdraw."""
        call = self.current
        if call is None or not call.cancellable:
            return None
        self.current = None
        return cmd.CancelStaffCallCommand(call.call_id, call.step, call.reason)

    def answered(self, call_id: str, acknowledged: bool) -> bool:
        """Staff acknowledged (or closed) a call; True when the banner changes."""
        call = self.current
        if call is None or call.call_id != call_id:
            _logger.info("staff answer for call %s, which is not the open call", call_id)
            return False
        if acknowledged:
            if call.status is CallStatus.ACKNOWLEDGED:
                return False
            self.current = replace(call, status=CallStatus.ACKNOWLEDGED)
        else:
            self.current = None
        return True

    def holding(self) -> bool:
        """True while the open call holds the resident's timeouts."""
        call = self.current
        return call is not None and self._clock() - call.opened_at < self.hold_s
