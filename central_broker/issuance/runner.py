"""Run the issuance service (`svc-rpc`): build it from files and serve it over MQTT until stopped.

`--demo` uses the card emulator's test JPKI CA (kept in the emulator's data folder) as the trusted
CA, writes its CRL, and seeds the embedded registry with the emulator personas, so that kiosks
running `emulated://card?persona=…` can issue against it. Never use `--demo` with real cards.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from central_broker.issuance.authcheck import CrlFileChecker, load_certificates
from central_broker.issuance.documents import render_pool
from central_broker.issuance.endpoints import control_subscriber, issuance_handlers
from central_broker.issuance.registry import SqliteRegistry
from central_broker.issuance.service import IssuanceService, IssuanceSettings
from central_broker.issuance.store import IssuanceStore
from central_broker.issuance.vault import Vault
from central_broker.rpc_server import RpcServer
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.issuance import IssuanceConfig
from madoguchi.contracts.catalog import Catalog, load_catalog, load_sample_catalog
from madoguchi.contracts.signed import key_id
from madoguchi.errors import ConfigError

__all__ = ["RunOptions", "build_server", "build_service", "config_of", "read_secret"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """Where everything the service needs is."""

    broker: BrokerConfig
    data_dir: Path
    signing_key: Path
    audit_key: Path
    control_keys: tuple[Path, ...] = ()
    catalog: Path | None = None
    jpki_cas: tuple[Path, ...] = ()
    crl: Path | None = None
    registry: Path | None = None
    document_key: Path | None = None
    keep_documents: bool = False
    mayor: str = "市長"
    verify_url: str | None = None
    min_app_version: str | None = None
    demo: bool = False


def _private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the issuance signing key {path}", "give an Ed25519 private key (PEM)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key", "the issuance key is Ed25519")
    return key


def _public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the control key {path}", "give an Ed25519 public key (PEM)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key", "the control key is Ed25519")
    return key


def read_secret(path: Path, what: str) -> bytes:
    """The base64 secret in `path` (`what` names it in the error)."""
    try:
        return base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the {what} {path}", "a file holding 32 random bytes in base64"
        ) from exc


def _demo_material(data_dir: Path, registry: SqliteRegistry) -> tuple[tuple[x509.Certificate, ...], Path]:
    from central_broker.issuance.seed import seed_from_personas
    from device_drivers.card.emulator.material import JpkiTestCa, default_data_dir

    ca = JpkiTestCa(default_data_dir())
    seed_from_personas(registry, ca)
    crl = data_dir / "emulator-auth.crl"
    crl.write_bytes(ca.crl())
    _logger.warning("DEMO: trusting the card emulator's test CA; never use this with real cards")
    return (ca.auth_ca_certificate,), crl


def config_of(options: RunOptions) -> IssuanceConfig:
    """The `[issuance]` configuration the command-line options describe."""
    return IssuanceConfig.model_validate(
        {
            "signing_key": options.signing_key,
            "audit_key": options.audit_key,
            "document_key": options.document_key,
            "keep_documents": options.keep_documents,
            "jpki_ca": list(options.jpki_cas),
            "crl": options.crl,
            "registry": options.registry,
            "control_keys": list(options.control_keys),
            "demo": options.demo,
            "mayor": options.mayor,
            "verify_url": options.verify_url,
            "min_app_version": options.min_app_version,
        }
    )


def build_service(
    config: IssuanceConfig, data_dir: Path, catalog: Catalog
) -> tuple[IssuanceService, dict[str, Ed25519PublicKey]]:
    """The issuance service (store and registry under `data_dir`) and the accepted control keys by key id."""
    data_dir.mkdir(parents=True, exist_ok=True)
    registry = SqliteRegistry(config.registry or data_dir / "registry.sqlite")
    if config.demo:
        cas, crl = _demo_material(data_dir, registry)
    else:
        assert config.crl is not None  # IssuanceConfig requires it without demo
        cas, crl = load_certificates(tuple(config.jpki_ca)), config.crl
    settings = IssuanceSettings(
        catalog=catalog,
        trusted_cas=cas,
        signing_key=_private_key(config.signing_key),
        audit_key=read_secret(config.audit_key, "audit key"),
        mayor=config.mayor,
        verify_url=config.verify_url,
        nonce_ttl_s=float(config.nonce_ttl_s),
        reprint_window_s=float(config.reprint_window_s),
        keep_documents=config.keep_documents,
        min_app_version=config.min_app_version,
    )
    vault = Vault(read_secret(config.document_key, "document key")) if config.document_key else Vault()
    store = IssuanceStore(data_dir / "issuance.sqlite")
    processes = config.render_processes or os.cpu_count() or 1
    service = IssuanceService(
        settings, store, registry, CrlFileChecker(crl), vault, render_pool=render_pool(processes)
    )
    keys = {key_id(k): k for k in (_public_key(p) for p in config.control_keys)}
    return service, keys


def build_server(options: RunOptions) -> tuple[RpcServer, IssuanceService]:
    """The RPC server and the service, ready to `start()`."""
    if not options.demo and (not options.jpki_cas or options.crl is None):
        raise ConfigError("no JPKI CA certificate or CRL configured", "pass --jpki-ca FILE and --crl FILE")
    catalog = load_catalog(options.catalog) if options.catalog else load_sample_catalog()
    service, keys = build_service(config_of(options), options.data_dir, catalog)
    server = RpcServer(options.broker, issuance_handlers(service), extra=control_subscriber(service, keys))
    return server, service


def serve(options: RunOptions, stop: threading.Event) -> None:
    """Serve until `stop` is set."""
    server, service = build_server(options)
    server.start()
    _logger.info("issuance service running")
    try:
        while not stop.wait(60):
            service.sweep()
    finally:
        server.stop()
