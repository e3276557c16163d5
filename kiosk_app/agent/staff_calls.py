"""Staff calls on the fleet link: `up/staff_call` out, the centre's signed answers in (R-34).

The app calls `call()` when 職員を呼ぶ is pressed (or a flow calls staff itself) and `cancel()` when the
resident withdraws the call. Staff answer in the central web; their answer arrives as a signed remote
command (`staff_call_ack`, `staff_call_close`, the call's id in `ref`), verified by the `CommandRunner`
like every command, and is handed to the listeners (the kiosk's runner posts it to the flows). Only the
kiosk id (the topic), the step and a reason code leave the kiosk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from madoguchi.contracts.signed import CommandDocument, CommandOp
from madoguchi.contracts.staff_call import StaffCallMessage, StaffCallStatus
from madoguchi.contracts.topics import Up, up

__all__ = ["StaffCallAnswer", "StaffCalls"]

_logger = logging.getLogger(__name__)

StaffCallAnswer = Callable[[str, CommandOp], None]  # (call id, STAFF_CALL_ACK or STAFF_CALL_CLOSE)


class StaffCalls:
    """One kiosk's staff calls.

    Args:
        device_id: this kiosk.
        publish: `(topic, payload) -> queued`, QoS 1 (the agent's, which holds messages while offline).
        clock: seconds since the Unix epoch.
    """

    def __init__(
        self, device_id: str, publish: Callable[[str, bytes], bool], clock: Callable[[], float]
    ) -> None:
        self.device_id = device_id
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[StaffCallAnswer] = []
        self.sent: list[StaffCallMessage] = []  # what was published (tests, diagnostics)

    def call(self, call_id: str, step: str, reason: str) -> bool:
        """Open a call; False when it could not even be queued."""
        return self._send(call_id, step, reason, StaffCallStatus.CALLED)

    def cancel(self, call_id: str, step: str, reason: str) -> bool:
        """Withdraw a call."""
        return self._send(call_id, step, reason, StaffCallStatus.CANCELLED)

    def add_listener(self, listener: StaffCallAnswer) -> None:
        """Tell `listener(call_id, op)` when staff answer a call."""
        with self._lock:
            self._listeners.append(listener)

    def operations(self) -> dict[CommandOp, Callable[[CommandDocument], str]]:
        """The remote-command operations that carry staff answers (for the `CommandRunner`)."""
        return {CommandOp.STAFF_CALL_ACK: self._answered, CommandOp.STAFF_CALL_CLOSE: self._answered}

    def _answered(self, command: CommandDocument) -> str:
        if not command.ref:
            raise ValueError(f"{command.op.value} names no call (ref)")
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(command.ref, command.op)
        _logger.info("%s: staff answered call %s: %s", self.device_id, command.ref, command.op.value)
        return f"{command.op.value} {command.ref}"

    def _send(self, call_id: str, step: str, reason: str, status: StaffCallStatus) -> bool:
        message = StaffCallMessage(
            call_id=call_id, step=step, reason=reason, status=status, ts=int(self._clock() * 1000)
        )
        self.sent.append(message)
        _logger.info("%s: staff call %s %s at %s (%s)", self.device_id, call_id, status.value, step, reason)
        return self._publish(up(self.device_id, Up.STAFF_CALL), message.to_bytes())
