"""Bring every `.po` file up to date with the message ids in the source (new ids get an empty entry)."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.pofile import write_po

from kiosk_app.i18n.catalogs import load_po, po_path
from kiosk_app.i18n.report import source_keys
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["add_missing_keys"]

_logger = logging.getLogger(__name__)


def add_missing_keys(locale: Path | None = None, keys: list[str] | None = None) -> dict[str, list[str]]:
    """Add ids used in the source but absent from a `.po` (empty translation); return language → ids added.

    Nothing is removed: ids no longer used are listed by `kiosk i18n report` as unused.
    """
    wanted = sorted(keys if keys is not None else source_keys())
    english = load_po("en", locale)
    added: dict[str, list[str]] = {}
    for language in LANGUAGES:
        catalog = load_po(language, locale)
        new = [key for key in wanted if key not in catalog]
        for key in new:
            reference = english.get(key)
            comment = [f"en: {reference.string}"] if reference is not None and reference.string else []
            catalog.add(key, "", auto_comments=comment)
        if new:
            with po_path(language, locale).open("wb") as handle:
                write_po(handle, catalog, width=0, sort_output=False)
            _logger.info("%s: added %d message ids", language, len(new))
        added[language] = new
    return added
