"""Rows of the guide's result screen: each counter in visit order with its procedures.

Each procedure shows its name, the words of its route (①② 受付します, ③ required, ④ ご相談ください,
わからない → 窓口で確認), what to bring, the deadline, the fee and the online address. Catalog texts are
`LocalizedText` in the resident's language; fixed words come from the kiosk catalogs (`keys_guide.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kivy.uix.boxlayout import BoxLayout

from kiosk_app.flows import guide_events as ge
from kiosk_app.i18n.keys_guide import status_key
from kiosk_app.ui.screens.message_content import counter_line
from kiosk_app.ui.text import Texts
from kiosk_app.ui.theme import MIN_TOUCH_PX
from kiosk_app.ui.widgets import KButton, KLabel, fit_height
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import GuideItem, GuideStatus, Procedure

__all__ = ["counter_groups", "procedure_lines", "result_rows"]

Button = Callable[..., KButton]


def counter_groups(items: Sequence[GuideItem]) -> list[tuple[str, list[GuideItem]]]:
    """(counter id, its items) in visit order (the result is already sorted by visit order)."""
    groups: list[tuple[str, list[GuideItem]]] = []
    for item in items:
        if not groups or groups[-1][0] != item.counter.id:
            groups.append((item.counter.id, []))
        groups[-1][1].append(item)
    return groups


def procedure_lines(t: Texts, item: GuideItem, language: str) -> list[str]:
    """The lines shown under a procedure's name, as markup (catalog texts go in as parameters, unescaped)."""
    procedure: Procedure = item.procedure
    lines = [t.t(status_key(int(procedure.route), item.status.value))]
    documents = [d.names.text(language) for d in procedure.documents]
    if documents:  # one per line: long Japanese names do not wrap well after "持ち物:"
        lines.append(t.t("guide.bring", items="".join(f"\n・{name}" for name in documents)))
    if procedure.deadline is not None:
        lines.append(t.t("guide.deadline", deadline=procedure.deadline.text(language)))
    if procedure.fee is not None:
        lines.append(t.t("guide.fee", fee=procedure.fee.text(language)))
    if procedure.online_url is not None:  # a kiosk cannot open a link: the phone list has it
        lines.append(t.t("guide.online_phone"))
    return lines


def _label(text: str, base_size: int, minimum: float = 48, *, alert: bool = False) -> KLabel:
    label = KLabel(text=text, base_size=base_size, halign="left", alert=alert)
    fit_height(label, minimum)
    return label


def result_rows(
    t: Texts,
    catalog: Catalog | None,
    items: Sequence[GuideItem],
    kept: frozenset[str],
    language: str,
    button: Button,
) -> list[BoxLayout | KLabel | KButton]:
    """The widgets of the result list: a heading per counter, then its procedures."""
    rows: list[BoxLayout | KLabel | KButton] = []
    for index, (counter_id, group) in enumerate(counter_groups(items), start=1):
        place = counter_line(t, catalog, counter_id, language) or t.data(
            group[0].counter.names.text(language)
        )
        rows.append(_label(f"{index}. {place}", 36, 64))
        for item in group:
            rows.append(_label(t.data(item.procedure.names.text(language)), 32, 48))
            body = "\n".join(procedure_lines(t, item, language))
            rows.append(_label(body, 26, 48, alert=item.status is GuideStatus.ASK))
            if item.status is GuideStatus.OPTIONAL:
                words = "guide.unkeep" if item.procedure.id in kept else "guide.keep"
                keep = button(t.t(words), ge.KeepOptional(item.procedure.id), base_size=30)
                fit_height(keep, MIN_TOUCH_PX)
                rows.append(keep)
    return rows
