"""What a resident may have now: the active catalog's types and fees, the resident's facts, the
kill switch and the hours. Every refusal carries a reason and where to go (R-06) in the resident's
language (R-35): the catalog rule's text in that language, else the built-in text of that kind
(`refusal_texts.json`), and only then the catalog's Japanese.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from central_broker.issuance.refusal_texts import builtin_refusal, choose, extra_text, hours_text
from central_broker.issuance.registry import Resident
from madoguchi.contracts.catalog import Catalog, NoFeeInForce
from madoguchi.contracts.catalog_base import local_time
from madoguchi.contracts.catalog_certs import CertificateCategory, CertificateType
from madoguchi.contracts.catalog_rules import EligibilityRule, RuleKind
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


def refusal_for(
    catalog: Catalog, kind: str, language: str, type_id: str | None = None, extra: str = ""
) -> Refusal:
    """A refusal of `kind` in `language`; `extra` (already in that language) is appended to the reason.

    Per field, the catalog rule's text when it has `language` itself, else the built-in text of `kind`,
    else the rule's Japanese; the rule's `counter` is kept.
    """
    rule = None
    try:
        rule = catalog.refusal(type_id, RuleKind(kind)) if type_id else _any_rule(catalog, RuleKind(kind))
    except ValueError:
        rule = None
    builtin = builtin_refusal(kind)
    reason = choose(rule.reason if rule else None, builtin.reason, language)
    return Refusal(
        kind=kind,
        reason=f"{reason} {extra}".strip(),
        where_to_go=choose(rule.where_to_go if rule else None, builtin.where_to_go, language),
        counter=rule.counter if rule else None,
        type_id=type_id,
    )


def _any_rule(catalog: Catalog, kind: RuleKind) -> EligibilityRule | None:
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
        return refuse(RuleKind.KILL_SWITCH, extra_text(rules.control.message, language))
    if cert.category not in ISSUABLE_CATEGORIES:
        return refuse("not_available")
    try:
        catalog.fee_for(cert.id, at)
    except NoFeeInForce:
        return refuse(RuleKind.NO_FEE)
    status = catalog.is_open(cert.id, at)
    if not status.open and status.reason is not None:
        weekly = cert.hours.weekly if cert.hours else catalog.service_hours.weekly
        return refuse(RuleKind(status.reason.value), hours_text(status.hours, weekly, language))
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
