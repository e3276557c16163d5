"""A4 certificates: typed contents, PDF rendering with seal and signed QR, printing through CUPS."""

from __future__ import annotations

from device_drivers.printer.a4.cups import A4Health, A4Status, CupsPrinter, JobState
from device_drivers.printer.a4.models import Certificate, CertificateKind, CertificateMeta
from device_drivers.printer.a4.pdf import RenderedCertificate, render_certificate
from device_drivers.printer.a4.qrsign import QrClaims, QrSignatureError, verify_qr

__all__ = [
    "A4Health",
    "A4Status",
    "Certificate",
    "CertificateKind",
    "CertificateMeta",
    "CupsPrinter",
    "JobState",
    "QrClaims",
    "QrSignatureError",
    "RenderedCertificate",
    "render_certificate",
    "verify_qr",
]
