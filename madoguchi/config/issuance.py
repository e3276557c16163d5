"""`[issuance]` of the central configuration: the certificate issuance service `kiosk-central serve` runs.

Without the section, `serve` runs no issuance (kiosks show "issuance unavailable"; the rest works).
Keys and the JPKI trust anchors are files; secrets (signing key, audit key, document key) are never
written into the TOML itself.
"""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt, model_validator

from madoguchi.config.loading import ConfigModel, ConfigPath, ExistingFile
from madoguchi.config.problems import ConfigValueError, Issue

__all__ = ["IssuanceConfig"]


class IssuanceConfig(ConfigModel):
    """Keys, trust anchors, registry and timing of certificate issuance."""

    signing_key: ExistingFile = Field(
        description="Ed25519 private key (PEM) signing certificate QR codes and document bindings",
        examples=["/etc/madoguchi/issuance/signing.pem"],
    )
    audit_key: ExistingFile = Field(
        description="file with 32 random bytes (base64) keying the audit log's certificate hashes",
        examples=["/etc/madoguchi/issuance/audit.key"],
    )
    document_key: ExistingFile | None = Field(
        None,
        description="file with 32 random bytes (base64) encrypting stored documents; needed by keep_documents",
        examples=["/etc/madoguchi/issuance/document.key"],
    )
    keep_documents: StrictBool = Field(
        False, description="keep printed documents (encrypted) after confirmation"
    )
    jpki_ca: list[ExistingFile] = Field(
        default_factory=list,
        description="JPKI user-authentication CA certificate(s), PEM or DER",
        examples=[["/etc/madoguchi/jpki/auth-ca.pem"]],
    )
    crl: ExistingFile | None = Field(
        None, description="JPKI authentication CRL file (DER or PEM), refreshed by the platform operator"
    )
    registry: ConfigPath | None = Field(
        None, description="embedded resident registry (SQLite); default <data_dir>/issuance/registry.sqlite"
    )
    control_keys: list[ExistingFile] = Field(
        default_factory=list, description="fleet control public keys (PEM) accepted for the kill switch"
    )
    demo: StrictBool = Field(
        False, description="trust the card emulator's test CA and seed its personas (never with real cards)"
    )
    mayor: str = Field("市長", min_length=1, description="mayor's name printed on certificates")
    verify_url: str | None = Field(
        None,
        max_length=80,
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$",
        description="public address of the certificate check page (the central's /verify), printed on every "
        "certificate beside its verification code; unset prints 'the issuing city's check page'",
        examples=["https://www.city.midori.example.jp/verify"],
    )
    min_app_version: str | None = Field(None, description="kiosks reporting an older app cannot issue (R-10)")
    nonce_ttl_s: StrictInt = Field(120, ge=30, le=600, description="how long a nonce may be signed")
    reprint_window_s: StrictInt = Field(
        600, ge=60, le=86_400, description="how long a failed print may be reprinted without paying"
    )
    render_processes: StrictInt = Field(
        0, ge=0, le=64, description="PDF renderer processes (niced); 0 = one per CPU core"
    )

    @model_validator(mode="after")
    def _trust(self) -> IssuanceConfig:
        if not self.demo and (not self.jpki_ca or self.crl is None):
            raise ConfigValueError(
                Issue(
                    "no JPKI CA certificate or CRL: nobody could be authenticated",
                    'set jpki_ca = ["/etc/madoguchi/jpki/auth-ca.pem"] and crl = "/var/lib/madoguchi/jpki.crl" '
                    "(or demo = true with the card emulator only)",
                )
            )
        if self.keep_documents and self.document_key is None:
            raise ConfigValueError(
                Issue(
                    "keep_documents needs document_key", "create one: head -c 32 /dev/urandom | base64 > FILE"
                )
            )
        return self
