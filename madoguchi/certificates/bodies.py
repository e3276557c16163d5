"""The body of each certificate as an HTML fragment (data escaped here), plus its title and attestation."""

from __future__ import annotations

from datetime import date
from html import escape

from madoguchi.certificates.layout import wareki
from madoguchi.certificates.models import (
    Certificate,
    FamilyRegister,
    IncomeTaxCertificate,
    RegisterAttachment,
    ResidentRecord,
    SealCertificate,
)

__all__ = ["body_of", "printed_text"]


def _d(value: date | None) -> str:
    return wareki(value.year, value.month, value.day) if value else ""


def _rows(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _juminhyo(c: ResidentRecord) -> tuple[str, str, str]:
    parts = [_rows([("住所", c.address), ("世帯主", c.householder)])]
    if c.show_honseki:
        parts.append(_rows([("本籍", c.honseki), ("筆頭者", c.hittosha)]))
    for p in c.members:
        rows = [("氏名", f"{p.name}（{p.kana}）"), ("生年月日", _d(p.birth_date)), ("性別", p.sex)]
        if c.show_relationship:
            rows.append(("続柄", p.relationship))
        if p.became_resident:
            rows.append(("住民となった日", _d(p.became_resident)))
        parts.append(_rows(rows))
    scope = "世帯全員" if c.whole_household else "世帯の一部"
    attest = f"この写しは、住民票（{scope}）の原本と相違ないことを証明する。"
    return "住民票の写し", "".join(parts), attest


def _inkan(c: SealCertificate) -> tuple[str, str, str]:
    from madoguchi.certificates.layout import data_uri

    seal = f'<tr><th>印影</th><td><img src="{data_uri(c.seal_png)}" style="width:24mm;height:24mm" alt=""></td></tr>'
    table = _rows(
        [
            ("登録番号", c.registration_no),
            ("氏名", c.name),
            ("生年月日", _d(c.birth_date)),
            ("住所", c.address),
        ]
    )
    return (
        "印鑑登録証明書",
        table.replace("</table>", seal + "</table>"),
        "この写しは、登録されている印影と相違ないことを証明する。",
    )


def _shotoku(c: IncomeTaxCertificate) -> tuple[str, str, str]:
    def yen(v: int) -> str:
        return f"{v:,}円"

    rows = [
        ("年度", f"{c.fiscal_year}年度"),
        ("氏名", c.name),
        ("住所", c.address),
        ("合計所得金額", yen(c.income)),
    ]
    rows += [(name, yen(v)) for name, v in c.deductions]
    rows += [
        ("課税標準額", yen(c.taxable_income)),
        ("市民税", yen(c.municipal_tax)),
        ("県民税", yen(c.prefectural_tax)),
    ]
    return "所得・課税証明書", _rows(rows), "上記のとおり相違ないことを証明する。"


def _koseki(c: FamilyRegister) -> tuple[str, str, str]:
    parts = [_rows([("本籍", c.honseki), ("氏名", c.hittosha)])]
    for m in c.members:
        rows = [("戸籍に記録されている者", m.name), ("生年月日", _d(m.birth_date)), ("父", m.father), ("母", m.mother),
                ("続柄", m.relationship)]  # fmt: skip
        rows += [("身分事項", e) for e in m.events]
        parts.append(_rows(rows))
    if not c.whole:
        return (
            "戸籍個人事項証明書",
            "".join(parts),
            "これは、戸籍中の一部の者について記録されている事項を証明した書面である。",
        )
    return (
        "戸籍全部事項証明書",
        "".join(parts),
        "これは、戸籍に記録されている事項の全部を証明した書面である。",
    )


def _fuhyo(c: RegisterAttachment) -> tuple[str, str, str]:
    parts = [_rows([("本籍", c.honseki), ("筆頭者", c.hittosha)])]
    for entry in c.entries:
        rows = [("氏名", entry.name)]
        for address, since in entry.addresses:
            rows += [("住所", address), ("住所を定めた日", _d(since))]
        parts.append(_rows(rows))
    return ("戸籍の附票の写し", "".join(parts), "この写しは、戸籍の附票の原本と相違ないことを証明する。")


def body_of(certificate: Certificate) -> tuple[str, str, str]:
    """(title, body HTML, attestation) of `certificate`."""
    if isinstance(certificate, ResidentRecord):
        return _juminhyo(certificate)
    if isinstance(certificate, SealCertificate):
        return _inkan(certificate)
    if isinstance(certificate, IncomeTaxCertificate):
        return _shotoku(certificate)
    if isinstance(certificate, RegisterAttachment):
        return _fuhyo(certificate)
    return _koseki(certificate)


def printed_text(certificate: Certificate) -> str:
    """Every text printed from the data, for the glyph coverage check."""
    title, body, attest = body_of(certificate)
    meta = certificate.meta
    return " ".join((title, body, attest, meta.city, meta.mayor, meta.serial, meta.kiosk_id))
