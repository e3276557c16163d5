"""The printed content of a certificate in canonical form, and its digest (what the v2 QR code binds).

The content is every text printed on the certificate, in reading order: title, every label and value,
the verification-code line, the attestation, the issue date and the mayor's line, then the footer
(serial, issue time, kiosk) once — the footer repeats on every page. The issuer takes it from the
page's HTML; a verifier from the PDF's text as `pdftotext -raw` extracts it (content-stream order,
which is the HTML order for the certificate templates), page by page: each page is cut at its footer
(from the last line that shows the serial), the parts before the footers are joined, and the footer
follows once. Every page must end with the same footer, so no text can hide after one.

Canonical form, so that the text extracted from a genuine PDF gives the same digest as the HTML it was
made from: Unicode NFKC (full-width ＡＢ１ and half-width ｶﾅ fold to one form; compatibility ideographs
fold to the unified ones), then every whitespace, line break, control and format character and every
variation selector (IVS; a PDF's text layer does not keep them reliably) removed. Characters outside
the BMP such as 𠮷 (U+20BB7) are kept as they are. Folding only merges forms that print alike, so no
change of a name, date or amount survives it.

What it cannot see: the check reads the PDF's text layer. A PDF can draw over its own text (a white box
and the forged name as an image or as outlines) without changing that layer; paper has no text layer
at all. Both are what the online check (serial + code, holder's name and birth date) is for.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from html.parser import HTMLParser

__all__ = ["DIGEST_CONTEXT", "canonical", "content_digest", "html_content", "pages_content"]

DIGEST_CONTEXT = b"madoguchi-printed-v2\n"
_DIGEST_BYTES = 16  # 128 bits: a second pre-image is out of reach, and the QR code stays small


def _dropped(ch: str) -> bool:
    if ch.isspace():
        return True
    code = ord(ch)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors (IVS)
        return True
    return unicodedata.category(ch) in ("Cc", "Cf")


def canonical(text: str) -> str:
    """`text` in canonical form: NFKC, without whitespace, control, format characters or variation selectors."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not _dropped(ch))


def content_digest(serial: str, content: str) -> str:
    """The digest the QR code signs: base64url of SHA-256(context, serial, canonical content), 128 bits."""
    data = DIGEST_CONTEXT + serial.encode("utf-8") + b"\n" + canonical(content).encode("utf-8")
    raw = hashlib.sha256(data).digest()[:_DIGEST_BYTES]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class _BodyText(HTMLParser):
    """The text nodes of an HTML page's <body>, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._in_body = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._in_body and data.strip():
            self.chunks.append(data)


def _split_footer(pieces: list[str], serial: str) -> tuple[str, str | None]:
    """(text before the footer, footer) — the footer starts at the last piece showing the serial; None when
    no piece does."""
    for index in range(len(pieces) - 1, -1, -1):
        if serial in pieces[index]:
            return "".join(pieces[:index]), "".join(pieces[index:])
    return "".join(pieces), None


def html_content(page_html: str, serial: str) -> str:
    """The canonical printed content of a certificate page's HTML (issuer side)."""
    parser = _BodyText()
    parser.feed(page_html)
    parser.close()
    body, footer = _split_footer([canonical(chunk) for chunk in parser.chunks], serial)
    return body + (footer or "")


def pages_content(pages: list[str], serial: str) -> str | None:
    """The canonical printed content from the text of each page, as `pdftotext -raw` gives it (verifier side);
    None when a page has no footer with the serial or the pages' footers differ."""
    canonical_serial = canonical(serial)
    bodies: list[str] = []
    footers: set[str | None] = set()
    for page in pages:
        body, footer = _split_footer([canonical(line) for line in page.splitlines()], canonical_serial)
        bodies.append(body)
        footers.add(footer)
    if len(footers) != 1 or None in footers:
        return None
    return "".join(bodies) + "".join(f for f in footers if f is not None)
