"""Errors of certificate rendering and verification, under `CertificateError`.

Each has a stable `code` for logs. None carries certificate contents: `GlyphMissing` names code points
only. The kiosk's printer drivers translate these into the device error hierarchy at their boundary
(`device_drivers.printer.translate`); the central catches them as they are.
"""

from __future__ import annotations

from typing import Any

from madoguchi.errors import ConfigError

__all__ = ["CertificateError", "FontsMissing", "GlyphMissing", "QrSignatureError", "RenderError"]


class CertificateError(Exception):
    """Base of every certificate rendering or verification error."""

    code = "certificate.error"


class RenderError(CertificateError):
    """A certificate or form cannot be rendered as it is."""

    code = "certificate.render"


class GlyphMissing(RenderError):
    """A character cannot be drawn with any installed font; rendering would drop it."""

    code = "certificate.glyph_missing"

    def __init__(self, codepoints: tuple[int, ...]) -> None:
        # Code points only (U+XXXX), never the surrounding text, which may be personal data.
        listed = ", ".join(f"U+{cp:04X}" for cp in codepoints)
        super().__init__(f"no installed font has {listed}; install fonts-noto-cjk or fonts-ipamj-mincho")
        self.codepoints = codepoints

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the code points when it crosses a process pool (the default would pass the message).
        return (type(self), (self.codepoints,))


class FontsMissing(RenderError, ConfigError):
    """The fonts rendering needs are not installed; the hint says which packages to install."""

    code = "certificate.fonts_missing"


class QrSignatureError(CertificateError):
    """A signed code (certificate QR, 未交付 slip) that is malformed or whose signature does not verify."""

    code = "certificate.qr_signature"
