"""The catalog contract: what a municipality's kiosks offer, at what fee, when, to whom — one source of truth.

Kiosk and central code import `Catalog`; `docs/schemas/catalog-v1/catalog.schema.json` is exported from it.
A catalog is released with a monotonic `version` (mqtt-contract.md §5) and validated as a whole: structure
first, then references, duplicate ids and fee periods (`catalog_checks`). Times are Japan time; query
helpers take `at`, so callers inject their clock.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, ValidationError, model_validator

from madoguchi.contracts.catalog_base import (
    CatalogIssue,
    CatalogIssues,
    CatalogLookupError,
    CatalogModel,
    Channel,
    Fee,
    NoFeeInForce,
    PricePeriod,
    find_by_id,
)
from madoguchi.contracts.catalog_certs import CertificateType
from madoguchi.contracts.catalog_checks import check_catalog
from madoguchi.contracts.catalog_errors import CatalogInvalid, issues_from_validation
from madoguchi.contracts.catalog_guide import Counter, Procedure, ProcedureGuide
from madoguchi.contracts.catalog_hours import OpenStatus, ServiceHours, evaluate_hours
from madoguchi.contracts.catalog_rules import (
    EligibilityRule,
    FeeItem,
    Payment,
    PaymentMethod,
    QueueCategory,
    QueueSettings,
    RuleKind,
)
from madoguchi.contracts.languages import LANGUAGES, LanguageCode, LocalizedText

__all__ = [
    "CATALOG_SCHEMA_VERSION",
    "Catalog",
    "CatalogInvalid",
    "CatalogIssue",
    "CatalogLookupError",
    "Municipality",
    "NoFeeInForce",
    "load_catalog",
    "load_sample_catalog",
    "parse_catalog",
    "sample_catalog_path",
]

_logger = logging.getLogger(__name__)

CATALOG_SCHEMA_VERSION = 1
MAX_CATALOG_BYTES = 4 * 1024 * 1024


class Municipality(CatalogModel):
    """The city the catalog belongs to; `code` is its 6-digit 全国地方公共団体コード (as in device ids)."""

    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    names: LocalizedText
    prefecture: LocalizedText | None = None


class Catalog(CatalogModel):
    """Root of a municipality's catalog release."""

    schema_version: Literal[1] = Field(description="catalog schema version; this contract is 1")
    version: int = Field(strict=True, ge=1, description="release number: monotonic, never reused")
    municipality: Municipality
    effective_from: date
    languages: list[LanguageCode] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    service_hours: ServiceHours
    certificate_types: list[CertificateType] = Field(min_length=1)
    eligibility_rules: list[EligibilityRule] = Field(default_factory=list)
    payment: Payment
    fee_items: list[FeeItem] = Field(default_factory=list)
    queue: QueueSettings
    procedures: ProcedureGuide

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        issues = check_catalog(self)
        if issues:
            raise CatalogIssues(issues)
        return self

    # --- lookups -------------------------------------------------------------------------------------

    def certificate_type(self, type_id: str) -> CertificateType:
        """The certificate type with that id (`CatalogLookupError` naming the known ids otherwise)."""
        return find_by_id(self.certificate_types, type_id, "certificate type")

    def procedure(self, procedure_id: str) -> Procedure:
        """The guide procedure with that id."""
        return find_by_id(self.procedures.procedures, procedure_id, "procedure")

    def counter(self, counter_id: str) -> Counter:
        """The counter with that id."""
        return find_by_id(self.procedures.counters, counter_id, "counter")

    def fee_item(self, item_id: str) -> FeeItem:
        """The semi-self register fee item with that id."""
        return find_by_id(self.fee_items, item_id, "fee item")

    def payment_method(self, method_id: str) -> PaymentMethod:
        """The payment method with that id."""
        return find_by_id(self.payment.methods, method_id, "payment method")

    def queue_category(self, category_id: str) -> QueueCategory:
        """The ticket category with that id."""
        return find_by_id(self.queue.categories, category_id, "queue category")

    # --- questions the kiosk asks --------------------------------------------------------------------

    def fee_for(self, type_id: str, at: datetime, channel: Channel = Channel.KIOSK) -> Fee:
        """The fee of a certificate type in force at `at`.

        Raises:
            CatalogLookupError: unknown type.
            NoFeeInForce: no fee effective then — the item must not be sold (R-01).
        """
        return self.certificate_type(type_id).fee_for(at, channel)

    def fee_item_price(self, item_id: str, at: datetime) -> PricePeriod:
        """The amount of a semi-self fee item at `at` (its own price, or its certificate type's counter fee)."""
        item = self.fee_item(item_id)
        if item.certificate_type is not None:
            return self.fee_for(item.certificate_type, at, Channel.COUNTER)
        found = item.own_price(at)
        if found is None:
            raise NoFeeInForce(item.id, "register", at, item.prices)
        return found

    def is_open(self, type_id: str, at: datetime) -> OpenStatus:
        """Whether a certificate type can be issued at `at` and, when closed, why and the hours to show (R-02)."""
        cert = self.certificate_type(type_id)
        return evaluate_hours(self.service_hours, cert.hours, cert.id, at)

    def rules_for(self, type_id: str, kind: RuleKind | None = None) -> list[EligibilityRule]:
        """Eligibility rules that concern a certificate type, optionally of one kind."""
        self.certificate_type(type_id)
        return [r for r in self.eligibility_rules if r.applies(type_id) and (kind is None or r.kind == kind)]

    def refusal(self, type_id: str, kind: RuleKind) -> EligibilityRule | None:
        """The rule whose reason and where-to-go text explain a refusal of `kind` for a type, if any."""
        return next(iter(self.rules_for(type_id, kind)), None)

    def minimum_age(self, type_id: str) -> int:
        """The highest `min_age` of the rules for a type (0 when none)."""
        return max((r.min_age or 0 for r in self.rules_for(type_id, RuleKind.MIN_AGE)), default=0)

    def name_of(self, type_id: str, language: str) -> str:
        """A certificate type's name in `language` (falls back to Japanese)."""
        return self.certificate_type(type_id).names.text(language)


def parse_catalog(data: bytes | str, source: str = "catalog") -> Catalog:
    """Parse and validate a catalog document.

    Raises:
        CatalogInvalid: (a `ConfigError`) listing every problem, each naming its field path.
    """
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogInvalid(
            source, [CatalogIssue("(file)", f"{len(data)} bytes; at most {MAX_CATALOG_BYTES}")]
        )
    try:
        raw = json.loads(data)
    except UnicodeDecodeError as exc:
        raise CatalogInvalid(
            source, [CatalogIssue("(file)", f"not UTF-8 ({exc.reason})", "save it as UTF-8")]
        ) from exc
    except json.JSONDecodeError as exc:
        issue = CatalogIssue(
            f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}", "fix the syntax"
        )
        raise CatalogInvalid(source, [issue]) from exc
    try:
        catalog = Catalog.model_validate(raw)
    except ValidationError as exc:
        raise CatalogInvalid(source, issues_from_validation(exc)) from exc
    _logger.debug("catalog %s: version %d for %s", source, catalog.version, catalog.municipality.code)
    return catalog


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a catalog file (`CatalogInvalid` when unreadable or not valid)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        issue = CatalogIssue(
            "(file)", f"cannot read {path}: {exc.strerror}", "check the path and its permissions"
        )
        raise CatalogInvalid(str(path), [issue]) from exc
    return parse_catalog(data, str(path))


def sample_catalog_path() -> Path:
    """Path of the sample catalog of the fictional みどり市 (municipality 999999) shipped in the package."""
    return Path(str(resources.files("madoguchi") / "data" / "sample_catalog.json"))


def load_sample_catalog() -> Catalog:
    """The shipped sample catalog, validated."""
    return load_catalog(sample_catalog_path())
