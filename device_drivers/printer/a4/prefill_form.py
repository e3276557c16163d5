"""A4 forms prefilled from the card (書かない窓口): one page per form, as a PDF for CUPS.

Each page names the form and its procedure, prints the fields read from the card (氏名, 住所, 生年月日, 性別)
and the 届出日, and marks every field the resident must still write with an empty box labelled
"ご記入ください" (and the resident's language). All text is HTML-escaped here; glyph coverage is checked
before rendering (the printer's `GlyphMissing`: refuse rather than print a form with a dropped character).
Nothing here logs the data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from device_drivers.printer.translate import printer_errors
from madoguchi.certificates.layout import FONT_STACK
from madoguchi.certificates.pdf import certificate_fonts

__all__ = ["WRITE_HERE_JA", "PrefilledForm", "render_prefilled_forms"]

_logger = logging.getLogger(__name__)

WRITE_HERE_JA = "ご記入ください"

_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: %(fonts)s; font-size: 11pt; color: #000; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
.procedure { margin: 0 0 6mm 0; font-size: 10pt; }
table { width: 100%%; border-collapse: collapse; margin-bottom: 6mm; }
th, td { border: 0.6pt solid #000; padding: 2.4mm 2mm; vertical-align: top; text-align: left; }
th { width: 42mm; font-weight: normal; background: #f2f2f2; }
td.write { border: 2pt solid #000; height: 14mm; background: #fff; }
.mark { display: inline-block; border: 1pt solid #000; padding: 0.5mm 2mm; font-size: 9pt; font-weight: bold; }
.note { font-size: 9pt; margin-top: 4mm; }
"""


@dataclass(frozen=True, repr=False)
class PrefilledForm:
    """One form: `filled` (label, value) rows come from the card; `to_write` labels get empty marked boxes.

    `write_here` is the box label in the resident's language (shown after the Japanese one when different).
    """

    title: str
    procedure: str
    filled: tuple[tuple[str, str], ...]
    to_write: tuple[str, ...]
    write_here: str = WRITE_HERE_JA
    note: str = ""

    def __repr__(self) -> str:
        return f"PrefilledForm({self.title!r}, <personal data>)"

    def text(self) -> str:
        """Every character printed (for the glyph check)."""
        parts = [self.title, self.procedure, self.write_here, self.note, WRITE_HERE_JA, *self.to_write]
        for label, value in self.filled:
            parts += [label, value]
        return "".join(parts)


def _mark(form: PrefilledForm) -> str:
    extra = "" if form.write_here == WRITE_HERE_JA else f" / {escape(form.write_here)}"
    return f'<span class="mark">{WRITE_HERE_JA}{extra}</span>'


def _section(form: PrefilledForm) -> str:
    rows = [f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in form.filled]
    rows += [
        f'<tr><th>{escape(label)}<br>{_mark(form)}</th><td class="write"></td></tr>'
        for label in form.to_write
    ]
    note = f'<p class="note">{escape(form.note)}</p>' if form.note else ""
    return (
        f'<section><h1>{escape(form.title)}</h1><p class="procedure">{escape(form.procedure)}</p>'
        f"<table>{''.join(rows)}</table>{note}</section>"
    )


def render_prefilled_forms(forms: Sequence[PrefilledForm]) -> bytes:
    """The forms as one PDF (A4, one page each); the printer's `GlyphMissing` for unprintable characters."""
    from weasyprint import HTML  # imported here: heavy, and only A4 printing needs it

    if not forms:
        raise ValueError("no form to print")
    with printer_errors():  # the printer's GlyphMissing: the kiosk refuses the forms as a device problem
        fonts = certificate_fonts()
        for form in forms:
            fonts.check(form.text())
    css = _CSS % {"fonts": FONT_STACK}
    html = (
        f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><style>{css}</style></head><body>'
        f"{''.join(_section(f) for f in forms)}</body></html>"
    )
    pdf: bytes | None = HTML(string=html).write_pdf()
    assert pdf is not None
    _logger.info("%d prefilled forms rendered: %d bytes", len(forms), len(pdf))
    return pdf
