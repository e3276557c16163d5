"""Certificate rendering errors (`madoguchi.certificates.errors`) as printer errors: the driver boundary.

The kiosk renders on its own printers (raster fonts, 書かない窓口 forms, the print test); whatever goes
wrong there reaches the flow as a `PrinterError`, which it already handles as a `DeviceError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from device_drivers.errors import PrinterError
from device_drivers.printer.errors import GlyphMissing, PrinterConfigError
from madoguchi.certificates import errors

__all__ = ["printer_error", "printer_errors"]


def printer_error(exc: errors.CertificateError) -> PrinterError:
    """The printer error for a rendering error (same code points, same detail)."""
    if isinstance(exc, errors.GlyphMissing):
        return GlyphMissing(exc.codepoints)
    if isinstance(exc, errors.FontsMissing):
        return PrinterConfigError(str(exc))
    return PrinterError(str(exc))


@contextlib.contextmanager
def printer_errors() -> Iterator[None]:
    """Raise the printer error for any `CertificateError` raised inside the block."""
    try:
        yield
    except errors.CertificateError as exc:
        raise printer_error(exc) from exc
