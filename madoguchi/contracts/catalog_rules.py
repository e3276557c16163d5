"""Eligibility rules (refusals with where-to-go text), payment rules, semi-self fee items and queue categories."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from madoguchi.contracts.catalog_base import CatalogModel, Channel, Identifier, PricePeriod, in_force
from madoguchi.contracts.languages import LocalizedText

__all__ = [
    "ALL_TYPES",
    "Brand",
    "EligibilityRule",
    "FeeItem",
    "Payment",
    "PaymentMethod",
    "PaymentMethodKind",
    "QueueCategory",
    "QueueSettings",
    "ReceiptKind",
    "RefundPolicy",
    "RuleKind",
]

ALL_TYPES = "*"


class RuleKind(enum.StrEnum):
    """Why a resident is sent to a counter instead of being served (kiosk-requirements.md §2, R-01, R-02, R-11)."""

    MIN_AGE = "min_age"
    MOVED_OUT = "moved_out"  # 転出届 filed
    DECEASED = "deceased"
    SUPPORT_MEASURES = "support_measures"  # 支援措置 (DV etc.)
    NAME_OUTSIDE_FONT = "name_outside_font"  # long name, 外字 pending
    MOVED_IN_TODAY = "moved_in_today"
    REGISTRATION_REQUIRED = "registration_required"  # 本籍 here, living elsewhere: 利用登録申請 first
    PIN_LOCKED = "pin_locked"
    CERTIFICATE_EXPIRED = "certificate_expired"
    PROXY = "proxy"  # 代理人
    OUTSIDE_HOURS = "outside_hours"
    HOLIDAY = "holiday"
    CLOSED_PERIOD = "closed_period"  # 12/29–1/3
    MAINTENANCE = "maintenance"
    KILL_SWITCH = "kill_switch"
    NO_FEE = "no_fee"  # no fee in force


class EligibilityRule(CatalogModel):
    """A refusal shown before payment with its reason and where to go instead (R-06)."""

    id: Identifier
    kind: RuleKind
    applies_to: list[Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_-]{0,47})$")]] = Field(
        min_length=1, description="certificate type ids, or ['*'] for every type"
    )
    min_age: int | None = Field(default=None, strict=True, ge=0, le=120, description="only for kind min_age")
    reason: LocalizedText
    where_to_go: LocalizedText
    counter: Identifier | None = Field(
        default=None, description="procedures.counters id to send the resident to"
    )
    queue_category: Identifier | None = Field(default=None, description="queue.categories id for a ticket")

    @model_validator(mode="after")
    def _parameters(self) -> Self:
        if self.kind == RuleKind.MIN_AGE and self.min_age is None:
            raise ValueError("min_age is required for a rule of kind 'min_age' (e.g. 15)")
        if self.kind != RuleKind.MIN_AGE and self.min_age is not None:
            raise ValueError(
                f"min_age belongs only to rules of kind 'min_age', not {self.kind.value!r}; remove it"
            )
        if ALL_TYPES in self.applies_to and len(self.applies_to) > 1:
            raise ValueError("applies_to: '*' already means every type; list ids or '*' alone")
        return self

    def applies(self, cert_type_id: str) -> bool:
        """True when the rule concerns `cert_type_id`."""
        return ALL_TYPES in self.applies_to or cert_type_id in self.applies_to


class PaymentMethodKind(enum.StrEnum):
    """Kinds of payment (kiosk-requirements.md §4)."""

    CASH = "cash"
    CREDIT = "credit"
    EMONEY = "emoney"
    QR = "qr"


class ReceiptKind(enum.StrEnum):
    """What the printed slip is called (R-18): 領収書 or 利用控え."""

    RECEIPT = "receipt"  # 領収書
    USAGE_RECORD = "usage_record"  # 利用控え / 利用明細


class Brand(CatalogModel):
    """A card or code brand accepted under a method (VISA, 交通系IC, PayPay …)."""

    id: Identifier
    name: str = Field(min_length=1, max_length=60)


class PaymentMethod(CatalogModel):
    """One way to pay; a payment uses exactly one method (R-17)."""

    id: Identifier
    kind: PaymentMethodKind
    names: LocalizedText
    brands: list[Brand] = Field(default_factory=list)
    receipt: ReceiptKind
    channels: list[Channel] = Field(
        min_length=1, description="kiosk, and/or counter = the semi-self register"
    )
    needs_network: bool = True

    @model_validator(mode="after")
    def _brands(self) -> Self:
        if self.kind != PaymentMethodKind.CASH and not self.brands:
            raise ValueError(f"brands: a {self.kind.value} method needs at least one brand")
        if self.kind == PaymentMethodKind.CASH and self.needs_network:
            raise ValueError("needs_network: cash works without the network; set it to false")
        return self


class RefundPolicy(CatalogModel):
    """Refunds after payment (原則 none, R-16) and the text that says so."""

    refunds: bool = False
    text: LocalizedText


class Payment(CatalogModel):
    """Payment methods and the rules shown before a method is chosen (R-16–R-22)."""

    methods: list[PaymentMethod] = Field(min_length=1)
    one_method_per_payment: Literal[True] = True
    lump_sum_only: Literal[True] = Field(default=True, description="credit 一括 only; no チャージ, no points")
    notices: list[LocalizedText] = Field(default_factory=list, description="rules shown before method choice")
    refund: RefundPolicy
    offline: LocalizedText = Field(description="shown when the gateway is down: cash at the counter (R-22)")

    def methods_for(self, channel: Channel) -> list[PaymentMethod]:
        """Methods offered on `channel`."""
        return [method for method in self.methods if channel in method.channels]


class FeeItem(CatalogModel):
    """A fee staff register for the semi-self register: own prices, or a certificate type's counter fee."""

    id: Identifier
    names: LocalizedText
    prices: list[PricePeriod] = Field(default_factory=list)
    certificate_type: Identifier | None = Field(
        default=None, description="use this type's counter fee instead"
    )
    methods: list[Identifier] = Field(min_length=1, description="payment.methods ids accepted for this item")

    @model_validator(mode="after")
    def _one_price_source(self) -> Self:
        if bool(self.prices) == (self.certificate_type is not None):
            raise ValueError("give either prices or certificate_type (its counter fee), exactly one of them")
        return self

    def own_price(self, at: datetime) -> PricePeriod | None:
        """This item's own price in force at `at` (None when it has none or uses a certificate fee)."""
        return in_force(self.prices, at)


class QueueCategory(CatalogModel):
    """A ticket category: its counter (and so its floor) and the letter before the number (A-012)."""

    id: Identifier
    names: LocalizedText
    counter: Identifier
    prefix: str = Field(pattern=r"^[A-Z]$")
    concierge_only: bool = False


class QueueSettings(CatalogModel):
    """Ticket categories and congestion thresholds (R-23, R-26; default ≤20 / 20–40 / ≥40 min)."""

    categories: list[QueueCategory] = Field(min_length=1)
    busy_from_minutes: int = Field(default=20, strict=True, ge=1)
    crowded_from_minutes: int = Field(default=40, strict=True, ge=1)

    @model_validator(mode="after")
    def _thresholds(self) -> Self:
        if self.crowded_from_minutes <= self.busy_from_minutes:
            raise ValueError(
                f"crowded_from_minutes ({self.crowded_from_minutes}) must be above "
                f"busy_from_minutes ({self.busy_from_minutes})"
            )
        return self
