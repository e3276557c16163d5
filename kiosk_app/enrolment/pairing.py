"""The pairing form behind the touchscreen pairing screen (no Kivy here, so it is tested directly).

A kiosk whose card carried no `enrol.json` shows this form at first boot: the device id (prefilled
from the host name cloud-init set, editable) and the 10-character pairing code the operator read out
(`kiosk-central enrol-token` prints it, e.g. `7K2QD-M9XPA`; O/I/L count as 0/1/1). `submit` enrols
in the background exactly like `kiosk enrol --pairing-code` and reports the outcome in plain words.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from madoguchi.contracts.base import DEVICE_ID_PATTERN
from madoguchi.enrolment import PAIRING_ALPHABET, PAIRING_CODE_LENGTH, normalise_code
from madoguchi.errors import UserError

__all__ = ["DEVICE_KEYS", "PairingForm", "PairingOutcome"]

_logger = logging.getLogger(__name__)

DEVICE_KEYS = "0123456789abcdefghijklmnopqrstuvwxyz-"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_DEVICE_ID_MAX = 64


@dataclass(frozen=True)
class PairingOutcome:
    """How a submission ended: `ok`, or the refusal's message and what to do."""

    ok: bool
    message: str
    hint: str = ""


@dataclass
class PairingForm:
    """Device id and pairing code as typed; `enrol(device_id, code)` does the enrolment.

    Args:
        device_id: prefilled (the host name), editable.
        enrol: called on a background thread; returns a line to show on success, raises `UserError`.
    """

    device_id: str
    enrol: Callable[[str, str], str]
    code: str = ""
    active: str = "code"  # the field the keypad types into: "device" or "code"
    busy: bool = False
    outcome: PairingOutcome | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def press(self, key: str) -> None:
        """A keypad key: a character for the active field (letters the field cannot hold are ignored)."""
        if self.busy:
            return
        if self.active == "device":
            key = key.lower()
            if key in DEVICE_KEYS and len(self.device_id) < _DEVICE_ID_MAX:
                self.device_id += key
        else:
            key = normalise_code(key)
            if len(key) == 1 and key in PAIRING_ALPHABET and len(self.code) < PAIRING_CODE_LENGTH:
                self.code += key
        self.outcome = None

    def backspace(self) -> None:
        """Delete the last character of the active field."""
        if self.active == "device":
            self.device_id = self.device_id[:-1]
        else:
            self.code = self.code[:-1]
        self.outcome = None

    def shown_code(self) -> str:
        """The code as printed for operators: two groups of five."""
        return f"{self.code[:5]}-{self.code[5:]}" if len(self.code) > 5 else self.code

    def problem(self) -> str | None:
        """What stops submitting, in words; None when the form is complete."""
        if not _DEVICE_ID.fullmatch(self.device_id):
            return f"device id {self.device_id or '(empty)'} is not of the form jp-131016-k03"
        if len(self.code) != PAIRING_CODE_LENGTH:
            return f"the pairing code has {PAIRING_CODE_LENGTH} characters; {len(self.code)} typed"
        return None

    def submit(self) -> bool:
        """Start enrolling in the background; False (and `outcome` says why) when the form is incomplete."""
        problem = self.problem()
        if problem is not None:
            self.outcome = PairingOutcome(
                False, problem, "check the kiosk's label and the code the centre gave"
            )
            return False
        if self.busy:
            return False
        self.busy, self.outcome = True, None
        self._thread = threading.Thread(target=self._run, args=(self.device_id, self.code), daemon=True)
        self._thread.start()
        return True

    def _run(self, device_id: str, code: str) -> None:
        try:
            line = self.enrol(device_id, code)
        except UserError as exc:
            _logger.warning("pairing %s refused: %s", device_id, exc.message)
            self.outcome = PairingOutcome(False, exc.message, exc.hint)
        except Exception as exc:
            _logger.exception("pairing %s failed", device_id)
            self.outcome = PairingOutcome(False, f"pairing failed: {exc}", "call the centre")
        else:
            self.outcome = PairingOutcome(True, line)
        finally:
            if not (self.outcome and self.outcome.ok):
                self.code, self.active = "", "code"  # ready for the next try
            self.busy = False

    def wait(self, timeout_s: float = 60.0) -> None:
        """Tests: wait for a submission to end."""
        if self._thread is not None:
            self._thread.join(timeout_s)
