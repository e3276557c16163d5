"""Certificate issuance service: JPKI challenge-response, registry adapter, eligibility, signed and
bound documents, reprint/void, audit and the kill switch (docs/issuance.md)."""

from __future__ import annotations

from central_broker.issuance.authcheck import CrlFileChecker, RevocationChecker
from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.registry import Resident, ResidentRegistry, SqliteRegistry
from central_broker.issuance.service import IssuanceService, IssuanceSettings
from central_broker.issuance.store import IssuanceStore
from central_broker.issuance.vault import Vault

__all__ = [
    "CrlFileChecker",
    "IssuanceError",
    "IssuanceService",
    "IssuanceSettings",
    "IssuanceStore",
    "Resident",
    "ResidentRegistry",
    "RevocationChecker",
    "SqliteRegistry",
    "Vault",
]
