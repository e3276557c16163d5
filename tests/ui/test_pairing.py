"""The first-boot pairing screen: typed on its own keypad, submitted through the real enrolment client."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk_app.enrolment import enrol
from kiosk_app.enrolment.pairing import PairingForm
from kiosk_app.ui.pairing_screen import PairingScreen
from tests.ui.conftest import Ui
from tests.ui.tofu import tofu_in


def test_pairing_screen_types_on_its_keypad_and_shows_why_pairing_failed(ui: Ui, tmp_path: Path) -> None:
    """GIVEN the pairing screen with the host name prefilled WHEN the operator taps the code on the keypad
    (look-alike letters are not offered), switches to the device id to fix a digit, and taps Pair on a kiosk whose
    fleet root is missing THEN the screen shows the code in two groups, then 'not paired' with the reason
    and what to do, and the code is cleared for the next try."""

    def pair(device_id: str, code: str) -> str:
        return enrol("https://127.0.0.1:9", tmp_path / "data", device_id, Path("/nonexistent/root.pem"), pairing_code=code).device_id  # fmt: skip

    form = PairingForm(device_id="jp-131016-k0", enrol=pair)
    screen = ui.mount(PairingScreen(form))
    ui.frames(10)  # let the keypad grid settle before tapping by position
    assert not any(b.text in ("I", "L", "O", "U") for b in screen.keypad.children)
    for char in "7K2QDM9XPA":
        ui.tap(screen.key(char))
    assert screen.code.text == "7K2QD-M9XPA"
    ui.tap(screen.device)
    ui.frames(10)  # the keypad is rebuilt for the device id
    ui.tap(screen.key("3"))
    assert screen.device.text == "jp-131016-k03" and form.code == "7K2QDM9XPA"
    ui.screenshot("pairing-typed")
    ui.tap(screen.pair)
    form.wait()
    deadline = time.monotonic() + 5
    while "登録できません" not in screen.status.text and time.monotonic() < deadline:
        ui.frames(2)
    assert "登録できません / Not paired" in screen.status.text
    assert form.outcome is not None and not form.outcome.ok and form.outcome.message in screen.status.text
    assert form.code == "" and screen.code.text == "—"
    assert tofu_in(screen) == []
    ui.screenshot("pairing-refused")
