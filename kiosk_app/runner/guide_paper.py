"""The guide's printed list from a result: catalog texts and kiosk words in the resident's language and Japanese.

The same words as the result screen (`keys_guide.py`, the catalog's `LocalizedText`), without markup or
readings: paper has no furigana layout, so やさしい日本語 prints its plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from device_drivers.printer.guide_list import GuideListPaper, ListedCounter, ListedProcedure, Twin
from kiosk_app.i18n.keys_guide import status_key
from kiosk_app.i18n.ruby import plain
from kiosk_app.i18n.translator import Translator
from madoguchi.contracts.catalog_guide import Counter, GuideItem

__all__ = ["guide_paper"]

JAPANESE = "ja"


class _Words:
    """Kiosk texts in two languages, plain."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._own = Translator(language)
        self._ja = Translator(JAPANESE)

    def key(self, key: str, **params: object) -> Twin:
        return Twin(plain(self._own.tr(key, **params)), plain(self._ja.tr(key, **params)))

    def place(self, counter: Counter, index: int) -> Twin:
        def line(translator: Translator, language: str) -> str:
            name = counter.names.text(language)
            if counter.number:
                text = translator.tr(
                    "where_to_go.counter", number=counter.number, floor=counter.floor, counter=name
                )
            else:
                text = translator.tr("where_to_go.floor", floor=counter.floor, counter=name)
            return f"{index}. {plain(text)}"

        return Twin(line(self._own, self.language), line(self._ja, JAPANESE))


def _lines(words: _Words, item: GuideItem) -> tuple[Twin, ...]:
    procedure, language = item.procedure, words.language
    lines = [words.key(status_key(int(procedure.route), item.status.value))]
    if procedure.documents:
        own = ", ".join(d.names.text(language) for d in procedure.documents)
        ja = "、".join(d.names.text(JAPANESE) for d in procedure.documents)
        lines.append(Twin(words.key("guide.bring", items=own).own, words.key("guide.bring", items=ja).ja))
    for key, field, text in (
        ("guide.deadline", "deadline", procedure.deadline),
        ("guide.fee", "fee", procedure.fee),
    ):
        if text is not None:
            own_text = words.key(key, **{field: text.text(language)}).own
            lines.append(Twin(own_text, words.key(key, **{field: text.text(JAPANESE)}).ja))
    if procedure.online_url is not None:
        lines.append(words.key("guide.online", url=procedure.online_url))
    return tuple(lines)


def guide_paper(items: Sequence[GuideItem], language: str, phone_url: str, at: datetime) -> GuideListPaper:
    """The list of a result, as the result screen shows it (route ④ listed as "consult if you wish")."""
    words = _Words(language)
    counters: list[ListedCounter] = []
    current: Counter | None = None
    procedures: list[ListedProcedure] = []

    def close() -> None:
        if current is not None:
            counters.append(ListedCounter(words.place(current, len(counters) + 1), tuple(procedures)))

    for item in items:
        if current is None or item.counter.id != current.id:
            close()
            current, procedures = item.counter, []
        name = Twin(item.procedure.names.text(language), item.procedure.names.text(JAPANESE))
        procedures.append(ListedProcedure(name, _lines(words, item)))
    close()
    return GuideListPaper(
        title=words.key("guide.result.title"),
        counters=tuple(counters),
        issued=words.key("guide.print.issued", time=at.strftime("%Y-%m-%d %H:%M")),
        phone_url=phone_url,
        scan=words.key("guide.print.scan") if phone_url else None,
        notes=() if items else (words.key("guide.result.empty"),),
    )
