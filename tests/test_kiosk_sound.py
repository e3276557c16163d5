"""Audio cues and the card-left-behind alarm: real WAV files, played by the player command, until stopped."""

from __future__ import annotations

import sys
import time
import wave
from pathlib import Path

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.runner import DeviceRunner, EmulatedCardSlot, FolderA4, RunnerParts
from kiosk_app.runner import sound as sound_module
from kiosk_app.runner.sound import CUES, CuePlayer
from madoguchi.contracts.catalog import load_sample_catalog


def _recording_player(log: Path) -> list[str]:
    """A player command that appends the file it is given to `log` (stands in for aplay)."""
    return [sys.executable, "-c", f"import sys; open({str(log)!r}, 'a').write(sys.argv[1] + '\\n')"]


def _plays(log: Path, timeout: float, at_least: int) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= at_least:
            return lines
        time.sleep(0.05)
    return log.read_text().splitlines() if log.exists() else []


def test_every_cue_is_an_audible_wav_of_its_notes(tmp_path: Path) -> None:
    """GIVEN the cue player WHEN it writes its tones THEN each is a 16 kHz mono WAV as long as its notes, not silent."""
    player = CuePlayer(tmp_path / "sounds", command=None)
    for cue, notes in CUES.items():
        with wave.open(str(player.path(cue))) as wav:
            frames = wav.readframes(wav.getnframes())
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
            assert abs(wav.getnframes() / 16_000 - sum(s for _, s in notes)) < 0.01
        peak = max(
            abs(int.from_bytes(frames[i : i + 2], "little", signed=True)) for i in range(0, len(frames), 2)
        )
        assert peak > 10_000, cue


def test_a_cue_is_played_once_by_the_player(tmp_path: Path) -> None:
    """GIVEN a player command WHEN the flow asks for the take-certificate cue THEN the player gets that WAV once."""
    log = tmp_path / "played.log"
    player = CuePlayer(tmp_path / "sounds", command=_recording_player(log))
    player.play("take_certificate")
    assert _plays(log, 10, 1) == [str(tmp_path / "sounds" / "take_certificate.wav")]


def test_the_card_alarm_repeats_until_the_card_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the runner with a sound player WHEN the flow starts the card-left alarm THEN it sounds again and
    again; WHEN the card is taken (StopAlarm) THEN it stops and stays silent."""
    monkeypatch.setattr(sound_module, "ALARM_EVERY_S", 0.2)
    log = tmp_path / "played.log"
    parts = RunnerParts(
        catalog=load_sample_catalog(),
        card=EmulatedCardSlot(),
        a4=FolderA4(tmp_path / "a4"),
        receipt=None,
        terminal=None,
        issuance=None,
        orders=None,
        sound=CuePlayer(tmp_path / "sounds", command=_recording_player(log)),
    )
    runner = DeviceRunner(parts)
    runner.attach(lambda _event: None)
    runner.execute(cmd.StartAlarm())
    assert len(_plays(log, 10, 3)) >= 3
    runner.execute(cmd.StopAlarm())
    assert parts.sound is not None and not parts.sound.ringing
    time.sleep(0.5)  # let a player started just before the stop finish writing
    settled = len(log.read_text().splitlines())
    time.sleep(0.6)
    assert len(log.read_text().splitlines()) == settled
