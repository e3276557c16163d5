"""Remote commands from the centre (`down/cmd`): signed, short-lived, each answered on `up/ack`.

A command is run only if its DSSE envelope is a `cmd` document signed by a current `cmd` key, it
names this kiosk, it has not expired, and its `cmd_id` was not executed before (executed ids are
kept on disk until their expiry). Answers: ACCEPTED then DONE or FAILED; REJECTED when a check
fails or the operation is not available on this kiosk. Operations are plain callables returning a
short detail; the agent supplies rebirth, maintenance, restart and diagnostics, the app may add
more (e.g. `print_test_page` from the printer driver).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from kiosk_app.agent.durable import write_atomic
from kiosk_app.agent.trust import TrustStore
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.messages import AckMessage, CommandAckStatus
from madoguchi.contracts.signed import CommandDocument, CommandOp, Envelope, PayloadType, verify
from madoguchi.contracts.topics import Down, Up, down, up

__all__ = ["CommandRunner", "Operation"]

_logger = logging.getLogger(__name__)

Operation = Callable[[CommandDocument], str]  # returns a short detail; raises to report FAILED


class CommandRunner:
    """Verifies and runs `down/cmd` documents for one kiosk.

    Args:
        device_id: this kiosk.
        trust: keys with role `cmd`.
        operations: op → callable.
        publish: `(topic, payload)` QoS 1.
        state_path: executed command ids with their expiry (JSON).
        clock: seconds since the Unix epoch.
    """

    def __init__(
        self,
        device_id: str,
        trust: TrustStore,
        operations: Mapping[CommandOp, Operation],
        *,
        publish: Callable[[str, bytes], bool],
        state_path: Path,
        clock: Callable[[], float],
    ) -> None:
        self.device_id = device_id
        self.trust = trust
        self.operations = dict(operations)
        self._publish = publish
        self._state_path = state_path
        self._clock = clock
        self._lock = threading.Lock()
        self._topic = down(device_id, Down.CMD)
        try:
            self._executed: dict[str, int] = {
                str(k): int(v) for k, v in json.loads(state_path.read_text()).items()
            }
        except (FileNotFoundError, ValueError):
            self._executed = {}

    def handle(self, topic: str, payload: bytes) -> bool:
        """Take a downlink message; False if it is not a command."""
        if topic != self._topic:
            return False
        if payload:
            self.run(payload)
        return True

    def run(self, payload: bytes) -> CommandAckStatus:
        """Verify and run one command; returns the final status sent."""
        now_ms = int(self._clock() * 1000)
        try:
            envelope = Envelope.from_bytes(payload)
            command = CommandDocument.from_bytes(verify(envelope, PayloadType.CMD, self.trust.keys("cmd")))
        except ContractError as exc:
            return self._ack("unknown", CommandAckStatus.REJECTED, f"command refused: {exc}")
        if command.device_id != self.device_id:
            return self._ack(command.cmd_id, CommandAckStatus.REJECTED, f"command is for {command.device_id}")
        if command.expires < now_ms:
            return self._ack(command.cmd_id, CommandAckStatus.REJECTED, "command expired")
        operation = self.operations.get(command.op)
        with self._lock:
            self._executed = {k: v for k, v in self._executed.items() if v >= now_ms}
            if command.cmd_id in self._executed:
                return self._ack(command.cmd_id, CommandAckStatus.REJECTED, "already executed")
            if operation is None:
                return self._ack(
                    command.cmd_id, CommandAckStatus.REJECTED, f"{command.op.value} is not available here"
                )
            self._executed[command.cmd_id] = command.expires
            write_atomic(self._state_path, json.dumps(self._executed).encode())
        self._ack(command.cmd_id, CommandAckStatus.ACCEPTED, command.op.value)
        try:
            detail = operation(command)
        except Exception as exc:
            _logger.exception("%s: command %s (%s) failed", self.device_id, command.cmd_id, command.op.value)
            return self._ack(command.cmd_id, CommandAckStatus.FAILED, f"{type(exc).__name__}: {exc}")
        _logger.info("%s: command %s (%s) done: %s", self.device_id, command.cmd_id, command.op.value, detail)
        return self._ack(command.cmd_id, CommandAckStatus.DONE, detail)

    def _ack(self, ref: str, status: CommandAckStatus, detail: str) -> CommandAckStatus:
        if status is CommandAckStatus.REJECTED:
            _logger.warning("%s: command %s rejected: %s", self.device_id, ref, detail)
        message = AckMessage(ref=ref[:128], kind="cmd", status=status.value, detail=detail[:500],
                             ts=int(self._clock() * 1000))  # fmt: skip
        self._publish(up(self.device_id, Up.ACK), message.to_bytes())
        return status
