"""Printer profiles: dot width, resolution and capabilities of the receipt printers we support.

A profile is data. The kiosk config names one (``?profile=tm-t20ii`` on the printer URL);
`profile_for()` looks it up and says which names exist when it is unknown. What each model can
do (native QR and barcodes, its cutter) follows python-escpos' capability database for the
named model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from device_drivers.printer.errors import PrinterConfigError

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Cutter", "PrinterProfile", "profile_for"]


class Cutter(enum.StrEnum):
    """How a job ends on this printer."""

    FULL = "full"  # autocutter: feed 6 lines, full cut (ESC d 6, GS V 0)
    PARTIAL = "partial"  # autocutter: feed 6 lines, partial cut (ESC d 6, GS V 1)
    NONE = "none"  # tear bar only: GS V 66 0 feeds the print to the tear-off position (no cutter to cut)


@dataclass(frozen=True)
class PrinterProfile:
    """What the driver needs to know about one printer model.

    Attributes:
        name: our profile name (lower case), used in URLs and config.
        dots: printable dots per line (576 for 80 mm at 203 dpi, 512 for TM-T88, 384 for 58 mm).
        dpi: horizontal resolution.
        escpos_profile: the python-escpos capability profile with the same width.
        kanji: the printer has a kanji ROM and may be driven in kanji mode (FS C 1, Shift_JIS).
        kanji_codec: Python codec matching the ROM (``shift_jis`` = JIS X 0208 only).
        qr_module: QR module size in dots (smaller when the code and its quiet zone would not fit).
        native_qr: the printer draws QR codes itself (GS ( k); otherwise they are sent as raster images.
        native_barcode: the printer draws CODE128 itself (GS k); otherwise it is sent as a raster image.
        cutter: how each job ends (full or partial cut, or a feed to the tear bar).
    """

    name: str
    dots: int
    dpi: int
    escpos_profile: str
    kanji: bool = False
    kanji_codec: str = "shift_jis"
    qr_module: int = 6
    native_qr: bool = True
    native_barcode: bool = True
    cutter: Cutter = Cutter.FULL

    @property
    def scale(self) -> float:
        """Text scale relative to the 576-dot reference layout."""
        return self.dots / 576


PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        PrinterProfile("tm-t20ii", 576, 203, "TM-T20II"),
        PrinterProfile("tm-t20ii-j", 576, 203, "TM-T20II", kanji=True),
        PrinterProfile("tm-t88v", 512, 180, "TM-T88V"),
        PrinterProfile("tm-t88v-j", 512, 180, "TM-T88V", kanji=True),
        PrinterProfile("rp-f10-80", 576, 203, "RP-F10-80mm"),
        PrinterProfile(
            "generic-58",
            384,
            203,
            "ZJ-5870",
            qr_module=4,
            native_qr=False,
            native_barcode=False,
            cutter=Cutter.NONE,
        ),
    )
}

DEFAULT_PROFILE = "tm-t20ii"


def profile_for(name: str | None) -> PrinterProfile:
    """The profile called `name` (the default profile when None)."""
    key = (name or DEFAULT_PROFILE).lower()
    try:
        return PROFILES[key]
    except KeyError:
        raise PrinterConfigError(
            f"unknown printer profile {name!r}; use one of {', '.join(sorted(PROFILES))} (e.g. ?profile=tm-t20ii)"
        ) from None
