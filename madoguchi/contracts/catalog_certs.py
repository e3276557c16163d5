"""Certificate types of the catalog: names, options (世帯全員/一部, 本籍・筆頭者, 続柄 …), copies, fees, hours."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from madoguchi.contracts.catalog_base import CatalogModel, Channel, Fee, Identifier, NoFeeInForce, in_force
from madoguchi.contracts.catalog_hours import HoursOverride
from madoguchi.contracts.languages import LocalizedText

__all__ = [
    "CertificateCategory",
    "CertificateOption",
    "CertificateType",
    "OptionChoice",
    "Subject",
]

MAX_COPIES_LIMIT = 20


class CertificateCategory(enum.StrEnum):
    """Which register a certificate comes from; tells the kiosk which issuing service to call."""

    RESIDENT_RECORD = "resident_record"  # 住民票の写し
    SEAL = "seal_registration"  # 印鑑登録証明書
    TAX = "tax"  # 所得・課税証明書
    FAMILY_REGISTER = "family_register"  # 戸籍全部/個人事項証明書
    FAMILY_REGISTER_ATTACHMENT = "family_register_attachment"  # 戸籍の附票の写し


class Subject(enum.StrEnum):
    """Whose record may be requested with one's own card (R-07: the subject must match the holder)."""

    SELF = "self"
    HOUSEHOLD = "household"  # members of the holder's household (住民票)
    SAME_REGISTER = "same_register"  # persons in the holder's 戸籍


class OptionChoice(CatalogModel):
    """One choice of an option, e.g. 世帯全員 or 一部."""

    id: Identifier
    names: LocalizedText


class CertificateOption(CatalogModel):
    """A choice the resident makes before paying, with the choice preselected for them."""

    id: Identifier
    names: LocalizedText
    help: LocalizedText | None = None
    choices: list[OptionChoice] = Field(min_length=2)
    default: Identifier

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> Self:
        ids = [choice.id for choice in self.choices]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"choices: duplicate id(s) {', '.join(duplicates)}; give each choice its own id")
        if self.default not in ids:
            raise ValueError(f"default {self.default!r} is not one of the choices ({', '.join(ids)})")
        return self

    def choice(self, choice_id: str) -> OptionChoice:
        """The choice with that id (ValueError naming the choices if unknown)."""
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        raise ValueError(f"option {self.id!r} has no choice {choice_id!r}")


class CertificateType(CatalogModel):
    """A certificate the kiosk can issue; fees per channel with effective dates (R-01)."""

    id: Identifier
    names: LocalizedText
    description: LocalizedText | None = None
    category: CertificateCategory
    subjects: list[Subject] = Field(min_length=1, description="whose records the card holder may request")
    options: list[CertificateOption] = Field(default_factory=list)
    max_copies: int = Field(strict=True, ge=1, le=MAX_COPIES_LIMIT)
    fees: list[Fee] = Field(description="at least one kiosk fee; periods of one channel must not overlap")
    hours: HoursOverride | None = Field(default=None, description="hours when they differ from service_hours")

    def fee_for(self, at: datetime, channel: Channel = Channel.KIOSK) -> Fee:
        """The fee of `channel` in force on the Japan date of `at`.

        Raises:
            NoFeeInForce: none is effective then; sales must stop (R-01).
        """
        fees = [fee for fee in self.fees if fee.channel == channel]
        found = in_force(fees, at)
        if found is None:
            raise NoFeeInForce(self.id, channel.value, at, fees)
        assert isinstance(found, Fee)
        return found

    def option(self, option_id: str) -> CertificateOption:
        """The option with that id (ValueError if the type has none)."""
        for option in self.options:
            if option.id == option_id:
                return option
        raise ValueError(f"certificate type {self.id!r} has no option {option_id!r}")

    def default_choices(self) -> dict[str, str]:
        """Option id → preselected choice id."""
        return {option.id: option.default for option in self.options}
