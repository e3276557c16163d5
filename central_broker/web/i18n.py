"""Languages of the operators' and staff pages: Japanese by default, English on request.

The texts are gettext catalogs (`locale/<lang>/LC_MESSAGES/web.po`, msgid = the English text), compiled in
memory with Babel. The language of a request is the `mdg_lang` cookie (set by `/lang/<code>`), else the
first supported language of Accept-Language, else Japanese. `LanguageMiddleware` puts it in a context
variable for the whole request, so `_()` works the same in templates and in Python code.

Templates use Jinja's i18n extension with new-style gettext (`install_gettext`): `{{ _("Kiosk %(id)s",
id=x) }}`, `{% trans %}` and `ngettext` all format and escape their values. A text that is not a msgid
(`_(status)` on a value a kiosk sent) is escaped and shown as is.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from contextvars import ContextVar
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment
from markupsafe import Markup, escape
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANG_COOKIE",
    "WEB_LANGUAGES",
    "LanguageMiddleware",
    "current_language",
    "gettext_",
    "install_gettext",
    "language_for",
    "ngettext_",
    "use_language",
]

_logger = logging.getLogger(__name__)

WEB_LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_COOKIE = "mdg_lang"
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}

_language: ContextVar[str] = ContextVar("web_language", default=DEFAULT_LANGUAGE)


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    path = resources.files("central_broker.web") / "locale" / language / "LC_MESSAGES" / "web.po"
    try:
        with path.open("rb") as source:
            catalog = read_po(source, locale=language.replace("-", "_"))
    except FileNotFoundError:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def current_language() -> str:
    """The language of the request being handled."""
    return _language.get()


def gettext_(message: str, **values: Any) -> str:
    """`message` in the request's language, with `%(name)s` placeholders filled from `values`."""
    if not message:
        return message  # gettext("") would be the catalog's header
    text = _translations(_language.get()).gettext(message)
    return text % values if values else text


def ngettext_(singular: str, plural: str, n: int, **values: Any) -> str:
    """`singular` or `plural` for `n` in the request's language, `%(num)s` and `values` filled in."""
    text = _translations(_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


@functools.cache
def _msgids() -> frozenset[str]:
    path = resources.files("central_broker.web") / "locale" / DEFAULT_LANGUAGE / "LC_MESSAGES" / "web.po"
    with path.open("rb") as source:
        return frozenset(m.id for m in read_po(source) if isinstance(m.id, str) and m.id)


def _template_gettext(message: str) -> str:
    # New-style gettext marks the result safe and always applies `%`: a value that is not a msgid (a
    # kiosk's offline reason, an unknown status) must come back escaped, with its `%` doubled.
    if message not in _msgids():
        return Markup(str(escape(message)).replace("%", "%%"))  # noqa: S704 - escaped just above
    return _translations(_language.get()).gettext(message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_language.get()).ngettext(singular, plural, n)


def install_gettext(env: Environment) -> None:
    """Enable `jinja2.ext.i18n` on `env` with new-style gettext in the request's language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )


def language_for(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if supported, else the best supported one of Accept-Language, else Japanese."""
    if cookie in WEB_LANGUAGES:
        return cookie
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in WEB_LANGUAGES:
            ranked.append((quality, base))
    ranked.sort(key=lambda item: -item[0])
    return ranked[0][1] if ranked and ranked[0][0] > 0 else DEFAULT_LANGUAGE


class use_language:
    """Set the language for a block (tests, CLI rendering)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in WEB_LANGUAGES else DEFAULT_LANGUAGE

    def __enter__(self) -> str:
        self._token = _language.set(self.language)
        return self.language

    def __exit__(self, *_exc: object) -> None:
        _language.reset(self._token)


class LanguageMiddleware:
    """Sets the request's language (pure ASGI, so the context variable reaches the handlers' threads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)  # Starlette's own cookie and header parsing
        token = _language.set(
            language_for(connection.cookies.get(LANG_COOKIE), connection.headers.get("accept-language"))
        )
        try:
            await self.app(scope, receive, send)
        finally:
            _language.reset(token)
