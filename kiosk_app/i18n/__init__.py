"""Translations of every resident-facing text: gettext catalogs (`.po`), furigana, completeness report.

Japanese and English are complete; やさしい日本語 (with `{漢字|かんじ}` readings), 简体中文, 한국어,
Tiếng Việt, Português, Filipino and नेपाली are scaffolded. `Translator(language).tr(key, **fields)`.
"""

from __future__ import annotations

from kiosk_app.i18n.keys import KEYS, N_
from kiosk_app.i18n.ruby import kivy_markup, parenthesized, plain
from kiosk_app.i18n.translator import Translator, fallback_chain

__all__ = ["KEYS", "N_", "Translator", "fallback_chain", "kivy_markup", "parenthesized", "plain"]
