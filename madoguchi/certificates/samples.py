"""Fictional sample certificates for `kiosk print-test certificate`, tests and benchmarks."""

from __future__ import annotations

from datetime import date, datetime

from madoguchi.certificates.models import (
    AttachmentEntry,
    Certificate,
    CertificateKind,
    CertificateMeta,
    FamilyRegister,
    IncomeTaxCertificate,
    Person,
    RegisterAttachment,
    RegisterMember,
    ResidentRecord,
    SealCertificate,
)
from madoguchi.certificates.seal import draw_city_seal

__all__ = ["sample_certificate"]


def sample_certificate(
    kind: CertificateKind = CertificateKind.JUMINHYO, serial: str = "MH-2026-000123"
) -> Certificate:
    """A fictional certificate of `kind` (住民票 includes 𠮷 and 髙 to exercise font fallback)."""
    meta = CertificateMeta(serial, datetime(2026, 4, 1, 9, 30, 15), "見本市", "見本 太郎", "kiosk-0001")
    address = "見本県見本市中央一丁目2番3号"
    if kind is CertificateKind.JUMINHYO:
        members = (
            Person("𠮷田 髙志", "よしだ たかし", date(1980, 5, 6), "男", "世帯主", date(2010, 4, 1)),
            Person("𠮷田 花子", "よしだ はなこ", date(1982, 7, 8), "女", "妻", date(2010, 4, 1)),
        )
        return ResidentRecord(meta, address, "𠮷田 髙志", members, True, "見本県見本市本町5番地", "𠮷田 髙志",
                              show_honseki=True)  # fmt: skip
    if kind is CertificateKind.INKAN:
        return SealCertificate(
            meta, "12345", "𠮷田 髙志", date(1980, 5, 6), address, draw_city_seal("𠮷田", 160)
        )
    if kind is CertificateKind.SHOTOKU:
        return IncomeTaxCertificate(meta, 2025, "𠮷田 髙志", address, 5_200_000, 3_100_000, 186_000, 124_000,
                                    (("社会保険料控除", 720_000), ("基礎控除", 430_000)))  # fmt: skip
    if kind is CertificateKind.FUHYO:
        entries = (
            AttachmentEntry(
                "𠮷田 髙志", (("見本県見本市旧町1番地", date(1980, 5, 6)), (address, date(2010, 4, 1)))
            ),
            AttachmentEntry("𠮷田 花子", ((address, date(2010, 4, 1)),)),
        )
        return RegisterAttachment(meta, "見本県見本市本町5番地", "𠮷田 髙志", entries)
    member = RegisterMember("𠮷田 髙志", date(1980, 5, 6), "𠮷田 一郎", "𠮷田 春子", "長男",
                            ("出生 昭和55年5月6日 見本県見本市で出生",))  # fmt: skip
    return FamilyRegister(meta, "見本県見本市本町5番地", "𠮷田 髙志", (member,))
