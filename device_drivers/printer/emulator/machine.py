"""The virtual printer's mechanism: executes decoded commands, holds data while it cannot print, writes jobs.

Real-time status requests (DLE EOT) are answered at once from the state file; everything else
is executed in order, and held while the paper is out, the cover open or the printer offline,
then printed after the fix (as real printers do). Each cut ends a job: ``job-NNNN.png`` and
``job-NNNN.json`` in the output directory. Commands the emulated model lacks (see
`Capabilities`) are ignored, as the real model would, and listed in the job's ``ignored``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from device_drivers.printer.emulator import decoder as d
from device_drivers.printer.emulator.capabilities import Capabilities
from device_drivers.printer.emulator.render import Paper, barcode_image, qr_image, raster_image
from device_drivers.printer.emulator.state import EmulatorState, read_state, status_byte

__all__ = ["JobRecord", "VirtualPrinterCore"]

_logger = logging.getLogger(__name__)


@dataclass
class JobRecord:
    """Summary of one printed job (written as JSON next to its PNG)."""

    number: int
    bytes: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    raster_rows: int = 0
    qr: list[str] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)
    kanji_mode: bool = False
    cut: bool = False
    cut_mode: str = ""  # "full", "partial" or "tear-off" (fed to the tear bar of a printer without cutter)
    ignored: Counter[str] = field(default_factory=Counter)
    png: str = ""

    def as_json(self) -> dict[str, object]:
        """The JSON summary."""
        return {
            "job": self.number, "bytes": self.bytes, "commands": dict(self.commands),
            "raster_rows": self.raster_rows, "qr": self.qr, "barcodes": self.barcodes,
            "text_lines": self.text_lines, "kanji_mode": self.kanji_mode, "cut": self.cut,
            "cut_mode": self.cut_mode, "ignored": dict(self.ignored), "png": self.png,
        }  # fmt: skip


class VirtualPrinterCore:
    """One virtual printer; thread-safe. `receive()` returns the bytes the printer sends back."""

    def __init__(
        self,
        out_dir: Path,
        state_file: Path | None = None,
        width: int = 576,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.state_file = state_file
        self.width = width
        self.capabilities = capabilities or Capabilities()
        self.jobs: list[JobRecord] = []
        self.rows_printed = 0
        self._lock = threading.Lock()
        self._decoder = d.Decoder()
        self._held: list[d.Command] = []
        self._reset_job()

    def _reset_job(self) -> None:
        self._paper = Paper(self.width)
        self._job = JobRecord(len(self.jobs) + 1)
        self._align = 0
        self._bold = False
        self._size = (1, 1)
        self._kanji = False
        self._line = b""
        self._qr: dict[int, bytes] = {}
        self._barcode = {"width": 3, "height": 162}

    @property
    def paper_since_cut(self) -> bool:
        """Something has been printed since the last cut (it would hang out of the printer)."""
        with self._lock:
            return not self._paper.empty

    def state(self) -> EmulatorState:
        """The current state (file re-read now, roll length applied)."""
        return read_state(self.state_file).effective(self.rows_printed)

    def receive(self, data: bytes) -> bytes:
        """Take bytes from the host; return the replies."""
        with self._lock:
            replies = bytearray()
            self._job.bytes += len(data)
            for command in self._decoder.feed(data):
                if isinstance(command, d.RealTimeStatus):
                    state = self.state()
                    if state.responding:
                        replies.append(status_byte(state, command.n))
                    continue
                self._held.append(command)
            replies += self._run_held()
            return bytes(replies)

    def poke(self) -> bytes:
        """Re-read the state, print held data if the printer can print now; return any replies."""
        with self._lock:
            return self._run_held() if self.state().responding else b""

    def _run_held(self) -> bytes:
        replies = bytearray()
        while self._held:
            state = self.state()
            if not state.printing:
                break
            command = self._held.pop(0)
            reply = self._execute(command)
            if reply and state.responding:
                replies += reply
        return bytes(replies)

    def _lacks(self, command: d.Command) -> bool:
        caps = self.capabilities
        if isinstance(command, d.QrSetting | d.QrPrint):
            return not caps.native_qr
        if isinstance(command, d.Barcode | d.BarcodeSetting):
            return not caps.native_barcode
        return isinstance(command, d.Cut) and not caps.cutter and not command.feed

    def _execute(self, command: d.Command) -> bytes:
        job = self._job
        job.commands[type(command).__name__] += 1
        if self._lacks(command):
            job.ignored[type(command).__name__] += 1
            return b""
        if isinstance(command, d.Init):
            self._align, self._bold, self._size, self._kanji = 0, False, (1, 1), False
        elif isinstance(command, d.Align):
            self._align = command.value
        elif isinstance(command, d.Bold):
            self._bold = command.on
        elif isinstance(command, d.CharSize):
            self._size = (command.width, command.height)
        elif isinstance(command, d.KanjiMode):
            self._kanji = self._kanji or command.code_system == 1 or bool(command.on)
            job.kanji_mode = job.kanji_mode or self._kanji
        elif isinstance(command, d.TextBytes):
            self._line += command.data
        elif isinstance(command, d.LineFeed):
            self._print_line()
        elif isinstance(command, d.Feed):
            self._paper.blank(command.dots + command.lines * 30)
        elif isinstance(command, d.Raster):
            self._paper.place(raster_image(command.width, command.height, command.data), self._align)
            job.raster_rows += command.height
            self.rows_printed += command.height
        elif isinstance(command, d.QrSetting):
            self._qr[command.fn] = command.value
        elif isinstance(command, d.QrPrint):
            data = self._qr.get(80, b"\x30")[1:]
            module = self._qr.get(67, b"\x03")[0]
            self._paper.place(qr_image(data, module, self._qr.get(69, b"\x30")[0]), self._align)
            job.qr.append(data.decode("utf-8", "replace"))
        elif isinstance(command, d.BarcodeSetting):
            self._barcode[command.name] = command.value
        elif isinstance(command, d.Barcode):
            self._print_barcode(command)
        elif isinstance(command, d.Cut):
            job.cut = True
            if not self.capabilities.cutter:
                job.cut_mode = "tear-off"
            else:
                job.cut_mode = "partial" if command.partial else "full"
            self._finish()
        elif isinstance(command, d.TransmitStatus):
            return bytes([0x00])  # paper adequate: the data before it has been processed
        return b""

    def _print_line(self) -> None:
        codec = "shift_jis" if self._kanji else "cp437"
        text = self._line.decode(codec, "replace")
        self._line = b""
        self._job.text_lines.append(text)
        self._paper.text_line(text, self._size[0], self._size[1], self._bold, self._align)

    def _print_barcode(self, command: d.Barcode) -> None:
        text = command.data.decode("ascii", "replace")
        self._job.barcodes.append(text[2:] if text.startswith("{B") else text)
        self._paper.place(barcode_image(text, self._barcode["width"], self._barcode["height"]), self._align)

    def _finish(self) -> None:
        if self._line:
            self._print_line()
        if not self._paper.empty:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            stem = f"job-{self._job.number:04d}"
            self._paper.image().save(self.out_dir / f"{stem}.png")
            self._job.png = f"{stem}.png"
            (self.out_dir / f"{stem}.json").write_text(
                json.dumps(self._job.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
            )
            self.jobs.append(self._job)
            _logger.info("virtual printer: job %d written (%d bytes)", self._job.number, self._job.bytes)
        self._reset_job()

    def flush(self) -> None:
        """End the current job without a cut (e.g. when the host disconnects)."""
        with self._lock:
            self._run_held()
            if not self._paper.empty and not self._held:
                self._finish()
