"""Certificate documents from registry facts: the printing package's typed models, rendered to PDF with
serial, issue time, verification code and the signed QR code binding the printed content (`bound_pdf`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.issuance.bound_pdf import BoundCertificate, render_bound
from central_broker.issuance.registry import Resident
from madoguchi.certificates.models import (
    AttachmentEntry,
    Certificate,
    CertificateMeta,
    FamilyRegister,
    IncomeTaxCertificate,
    Person,
    RegisterAttachment,
    RegisterMember,
    ResidentRecord,
    SealCertificate,
)
from madoguchi.certificates.pdf import certificate_fonts
from madoguchi.certificates.seal import draw_city_seal
from madoguchi.contracts.catalog_certs import CertificateCategory, CertificateType

__all__ = ["RENDER_NICENESS", "build_certificate", "printable", "render", "render_pool"]

# Renderers run at the central's own priority. At nice +10 they starved whenever anything else on the
# machine was busy (2 busy processes on 2 cores: p95 52.7 s at 20 kiosks, against 15.6 s at nice 0,
# docs/benchmarks.md), and the resident waits for the render after paying. The pool has one process per
# core, so renders never take more than their share from the RPC threads.
RENDER_NICENESS = 0

_logger = logging.getLogger(__name__)


def printable(text: str) -> bool:
    """True when every character of `text` has a glyph in the certificate fonts."""
    return not certificate_fonts().missing(text)


def _person(r: Resident) -> Person:
    return Person(r.name, r.kana, r.birth_date, r.sex, r.relationship, r.moved_in)


def _choice(choices: dict[str, str], cert: CertificateType, option: str) -> str:
    try:
        return choices.get(option) or cert.option(option).default
    except ValueError:
        return ""


def build_certificate(
    cert: CertificateType,
    resident: Resident,
    household: tuple[Resident, ...],
    choices: dict[str, str],
    meta: CertificateMeta,
) -> Certificate:
    """The typed certificate for `cert` about `resident` (household members only for 住民票 世帯全員)."""
    if cert.category is CertificateCategory.RESIDENT_RECORD:
        whole = _choice(choices, cert, "scope") != "some"
        members = household if whole else (resident,)
        householder = next((m.name for m in household if m.relationship == "世帯主"), resident.householder)
        return ResidentRecord(
            meta,
            resident.address,
            householder or resident.name,
            tuple(_person(m) for m in members),
            whole_household=whole,
            honseki=resident.honseki,
            hittosha=resident.hittosha,
            show_honseki=_choice(choices, cert, "domicile") == "include",
            show_relationship=_choice(choices, cert, "relationship") == "include",
        )
    if cert.category is CertificateCategory.SEAL:
        seal = draw_city_seal(resident.name.split(" ")[0], 160)
        number = resident.seal_registration_no or ""
        return SealCertificate(meta, number, resident.name, resident.birth_date, resident.address, seal)
    if cert.category is CertificateCategory.TAX:
        tax = resident.tax
        year = tax.fiscal_year if tax else meta.issued_at.year - 1
        figures = (
            (tax.income, tax.taxable_income, tax.municipal_tax, tax.prefectural_tax) if tax else (0, 0, 0, 0)
        )
        return IncomeTaxCertificate(meta, year, resident.name, resident.address, *figures)
    if cert.category is CertificateCategory.FAMILY_REGISTER:
        same_register = [m for m in household if m.honseki == resident.honseki] or [resident]
        people = same_register if cert.id.endswith("zenbu") else [resident]
        register = tuple(
            RegisterMember(m.name, m.birth_date, "", "", m.relationship, (f"出生 {_jp(m.birth_date)}",))
            for m in people
        )
        whole = cert.id.endswith("zenbu")
        return FamilyRegister(
            meta, resident.honseki, resident.hittosha or resident.name, register, whole=whole
        )
    if cert.category is CertificateCategory.FAMILY_REGISTER_ATTACHMENT:
        same_register = [m for m in household if m.honseki == resident.honseki] or [resident]
        entries = tuple(AttachmentEntry(m.name, ((m.address, m.moved_in),)) for m in same_register)
        return RegisterAttachment(meta, resident.honseki, resident.hittosha or resident.name, entries)
    raise ValueError(f"no template for certificate category {cert.category.value}")


def _jp(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render(
    certificate: Certificate,
    key: Ed25519PrivateKey,
    code: str,
    verify_url: str | None = None,
    pool: Executor | None = None,
) -> BoundCertificate:
    """Render to PDF with the city's seal, the verification `code` and the signed QR (raises `GlyphMissing`
    for unprintable text).

    With `pool` (a process pool from `render_pool()`), rendering runs in another process so that
    several CPU cores render at once; the key crosses as raw bytes.
    """
    if pool is None:
        return render_bound(certificate, key, code, verify_url)
    return pool.submit(_render_raw, certificate, key.private_bytes_raw(), code, verify_url).result()


def _render_raw(
    certificate: Certificate, raw_key: bytes, code: str, verify_url: str | None
) -> BoundCertificate:
    return render_bound(certificate, Ed25519PrivateKey.from_private_bytes(raw_key), code, verify_url)


def _warm() -> int:
    from madoguchi.certificates.samples import sample_certificate

    render_bound(sample_certificate(), Ed25519PrivateKey.generate(), "0" * 16)
    return os.getpid()


def render_pool(processes: int, niceness: int = RENDER_NICENESS) -> ProcessPoolExecutor:
    """A pool of `processes` renderer processes (spawned, not forked: the service runs threads), warmed up.

    `niceness` is added to the renderers' priority (default `RENDER_NICENESS`: none, see there).
    """
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=os.nice,
        initargs=(niceness,),
    )
    for future in [pool.submit(_warm) for _ in range(processes * 2)]:
        future.result()
    _logger.info("%d renderer processes ready", processes)
    return pool


def issued_at_text(at: datetime) -> str:
    """The issue time as the QR and binding carry it (ISO 8601, seconds)."""
    return at.isoformat(timespec="seconds")
