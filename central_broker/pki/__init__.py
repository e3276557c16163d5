"""Fleet PKI: root, device and service CAs, device and service certificates, CRLs (contract §1, §6)."""

from __future__ import annotations

from central_broker.pki.authority import DEVICE, SERVICE, IssuedCertificate, Pki, PkiSettings
from central_broker.pki.x509 import check_name, fingerprint

__all__ = ["DEVICE", "SERVICE", "IssuedCertificate", "Pki", "PkiSettings", "check_name", "fingerprint"]
