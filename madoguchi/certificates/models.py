"""Certificate contents as typed, frozen models; their repr never shows personal data.

The kiosk fills these from the back-office answer; the PDF templates only read them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "AttachmentEntry",
    "Certificate",
    "CertificateKind",
    "CertificateMeta",
    "FamilyRegister",
    "IncomeTaxCertificate",
    "Person",
    "RegisterAttachment",
    "RegisterMember",
    "ResidentRecord",
    "SealCertificate",
]


class CertificateKind(enum.StrEnum):
    """The certificates a kiosk issues."""

    JUMINHYO = "juminhyo"  # 住民票の写し
    INKAN = "inkan"  # 印鑑登録証明書
    SHOTOKU = "shotoku"  # 所得・課税証明書
    KOSEKI = "koseki"  # 戸籍全部事項証明書 / 戸籍個人事項証明書
    FUHYO = "fuhyo"  # 戸籍の附票の写し


@dataclass(frozen=True, repr=False)
class CertificateMeta:
    """What every certificate carries: serial, issue time, issuing city and mayor, kiosk."""

    serial: str
    issued_at: datetime
    city: str
    mayor: str
    kiosk_id: str

    def __repr__(self) -> str:
        return f"CertificateMeta(serial={self.serial!r})"


@dataclass(frozen=True, repr=False)
class Person:
    """One resident as printed on a 住民票."""

    name: str
    kana: str
    birth_date: date
    sex: str
    relationship: str = ""  # 続柄
    became_resident: date | None = None

    def __repr__(self) -> str:
        return "Person(<personal data>)"


@dataclass(frozen=True, repr=False)
class ResidentRecord:
    """住民票の写し. Options: the whole household or some members, 本籍・筆頭者, 続柄."""

    meta: CertificateMeta
    address: str
    householder: str
    members: tuple[Person, ...]
    whole_household: bool = True
    honseki: str = ""
    hittosha: str = ""
    show_honseki: bool = False
    show_relationship: bool = True
    kind: CertificateKind = field(default=CertificateKind.JUMINHYO, init=False)

    def __repr__(self) -> str:
        return f"ResidentRecord(serial={self.meta.serial!r})"


@dataclass(frozen=True, repr=False)
class SealCertificate:
    """印鑑登録証明書: the registered seal impression (PNG bytes) and the holder."""

    meta: CertificateMeta
    registration_no: str
    name: str
    birth_date: date
    address: str
    seal_png: bytes
    kind: CertificateKind = field(default=CertificateKind.INKAN, init=False)

    def __repr__(self) -> str:
        return f"SealCertificate(serial={self.meta.serial!r})"


@dataclass(frozen=True, repr=False)
class IncomeTaxCertificate:
    """所得・課税証明書 for one fiscal year (amounts in yen)."""

    meta: CertificateMeta
    fiscal_year: int
    name: str
    address: str
    income: int
    taxable_income: int
    municipal_tax: int
    prefectural_tax: int
    deductions: tuple[tuple[str, int], ...] = ()
    kind: CertificateKind = field(default=CertificateKind.SHOTOKU, init=False)

    def __repr__(self) -> str:
        return f"IncomeTaxCertificate(serial={self.meta.serial!r})"


@dataclass(frozen=True, repr=False)
class RegisterMember:
    """One person in a family register."""

    name: str
    birth_date: date
    father: str
    mother: str
    relationship: str
    events: tuple[str, ...] = ()  # 身分事項, e.g. "出生 平成2年4月1日 東京都千代田区で出生"

    def __repr__(self) -> str:
        return "RegisterMember(<personal data>)"


@dataclass(frozen=True, repr=False)
class FamilyRegister:
    """戸籍全部事項証明書 (`whole`), or 戸籍個人事項証明書 for the members listed."""

    meta: CertificateMeta
    honseki: str
    hittosha: str
    members: tuple[RegisterMember, ...]
    whole: bool = True
    kind: CertificateKind = field(default=CertificateKind.KOSEKI, init=False)

    def __repr__(self) -> str:
        return f"FamilyRegister(serial={self.meta.serial!r})"


@dataclass(frozen=True, repr=False)
class AttachmentEntry:
    """One person on a 戸籍の附票: name and address history (address, date it was set), oldest first."""

    name: str
    addresses: tuple[tuple[str, date | None], ...]

    def __repr__(self) -> str:
        return "AttachmentEntry(<personal data>)"


@dataclass(frozen=True, repr=False)
class RegisterAttachment:
    """戸籍の附票の写し: the address history of the people in one family register."""

    meta: CertificateMeta
    honseki: str
    hittosha: str
    entries: tuple[AttachmentEntry, ...]
    kind: CertificateKind = field(default=CertificateKind.FUHYO, init=False)

    def __repr__(self) -> str:
        return f"RegisterAttachment(serial={self.meta.serial!r})"


Certificate = ResidentRecord | SealCertificate | IncomeTaxCertificate | FamilyRegister | RegisterAttachment
