"""What a resident may have now: the active catalog's types and fees, the resident's facts, the
kill switch and the hours. Every refusal carries the catalog's reason and where to go (R-06).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from central_broker.issuance.registry import Resident
from madoguchi.contracts.catalog import Catalog, NoFeeInForce
from madoguchi.contracts.catalog_base import local_time
from madoguchi.contracts.catalog_certs import CertificateCategory, CertificateType
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.issuance import Offer, Refusal
from madoguchi.contracts.signed import FunctionControl

__all__ = ["ISSUABLE_CATEGORIES", "Eligibility", "refusal_for", "type_refusal"]

_logger = logging.getLogger(__name__)

# Categories this service can render (every category of the catalog has a template).
ISSUABLE_CATEGORIES = frozenset(
    {
        CertificateCategory.RESIDENT_RECORD,
        CertificateCategory.SEAL,
        CertificateCategory.TAX,
        CertificateCategory.FAMILY_REGISTER_ATTACHMENT,
        CertificateCategory.FAMILY_REGISTER,
    }
)
_GENERIC = {
    "not_available": ("この証明書はこの機械では発行していません。", "市民課 窓口へお越しください。"),
    "not_resident": ("この市の住民登録が見つかりません。", "市民課 窓口へお越しください。"),
    "no_seal": ("印鑑登録がありません。", "市民課 窓口で印鑑登録をしてください。"),
    "certificate_revoked": (
        "カードの電子証明書が失効しています。",
        "マイナンバーカード窓口へお越しください。",
    ),
}


def refusal_for(
    catalog: Catalog, kind: str, language: str, type_id: str | None = None, extra: str = ""
) -> Refusal:
    """A refusal of `kind` with the catalog's texts (or built-in Japanese ones for kinds the catalog lacks)."""
    rule = None
    try:
        rule = catalog.refusal(type_id, RuleKind(kind)) if type_id else _any_rule(catalog, RuleKind(kind))
    except ValueError:
        rule = None
    if rule is not None:
        reason = rule.reason.text(language)
        return Refusal(
            kind=kind,
            reason=f"{reason} {extra}".strip(),
            where_to_go=rule.where_to_go.text(language),
            counter=rule.counter,
            type_id=type_id,
        )
    reason, where = _GENERIC.get(kind, ("この機械では発行できません。", "市民課 窓口へお越しください。"))
    return Refusal(kind=kind, reason=f"{reason} {extra}".strip(), where_to_go=where, type_id=type_id)


def _any_rule(catalog: Catalog, kind: RuleKind):  # type: ignore[no-untyped-def]
    return next((r for r in catalog.eligibility_rules if r.kind == kind), None)


@dataclass(frozen=True)
class Eligibility:
    """Inputs of the decision: catalog, kill-switch state, and a printability check for names."""

    catalog: Catalog
    control: FunctionControl
    printable: Callable[[str], bool]

    def evaluate(
        self, resident: Resident, device_id: str, municipality: str | None, at: datetime, language: str
    ) -> tuple[list[Offer], list[Refusal]]:
        """Offers and refusals for every certificate type of the catalog at `at`."""
        offers: list[Offer] = []
        refused: list[Refusal] = []
        for cert in self.catalog.certificate_types:
            refusal = type_refusal(self, cert, resident, device_id, municipality, at, language)
            if refusal is not None:
                refused.append(refusal)
                continue
            fee = self.catalog.fee_for(cert.id, at)
            offers.append(
                Offer(
                    type_id=cert.id,
                    name=cert.names.text(language),
                    fee_yen=fee.amount_yen,
                    max_copies=cert.max_copies,
                    options={o.id: [c.id for c in o.choices] for o in cert.options},
                    defaults=cert.default_choices(),
                )
            )
        return offers, refused


def type_refusal(
    rules: Eligibility,
    cert: CertificateType,
    resident: Resident,
    device_id: str,
    municipality: str | None,
    at: datetime,
    language: str,
) -> Refusal | None:
    """Why `cert` cannot be issued to `resident` now, or None when it can."""
    catalog = rules.catalog

    def refuse(kind: RuleKind | str, extra: str = "") -> Refusal:
        return refusal_for(catalog, str(kind), language, cert.id, extra)

    if rules.control.suspends(device_id, municipality):
        message = rules.control.message.get(language) or rules.control.message.get("ja", "")
        return refuse(RuleKind.KILL_SWITCH, message)
    if cert.category not in ISSUABLE_CATEGORIES:
        return refuse("not_available")
    try:
        catalog.fee_for(cert.id, at)
    except NoFeeInForce:
        return refuse(RuleKind.NO_FEE)
    status = catalog.is_open(cert.id, at)
    if not status.open and status.reason is not None:
        return refuse(RuleKind(status.reason.value), status.hours.text(language))
    today = local_time(at).date()
    if resident.age_on(today) < catalog.minimum_age(cert.id):
        return refuse(RuleKind.MIN_AGE)
    checks = (
        (resident.support_measures, RuleKind.SUPPORT_MEASURES),
        (resident.moved_out, RuleKind.MOVED_OUT),
        (resident.deceased_in_household, RuleKind.DECEASED),
        (resident.moved_in == today, RuleKind.MOVED_IN_TODAY),
    )
    for flag, kind in checks:
        if flag and catalog.rules_for(cert.id, kind):
            return refuse(kind)
    if cert.category is CertificateCategory.SEAL and not resident.seal_registration_no:
        return refuse("no_seal")
    if not rules.printable(resident.name + resident.address + resident.honseki + resident.hittosha):
        return refuse(RuleKind.NAME_OUTSIDE_FONT)
    return None
