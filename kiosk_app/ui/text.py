"""Turning message ids and data into Kivy markup: translation, furigana, font fallback."""

from __future__ import annotations

from kiosk_app.i18n.ruby import kivy_markup
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
        """The translated text of `key` as markup (furigana as small kana for やさしい日本語)."""
        text = self.translator.tr(key, **params)
        markup = kivy_markup(text, font_size=self.font_size) if self.translator.furigana else _escape(text)
        return with_fallback(markup, self.fonts, markup_in=True)

    def data(self, text: str) -> str:
        """Text that comes from data (a certificate name, a refusal reason) as safe markup."""
        return with_fallback(text, self.fonts)
