"""What the emulated printer's firmware and mechanism can do besides printing dots.

A printer model without native QR or barcode commands ignores GS ( k and GS k; one without an
autocutter ignores GS V 0/1 and, for GS V 65/66 n, only feeds the paper to its tear bar (Epson
ESC/POS reference for GS V). `of_escpos_model()` reads python-escpos' capability database, so a
test can emulate a model independently of the driver's own profile table.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.printer.errors import PrinterConfigError
from device_drivers.printer.escpos_cache import load_escpos

__all__ = ["Capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """Native QR (GS ( k), native barcodes (GS k), and an autocutter."""

    native_qr: bool = True
    native_barcode: bool = True
    cutter: bool = True

    @classmethod
    def of_escpos_model(cls, name: str) -> Capabilities:
        """The capabilities python-escpos lists for the model `name` (e.g. ``ZJ-5870``)."""
        load_escpos()
        from escpos.capabilities import get_profile

        try:
            profile = get_profile(name)
        except KeyError:
            raise PrinterConfigError(
                f"python-escpos knows no printer model {name!r} (e.g. TM-T20II, ZJ-5870)"
            ) from None
        return cls(
            native_qr=profile.supports("qrCode"),
            native_barcode=profile.supports("barcodeA") or profile.supports("barcodeB"),
            cutter=profile.supports("paperFullCut") or profile.supports("paperPartCut"),
        )
