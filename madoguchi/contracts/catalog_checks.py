"""Cross-field checks of a catalog: references, duplicate ids, fee periods; each issue names its field path.

The procedure guide's own rules (show_when order and loops, questions per path, …) are in `catalog_guide_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from madoguchi.contracts.catalog_base import CatalogIssue, Channel, PricePeriod
from madoguchi.contracts.catalog_check_helpers import duplicates, reference
from madoguchi.contracts.catalog_guide_checks import check_guide
from madoguchi.contracts.catalog_rules import ALL_TYPES

if TYPE_CHECKING:
    from madoguchi.contracts.catalog import Catalog

__all__ = ["check_catalog"]


def _overlaps(path: str, periods: Sequence[PricePeriod], label: str, issues: list[CatalogIssue]) -> None:
    for later_index, later in enumerate(periods):
        for earlier_index, earlier in enumerate(periods[:later_index]):
            if later.overlaps(earlier):
                issues.append(
                    CatalogIssue(
                        f"{path}[{later_index}].effective_from",
                        f"overlaps {label}[{earlier_index}] ({earlier.period_text()})",
                        "end the earlier period the day before (effective_to) or move this one",
                    )
                )


def _certificate_types(catalog: Catalog, issues: list[CatalogIssue]) -> None:
    duplicates("certificate_types", (c.id for c in catalog.certificate_types), issues)
    for i, cert in enumerate(catalog.certificate_types):
        path = f"certificate_types[{i}]"
        duplicates(f"{path}.options", (o.id for o in cert.options), issues)
        if not any(fee.channel == Channel.KIOSK for fee in cert.fees):
            issues.append(
                CatalogIssue(
                    f"{path}.fees",
                    f"certificate type {cert.id!r} has no kiosk fee",
                    'add {"channel": "kiosk", "amount_yen": …, "effective_from": …}',
                )
            )
        for channel in Channel:
            indexed = [(j, fee) for j, fee in enumerate(cert.fees) if fee.channel == channel]
            for n, (j, fee) in enumerate(indexed):
                for k, other in indexed[:n]:
                    if fee.overlaps(other):
                        issues.append(
                            CatalogIssue(
                                f"{path}.fees[{j}].effective_from",
                                f"overlaps fees[{k}] ({other.period_text()}) for the {channel.value} channel",
                                "end the earlier fee the day before (effective_to) or move this one",
                            )
                        )


def _rules(catalog: Catalog, issues: list[CatalogIssue]) -> None:
    types = [c.id for c in catalog.certificate_types]
    counters = [c.id for c in catalog.procedures.counters]
    categories = [c.id for c in catalog.queue.categories]
    duplicates("eligibility_rules", (r.id for r in catalog.eligibility_rules), issues)
    for i, rule in enumerate(catalog.eligibility_rules):
        path = f"eligibility_rules[{i}]"
        for j, type_id in enumerate(rule.applies_to):
            if type_id != ALL_TYPES:
                reference(f"{path}.applies_to[{j}]", type_id, types, "certificate type", issues)
        reference(f"{path}.counter", rule.counter, counters, "counter", issues)
        reference(f"{path}.queue_category", rule.queue_category, categories, "queue category", issues)
    hours = catalog.service_hours
    duplicates("service_hours.maintenance", (m.id for m in hours.maintenance), issues)
    for i, outage in enumerate(hours.maintenance):
        for j, type_id in enumerate(outage.certificate_types):
            path = f"service_hours.maintenance[{i}].certificate_types[{j}]"
            reference(path, type_id, types, "certificate type", issues)
    duplicates("service_hours.holidays", (str(h.date) for h in hours.holidays), issues)


def _payment_and_queue(catalog: Catalog, issues: list[CatalogIssue]) -> None:
    methods = {m.id: m for m in catalog.payment.methods}
    duplicates("payment.methods", (m.id for m in catalog.payment.methods), issues)
    for i, method in enumerate(catalog.payment.methods):
        duplicates(f"payment.methods[{i}].brands", (b.id for b in method.brands), issues)
    if not catalog.payment.methods_for(Channel.KIOSK):
        issues.append(
            CatalogIssue("payment.methods", "no method is offered at the kiosk", 'add "kiosk" to channels')
        )
    types = {c.id: c for c in catalog.certificate_types}
    duplicates("fee_items", (f.id for f in catalog.fee_items), issues)
    for i, item in enumerate(catalog.fee_items):
        path = f"fee_items[{i}]"
        _overlaps(f"{path}.prices", item.prices, "prices", issues)
        reference(f"{path}.certificate_type", item.certificate_type, types, "certificate type", issues)
        cert = types.get(item.certificate_type or "")
        if cert is not None and not any(fee.channel == Channel.COUNTER for fee in cert.fees):
            issues.append(
                CatalogIssue(
                    f"{path}.certificate_type",
                    f"certificate type {cert.id!r} has no counter fee to charge",
                    "add a counter fee to that type or give this item its own prices",
                )
            )
        for j, method_id in enumerate(item.methods):
            reference(f"{path}.methods[{j}]", method_id, methods, "payment method", issues)
            offered = methods.get(method_id)
            if offered is not None and Channel.COUNTER not in offered.channels:
                issues.append(
                    CatalogIssue(f"{path}.methods[{j}]", f"method {method_id!r} is not offered at the counter",
                                 'add "counter" to its channels or remove it here')
                )  # fmt: skip
    counters = [c.id for c in catalog.procedures.counters]
    duplicates("queue.categories", (c.id for c in catalog.queue.categories), issues)
    prefixes: dict[str, int] = {}
    for i, category in enumerate(catalog.queue.categories):
        reference(f"queue.categories[{i}].counter", category.counter, counters, "counter", issues)
        if category.prefix in prefixes:
            issues.append(
                CatalogIssue(
                    f"queue.categories[{i}].prefix",
                    f"prefix {category.prefix!r} is already used by queue.categories[{prefixes[category.prefix]}]",
                    "give every category its own letter",
                )
            )
        prefixes.setdefault(category.prefix, i)


def check_catalog(catalog: Catalog) -> list[CatalogIssue]:
    """Every cross-field problem of `catalog` (empty when it is consistent)."""
    issues: list[CatalogIssue] = []
    if "ja" not in catalog.languages:
        issues.append(CatalogIssue("languages", "Japanese ('ja') must be offered", 'add "ja"'))
    _certificate_types(catalog, issues)
    _rules(catalog, issues)
    _payment_and_queue(catalog, issues)
    check_guide(catalog.procedures, catalog.queue.categories, issues)
    return issues
