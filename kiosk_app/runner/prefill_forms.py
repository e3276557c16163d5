"""The printed forms of a prefill session: catalog form names, the basic four and the fields left to write.

Labels are Japanese (the office reads the form) with the resident's language after a slash when it differs;
the 届出日 is today (Japan time). The fields every form leaves to the resident: signature and telephone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from device_drivers.card.kenhojo import BasicFour
from device_drivers.printer.a4.prefill_form import PrefilledForm
from kiosk_app.i18n import keys_prefill as k
from kiosk_app.i18n.ruby import plain
from kiosk_app.i18n.translator import Translator
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["build_forms", "date_text"]

_SEX_KEYS = {"male": k.SEX_MALE, "female": k.SEX_FEMALE, "not_applicable": k.SEX_NOT_APPLICABLE}


def date_text(yyyymmdd: str) -> str:
    """`19800401` → `1980年4月1日`."""
    return f"{int(yyyymmdd[:4])}年{int(yyyymmdd[4:6])}月{int(yyyymmdd[6:8])}日"


def _label(ja: Translator, resident: Translator, key: str) -> str:
    first, second = ja.tr(key), plain(resident.tr(key))
    return first if first == second else f"{first} / {second}"


def build_forms(
    catalog: Catalog, procedures: Sequence[str], basic: BasicFour, language: str, today: date
) -> list[PrefilledForm]:
    """One form per procedure that has a form in the catalog (others are skipped)."""
    ja, resident = Translator("ja"), Translator(language)
    sex = _SEX_KEYS.get(basic.sex, k.SEX_NOT_APPLICABLE)
    filled = (
        (_label(ja, resident, k.FORM_NAME), basic.name),
        (_label(ja, resident, k.FORM_ADDRESS), basic.address),
        (_label(ja, resident, k.FORM_BIRTH), date_text(basic.birth_date)),
        (_label(ja, resident, k.FORM_SEX), _label(ja, resident, sex)),
        (_label(ja, resident, k.FORM_FILED), date_text(today.strftime("%Y%m%d"))),
    )
    to_write = (_label(ja, resident, k.FORM_SIGNATURE), _label(ja, resident, k.FORM_PHONE))
    forms = []
    for procedure_id in procedures:
        try:
            procedure = catalog.procedure(procedure_id)
        except CatalogLookupError:
            continue
        if procedure.form is None:
            continue
        forms.append(
            PrefilledForm(
                title=procedure.form.text("ja"),
                procedure=procedure.names.text("ja"),
                filled=filled,
                to_write=to_write,
                write_here=plain(resident.tr(k.FORM_WRITE_HERE)),
                note=_label(ja, resident, k.FORM_NOTE),
            )
        )
    return forms
