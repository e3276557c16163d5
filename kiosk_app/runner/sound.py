"""Audio cues and the card-left-behind alarm (R-13): short tone patterns played with ALSA's `aplay`.

The tones are written once as 16-bit mono WAV files in `<data_dir>/sounds/` (no audio files to ship or
license). A cue plays once and never blocks the flow; the alarm repeats every `ALARM_EVERY_S` until
`stop_alarm()`. Without a player (no `aplay`, no sound card) the kiosk stays silent and logs it once;
the screen alarm does not depend on sound.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import threading
import wave
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ALARM_EVERY_S", "CUES", "CuePlayer"]

_logger = logging.getLogger(__name__)

RATE = 16_000
ALARM_EVERY_S = 1.5
# cue → (frequency Hz, seconds) notes; 0 Hz is a rest.
CUES: dict[str, tuple[tuple[int, float], ...]] = {
    "take_certificate": ((880, 0.15), (0, 0.05), (1175, 0.25)),
    "take_card": ((1175, 0.15), (0, 0.05), (880, 0.25)),
    "payment_done": ((988, 0.12), (0, 0.04), (1319, 0.2)),
    "alarm": ((1760, 0.2), (0, 0.1), (1760, 0.2), (0, 0.1), (1760, 0.2)),
    "time_running_out": ((660, 0.12), (0, 0.08), (660, 0.12)),  # the 時間を延長 count-down starts
}


def _write_tone(path: Path, notes: Sequence[tuple[int, float]]) -> None:
    frames = bytearray()
    for freq, seconds in notes:
        count = int(RATE * seconds)
        for i in range(count):
            fade = min(1.0, i / 80, (count - i) / 80)  # no clicks at note edges
            value = 0.0 if freq == 0 else math.sin(2 * math.pi * freq * i / RATE) * 0.5 * fade
            frames += struct.pack("<h", int(value * 32767))
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    tmp.replace(path)


class CuePlayer:
    """Plays cues (non-blocking) and the repeating alarm.

    Args:
        folder: where the WAV files are written.
        command: the player, given the WAV path as last argument (default `aplay -q`); None = silent.
    """

    def __init__(self, folder: Path, command: Sequence[str] | None = ()) -> None:
        self.folder = folder
        if command == ():
            found = shutil.which("aplay")
            command = (found, "-q") if found else None
        self.command = tuple(command) if command else None
        self.played: list[str] = []
        self._alarm_stop = threading.Event()
        self._alarm: threading.Thread | None = None
        self._warned = False

    def path(self, cue: str) -> Path:
        """The cue's WAV file (written on first use)."""
        path = self.folder / f"{cue}.wav"
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_tone(path, CUES[cue])
        return path

    def play(self, cue: str) -> None:
        """Play a cue once, in the background."""
        if cue not in CUES:
            _logger.warning("no sound for cue %s", cue)
            return
        self.played.append(cue)
        if self.command is None:
            if not self._warned:
                _logger.info("no audio player (aplay): cues are silent")
                self._warned = True
            return
        try:
            subprocess.Popen(
                [*self.command, str(self.path(cue))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError as exc:
            _logger.warning("cannot play %s: %s", cue, exc)

    def start_alarm(self) -> None:
        """Sound the card-left-behind alarm until `stop_alarm()`."""
        if self._alarm is not None and self._alarm.is_alive():
            return
        self._alarm_stop.clear()
        self._alarm = threading.Thread(target=self._ring, name="card-alarm", daemon=True)
        self._alarm.start()

    def _ring(self) -> None:
        while not self._alarm_stop.is_set():
            self.play("alarm")
            self._alarm_stop.wait(ALARM_EVERY_S)

    def stop_alarm(self) -> None:
        """Silence the alarm (the card was taken)."""
        self._alarm_stop.set()
        if self._alarm is not None:
            self._alarm.join(5)
            self._alarm = None

    @property
    def ringing(self) -> bool:
        """True while the alarm sounds."""
        return self._alarm is not None and self._alarm.is_alive()
