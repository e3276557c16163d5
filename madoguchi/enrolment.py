"""Enrolment API shared by the kiosk and the central: requests, answers and refusal codes (HTTPS JSON)."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from madoguchi.contracts.base import DeviceId

__all__ = [
    "CATALOGS_PATH",
    "ENROL_PATH",
    "MIN_PLAUSIBLE_YEAR",
    "PAIRING_ALPHABET",
    "PAIRING_CODE_LENGTH",
    "RELEASES_PATH",
    "RENEW_PATH",
    "EnrolRequest",
    "EnrolResponse",
    "Refusal",
    "RefusalCode",
    "RenewRequest",
    "normalise_code",
]

ENROL_PATH = "/v1/enrol"
RENEW_PATH = "/v1/renew"
PAIRING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
PAIRING_CODE_LENGTH = 10
RELEASES_PATH = "/v1/releases"  # + "/<sha256>": app release bundles, device certificates only
CATALOGS_PATH = "/v1/catalogs"  # + "/<sha256>": catalog bodies too large for MQTT, device certificates only
# A clock before this year was never set (a Pi 4 has no RTC and boots at its last saved time).
MIN_PLAUSIBLE_YEAR = 2025


FleetRootId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]  # madoguchi.contracts.signed.key_id


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normalise_code(code: str) -> str:
    """A pairing code as stored: capitals, no separators, look-alike letters mapped to digits."""
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


class RefusalCode(enum.StrEnum):
    """Why the central refused to enrol or renew a device, or to hand it a release bundle."""

    TOKEN_UNKNOWN = "token-unknown"  # noqa: S105 - codes, not secrets
    TOKEN_USED = "token-used"  # noqa: S105
    TOKEN_EXPIRED = "token-expired"  # noqa: S105
    TOKEN_OTHER_DEVICE = "token-other-device"  # noqa: S105
    CLOCK_NOT_SET = "clock-not-set"
    BAD_REQUEST = "bad-request"
    CERTIFICATE_REQUIRED = "certificate-required"
    CERTIFICATE_REJECTED = "certificate-rejected"
    RELEASE_UNKNOWN = "release-unknown"
    CATALOG_UNKNOWN = "catalog-unknown"
    FLEET_ROOT_MISMATCH = "fleet-root-mismatch"


class EnrolRequest(_Model):
    """First enrolment: a CSR (CN = device id) and the one-time token or pairing code."""

    device_id: DeviceId
    token: str | None = Field(default=None, min_length=16, max_length=128)
    pairing_code: str | None = Field(default=None, min_length=4, max_length=32)
    csr_pem: str = Field(max_length=8192)
    device_time: int = Field(description="the device's clock, epoch seconds")
    data_dir: str = Field(
        default="/data", pattern=r"^/[^\n\"\\]*$", description="where the device keeps its state"
    )
    fleet_root_ids: list[FleetRootId] = Field(
        default_factory=list,
        max_length=8,
        description="ids of the fleet signing roots the device already trusts (its image, its enrol.json);"
        " the central refuses before spending the token when it signs under none of them",
    )


class RenewRequest(_Model):
    """Renewal over mutual TLS with the current device certificate: a new CSR with the same CN."""

    csr_pem: str = Field(max_length=8192)
    device_time: int


class EnrolResponse(_Model):
    """A signed certificate, the chain up to the root, and (on enrolment) the branch configuration."""

    device_id: DeviceId
    cert_pem: str
    chain_pem: str = Field(description="intermediate CA certificate(s) between the device and the root")
    root_pem: str
    not_after: int = Field(description="certificate expiry, epoch seconds")
    renew_after: int = Field(description="renew from this time on (2/3 of the lifetime), epoch seconds")
    branch: str = ""
    config_toml: str = Field(default="", description="kiosk configuration for this device (enrolment only)")
    fleet_root_keys: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="PEM Ed25519 public keys of the fleet signing root (enrolment only): the device trusts"
        " them for fleet/keys when its image brought none",
    )


class Refusal(_Model):
    """The body of every 4xx answer: a code for programs, a message and a fix for people."""

    code: RefusalCode
    message: str
    hint: str = ""
