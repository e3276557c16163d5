"""Turning message ids and data into Kivy markup: translation, furigana, font fallback.

やさしい日本語 keeps its `{漢字|かんじ}` readings in the markup: `RubyLabel` (every `KLabel` and `KButton`)
draws them above the words. Other languages never carry readings.
"""

from __future__ import annotations

from kiosk_app.i18n.translator import Translator
from kiosk_app.ui.fonts import FontFiles, with_fallback

__all__ = ["Texts"]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


class Texts:
    """Markup for one translator and font set."""

    def __init__(self, translator: Translator, fonts: FontFiles, font_size: float = 40) -> None:
        self.translator = translator
        self.fonts = fonts
        self.font_size = font_size

    def t(self, key: str, **params: object) -> str:
        """The translated text of `key` as markup (with `{漢字|かんじ}` readings for やさしい日本語)."""
        # Readings survive escaping and font fallback: `{`, `|` and `}` are in the UI font, so a
        # `[font=…]` run never crosses a word's braces.
        return with_fallback(_escape(self.translator.tr(key, **params)), self.fonts, markup_in=True)

    def data(self, text: str) -> str:
        """Text that comes from data (a certificate name, a refusal reason) as safe markup."""
        return with_fallback(text, self.fonts)
