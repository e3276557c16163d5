"""The kill switch (`fleet/control`, R-11) as the kiosk sees it: which functions are suspended now.

A control document is applied only with a valid signature by a current `control` key and a
version above the last applied one; a document that fails is ignored and raises the
`control-invalid` alert. The last applied document is kept on disk, so a restarted kiosk is
suspended before it serves anyone even if the broker is unreachable. The app asks
`suspension(function)` before starting a transaction and shows `message` in the resident's
language; listeners are told of every change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kiosk_app.agent.durable import write_atomic
from kiosk_app.agent.telemetry import Telemetry
from kiosk_app.agent.trust import TrustStore
from madoguchi.contracts.base import ContractError, municipality_of
from madoguchi.contracts.messages import Severity
from madoguchi.contracts.signed import ControlDocument, Envelope, PayloadType, verify
from madoguchi.contracts.topics import FLEET_CONTROL

__all__ = ["CONTROL_ALERT", "Function", "KillSwitch", "Suspension"]

_logger = logging.getLogger(__name__)

CONTROL_ALERT = "control-invalid"
Function = Literal["issuance", "payment", "tickets"]


@dataclass(frozen=True)
class Suspension:
    """Whether a function is suspended on this kiosk, and the operator's message by language."""

    suspended: bool
    message: dict[str, str] = field(default_factory=dict)
    version: int = 0


class KillSwitch:
    """Applies `fleet/control` for one kiosk."""

    def __init__(self, device_id: str, trust: TrustStore, telemetry: Telemetry, state_path: Path) -> None:
        self.device_id = device_id
        self.municipality = municipality_of(device_id)
        self.trust = trust
        self._telemetry = telemetry
        self._state_path = state_path
        self._lock = threading.Lock()
        self._document: ControlDocument | None = None
        self._waiting: bytes | None = None  # a document that arrived before the keys that verify it
        self._listeners: list[Callable[[KillSwitch], None]] = []
        trust.add_listener(self._retry_waiting)
        if state_path.is_file():
            try:
                self._document = ControlDocument.from_bytes(state_path.read_bytes())
            except ContractError as exc:
                _logger.error("stored control document unreadable: %s", exc)

    @property
    def version(self) -> int:
        """Version of the applied control document (0 before any)."""
        return 0 if self._document is None else self._document.version

    def add_listener(self, listener: Callable[[KillSwitch], None]) -> None:
        """Call `listener(self)` after every change."""
        self._listeners.append(listener)

    def suspension(self, function: Function) -> Suspension:
        """The current state of `function` on this kiosk."""
        document = self._document
        if document is None:
            return Suspension(False)
        part = getattr(document, function)
        return Suspension(
            part.suspends(self.device_id, self.municipality), dict(part.message), document.version
        )

    def handle(self, topic: str, payload: bytes) -> bool:
        """Take a downlink message; False if it is not `fleet/control`."""
        if topic != FLEET_CONTROL:
            return False
        if payload:
            self.apply(payload)
        return True

    def _retry_waiting(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.apply(waiting)

    def apply(self, payload: bytes) -> bool:
        """Verify and apply a control document; True if it changed the state.

        A document that arrives before any `control` key is known (a new kiosk, or the broker's retained
        messages restored in another order) waits for `fleet/keys`; one that fails with keys known is kept
        too (a key rotation can deliver it first), but raises `control-invalid`.
        """
        if not self.trust.keys("control"):
            _logger.info("%s: control document waits for fleet/keys", self.device_id)
            self._waiting = payload
            return False
        try:
            envelope = Envelope.from_bytes(payload)
            document = ControlDocument.from_bytes(
                verify(envelope, PayloadType.CONTROL, self.trust.keys("control"))
            )
        except ContractError as exc:
            self._waiting = payload
            _logger.error("%s: control document ignored: %s", self.device_id, exc)
            self._telemetry.raise_alert(CONTROL_ALERT, "control_rejected", Severity.ERROR, str(exc)[:500])
            return False
        with self._lock:
            if document.version <= self.version:
                if document.version < self.version:
                    _logger.warning("%s: control version %d below applied %d ignored",
                                    self.device_id, document.version, self.version)  # fmt: skip
                return False
            write_atomic(self._state_path, document.to_bytes())
            self._document = document
        self._telemetry.clear_alert(CONTROL_ALERT)
        _logger.info("%s: control version %d applied (issuance suspended: %s)",
                     self.device_id, document.version, self.suspension("issuance").suspended)  # fmt: skip
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                _logger.exception("kill-switch listener failed")
        return True
