"""Central configuration: one TOML file for the central system (store, broker, fleet view).

`local_central_config` gives the embedded defaults used by the demo and tests: SQLite in a data
folder and a broker on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, StrictInt, ValidationInfo, field_validator

from madoguchi.config.broker import BrokerConfig
from madoguchi.config.issuance import IssuanceConfig
from madoguchi.config.loading import (
    ConfigModel,
    ConfigPath,
    ExistingFile,
    load_context,
    load_model,
    validate_model,
)
from madoguchi.config.problems import ConfigValueError, Issue
from madoguchi.config.queue import QueueSection

__all__ = [
    "SERVICE_NAMES",
    "SERVICE_ROLES",
    "STORE_SCHEMES",
    "CentralBrokerConfig",
    "CentralConfig",
    "CentralSection",
    "FleetConfig",
    "PkiConfig",
    "ServiceIdentities",
    "ServiceRole",
    "TlsIdentity",
    "WebConfig",
    "describe_central",
    "load_central_config",
    "local_central_config",
]

STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
_SQLITE = "sqlite:///"
_STORE_FIX = "write sqlite:////var/lib/madoguchi/central.db or postgresql://user@host/db"


class CentralSection(ConfigModel):
    """Where the central system keeps its data."""

    data_dir: ConfigPath = Field(description="state of the central services", examples=["/var/lib/madoguchi"])
    store_url: str = Field(
        description="database: sqlite:////abs/path.db (relative paths count from this file) or postgresql://user@host/db",
        examples=["sqlite:////var/lib/madoguchi/central.db"],
    )
    catalog_file: ExistingFile | None = Field(
        None,
        description="procedure catalog (JSON); leave out to use the sample catalog",
        examples=["/etc/madoguchi/catalog.json"],
    )

    @field_validator("store_url")
    @classmethod
    def _check_store(cls, value: str, info: ValidationInfo) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in STORE_SCHEMES:
            raise ConfigValueError(
                Issue(f"not a database URL (scheme one of {', '.join(STORE_SCHEMES)})", _STORE_FIX)
            )
        if scheme.lower() != "sqlite":
            if not rest.strip("/"):
                raise ConfigValueError(Issue("the URL names no database", _STORE_FIX))
            return value
        if not value.startswith(_SQLITE) or not value[len(_SQLITE) :].strip():
            raise ConfigValueError(Issue("a SQLite URL is sqlite:/// followed by the file path", _STORE_FIX))
        path = Path(value[len(_SQLITE) :])
        if str(path) == ":memory:":
            raise ConfigValueError(Issue("an in-memory database loses every record at restart", _STORE_FIX))
        base = load_context(info).base_dir
        if not path.is_absolute() and base is not None:
            return _SQLITE + os.path.normpath(base / path)
        return value

    @property
    def store_url_redacted(self) -> str:
        """`store_url` with any password replaced by ``***``, for output and logs."""
        scheme, sep, rest = self.store_url.partition("://")
        userinfo, at, host = rest.rpartition("@")
        if sep and at and ":" in userinfo:
            return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
        return self.store_url

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a SQLite store, else None."""
        return Path(self.store_url[len(_SQLITE) :]) if self.store_url.startswith(_SQLITE) else None


ServiceRole = Literal["ingest", "rpc", "catalog"]
"""A function of `kiosk-central serve` that holds its own broker rights (contract §6)."""

SERVICE_ROLES: tuple[ServiceRole, ...] = get_args(ServiceRole)
SERVICE_NAMES: dict[ServiceRole, str] = {"ingest": "svc-ingest", "rpc": "svc-rpc", "catalog": "svc-catalog"}
"""The service certificate CN (= broker user name) whose ACL grants each role's rights."""


class TlsIdentity(ConfigModel):
    """A service certificate and its key (the CA and the URL stay those of `[broker]`)."""

    cert_file: ExistingFile = Field(
        description="certificate (PEM, chain) of the service",
        examples=["/var/lib/madoguchi/pki/services/<service>/chain.pem"],
    )
    key_file: ExistingFile = Field(
        description="private key (PEM) of that certificate",
        examples=["/var/lib/madoguchi/pki/services/<service>/key.pem"],
    )


class ServiceIdentities(ConfigModel):
    """Per-function identities; a function without one uses `[broker]`'s cert_file and key_file."""

    ingest: TlsIdentity | None = Field(
        None, description="svc-ingest: reads kiosk births, state, statistics, events; writes acks"
    )
    rpc: TlsIdentity | None = Field(None, description="svc-rpc: answers payment-order and issuance RPCs")
    catalog: TlsIdentity | None = Field(
        None, description="svc-catalog: signed fleet documents, commands, rollouts, the kill switch"
    )


class CentralBrokerConfig(BrokerConfig):
    """`[broker]` of the central system: the default identity plus optional per-function identities."""

    identities: ServiceIdentities = Field(
        default_factory=ServiceIdentities,
        description="[broker.identities.ingest|rpc|catalog]: cert_file and key_file per function (mqtts only)",
    )

    @field_validator("identities")
    @classmethod
    def _identities_need_tls(cls, value: ServiceIdentities, info: ValidationInfo) -> ServiceIdentities:
        url = info.data.get("url")
        given = [role for role in SERVICE_ROLES if getattr(value, role) is not None]
        if given and isinstance(url, str) and not url.lower().startswith("mqtts://"):
            raise ConfigValueError(
                Issue(
                    f"identities for {', '.join(given)} are only used over mqtts:// (url is {url})",
                    "set url to the broker's mTLS service listener, e.g. mqtts://broker.city.example:8884, "
                    "or remove the [broker.identities.*] tables",
                    value="(table)",
                )
            )
        return value

    def for_role(self, role: ServiceRole) -> BrokerConfig:
        """This broker with `role`'s identity (its own table, else the default cert_file / key_file)."""
        identity = getattr(self.identities, role)
        cert, key = (
            (self.cert_file, self.key_file) if identity is None else (identity.cert_file, identity.key_file)
        )
        return BrokerConfig(
            url=self.url, ca_file=self.ca_file, cert_file=cert, key_file=key, keepalive=self.keepalive
        )

    def identity_source(self, role: ServiceRole) -> str:
        """Where `role`'s identity comes from, for messages: ``[broker.identities.rpc]`` or ``[broker]``."""
        return f"[broker.identities.{role}]" if getattr(self.identities, role) is not None else "[broker]"


class PkiConfig(ConfigModel):
    """Where the fleet PKI and the broker's copies of its CRLs are, so the centre can warn before they expire."""

    dir: ConfigPath | None = Field(
        None,
        description="PKI folder (kiosk-central ca init); default <data_dir>/pki when it exists",
        examples=["/var/lib/madoguchi/pki"],
    )
    broker_dir: ConfigPath | None = Field(
        None,
        description="the folder `kiosk-central broker config --pki` wrote (its tls/ holds the broker's CRLs)",
        examples=["/etc/mosquitto/madoguchi"],
    )
    crl_warn_days: float = Field(
        3.0, ge=0.5, le=6.5, description="warn on the dashboard this many days before a CRL expires"
    )


class FleetConfig(ConfigModel):
    """The fleet view."""

    stale_after_s: StrictInt = Field(
        180,
        ge=30,
        le=86400,
        description="a kiosk silent this many seconds is shown stale (3 missed health messages)",
    )
    download_url: str | None = Field(
        None,
        pattern=r"^https://[^\s]+$",
        description="https:// address kiosks use for the enrolment endpoint (`kiosk-central enrol-serve`, "
        "same data_dir); catalogs over 255 KiB are downloaded from it instead of MQTT",
        examples=["https://central.city.example:8443"],
    )


class WebConfig(ConfigModel):
    """The central web (dashboard and counter pages) served by `kiosk-central serve`."""

    host: str = Field("127.0.0.1", description="address to listen on", examples=["127.0.0.1"])
    port: StrictInt = Field(8080, ge=0, le=65535, description="TCP port; 0 disables the web")
    secure_cookies: bool = Field(
        False, description="mark session cookies Secure (set true when a TLS proxy serves the web)"
    )
    max_failed_logins: StrictInt = Field(
        5, ge=1, le=100, description="wrong passwords in a row before lockout"
    )
    lockout_minutes: StrictInt = Field(
        15, ge=1, le=1440, description="how long a locked account stays locked"
    )
    session_hours: StrictInt = Field(8, ge=1, le=72, description="how long a sign-in lasts")
    signing_keys_dir: ConfigPath | None = Field(
        None,
        description="folder of the fleet signing keys (catalog.key); enables remote commands and the kill switch",
        examples=["/etc/madoguchi/signing"],
    )


class CentralConfig(ConfigModel):
    """Everything the central system needs: ``[central]``, ``[broker]``, ``[fleet]``, ``[web]``."""

    central: CentralSection = Field(description="data folder, database and catalog")
    broker: CentralBrokerConfig = Field(
        description="MQTT broker and the services' TLS identities (default + [broker.identities.*])"
    )
    fleet: FleetConfig = Field(default_factory=FleetConfig, description="fleet view")
    pki: PkiConfig = Field(default_factory=PkiConfig, description="PKI and broker CRLs watched by serve")
    web: WebConfig = Field(default_factory=WebConfig, description="dashboard and counter pages")
    issuance: IssuanceConfig | None = Field(
        None, description="certificate issuance served by `kiosk-central serve` (left out: no issuance)"
    )
    queue: QueueSection = Field(
        default_factory=QueueSection, description="visit numbers (整理券): hours, caps, status-page address"
    )

    @property
    def pki_dir(self) -> Path | None:
        """The PKI folder to watch: `[pki] dir`, else `<data_dir>/pki` when it exists."""
        default = self.central.data_dir / "pki"
        return self.pki.dir or (default if (default / "pki.json").is_file() else None)

    @property
    def signing_dir(self) -> Path:
        """The fleet signing-key folder: `[web] signing_keys_dir`, else `<data_dir>/signing`."""
        return self.web.signing_keys_dir or self.central.data_dir / "signing"

    def broker_for(self, role: ServiceRole) -> BrokerConfig:
        """The broker config with `role`'s identity: ingest, rpc (orders, issuance) or catalog (signed
        documents, commands, rollouts, kill switch). Without `[broker.identities.<role>]`: `[broker]`'s."""
        return self.broker.for_role(role)


def load_central_config(path: Path, *, check_files: bool = True) -> CentralConfig:
    """Load the central TOML file.

    Args:
        path: the file; relative paths in it resolve against its folder.
        check_files: also require the TLS and catalog files it names to exist.

    Raises:
        ConfigFileError: (a `ConfigError`) listing every problem, each with key, value and fix.
    """
    hint = "check the path, or start from provisioning/data/central.example.toml"
    return load_model(CentralConfig, Path(path), check_files=check_files, create_hint=hint)


def local_central_config(data_dir: Path, broker_url: str) -> CentralConfig:
    """Embedded defaults for the demo and tests: SQLite in `data_dir`, the sample catalog.

    Raises:
        ConfigFileError: `broker_url` is not usable.
    """
    folder = Path(data_dir).absolute()
    data = {
        "central": {"data_dir": str(folder), "store_url": f"{_SQLITE}{folder / 'central.db'}"},
        "broker": {"url": broker_url},
    }
    return validate_model(CentralConfig, data, source="local defaults")


def describe_central(config: CentralConfig) -> str:
    """A summary of the effective configuration for a person (no secrets are in it)."""
    b, c = config.broker, config.central
    rows = [
        ("data_dir", str(c.data_dir)),
        ("store", c.store_url_redacted),
        ("catalog", str(c.catalog_file) if c.catalog_file else "sample catalog (built in)"),
        (
            "broker",
            f"{b.host}:{b.port} {'TLS' if b.tls else 'plaintext (loopback)'}, keepalive {b.keepalive} s",
        ),
    ]
    if b.tls:
        rows.append(("tls files", f"ca {b.ca_file}, cert {b.cert_file}, key {b.key_file}"))
        for role in SERVICE_ROLES:
            identity = getattr(b.identities, role)
            if identity is not None:
                rows.append((f"{role} identity", f"cert {identity.cert_file}, key {identity.key_file}"))
    rows.append(("fleet", f"stale after {config.fleet.stale_after_s} s"))
    rows.append(("web", f"{config.web.host}:{config.web.port}" if config.web.port else "disabled"))
    issuance = config.issuance
    if issuance is None:
        rows.append(("issuance", "not served ([issuance] left out)"))
    else:
        trust = (
            "DEMO: card emulator test CA"
            if issuance.demo
            else f"{len(issuance.jpki_ca)} JPKI CA(s), CRL {issuance.crl}"
        )
        rows.append(("issuance", f"{trust}; signing key {issuance.signing_key}"))
    q = config.queue
    if not q.enabled:
        rows.append(("queue", "not served ([queue] enabled = false)"))
    else:
        hours = "every hour (demo)" if q.always_open else f"{q.opening_time}-{q.closing_time} JST"
        where = ", ".join(q.branches) if q.branches else "every branch"
        rows.append(("queue", f"{hours}, {where}; status page {q.public_url or 'the web address (unset)'}"))
    return "\n".join(f"{label:<16}{text}" for label, text in rows)
