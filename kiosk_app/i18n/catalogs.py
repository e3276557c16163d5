"""Where the gettext catalogs live and how they are loaded: `.po` sources, compiled to `.mo` at run time.

Only the `.po` text files are kept in the source tree. `load_translations()` compiles a `.po` in
memory (Babel) and hands the bytes to the standard `gettext.GNUTranslations`; `compile_catalogs()`
writes `.mo` files for a build that wants them on disk (`kiosk i18n compile --out DIR`).
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from madoguchi.contracts.languages import LANGUAGES
from madoguchi.errors import UserError

__all__ = [
    "DOMAIN",
    "I18nError",
    "compile_catalogs",
    "language_dir",
    "load_po",
    "load_translations",
    "locale_root",
    "po_path",
]

_logger = logging.getLogger(__name__)

DOMAIN = "kiosk"


class I18nError(UserError):
    """A catalog is missing or unreadable."""


def locale_root() -> Path:
    """The folder holding `<dir>/LC_MESSAGES/kiosk.po` for every language."""
    return Path(str(resources.files("kiosk_app.i18n") / "locale"))


def language_dir(language: str) -> str:
    """The catalog folder of a language code (`ja-x-easy` → `ja_x_easy`)."""
    if language not in LANGUAGES:
        raise I18nError(f"unknown language {language!r}", f"use one of {', '.join(LANGUAGES)}")
    return language.replace("-", "_")


def po_path(language: str, root: Path | None = None) -> Path:
    """Path of a language's `.po` file."""
    return (root or locale_root()) / language_dir(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_po(language: str, root: Path | None = None) -> Catalog:
    """Parse a language's `.po` file (`I18nError` naming the file when missing or broken)."""
    path = po_path(language, root)
    try:
        with path.open("rb") as handle:
            return read_po(handle, domain=DOMAIN, charset="utf-8")
    except OSError as exc:
        raise I18nError(f"cannot read {path}: {exc.strerror}", "reinstall the kiosk package") from exc
    except Exception as exc:  # Babel raises several error types for a malformed file
        raise I18nError(
            f"{path} is not a valid .po file: {exc}", "fix it or restore it from the release"
        ) from exc


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


@functools.cache
def _compiled(language: str, root: Path | None) -> bytes:
    return _mo_bytes(load_po(language, root))


def load_translations(language: str, root: Path | None = None) -> gettext.GNUTranslations:
    """The compiled catalog of one language (no fallback; see `Translator` for the chain)."""
    return gettext.GNUTranslations(io.BytesIO(_compiled(language, root)))


def compile_catalogs(out_dir: Path, root: Path | None = None) -> list[Path]:
    """Write `<out>/<dir>/LC_MESSAGES/kiosk.mo` for every language; return the files written."""
    written = []
    for language in LANGUAGES:
        target = out_dir / language_dir(language) / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_mo_bytes(load_po(language, root)))
        written.append(target)
    _logger.info("compiled %d catalogs into %s", len(written), out_dir)
    return written
