"""The production Mosquitto configuration (contract §6): mTLS for kiosks, a service listener, ACLs.

`write_fleet_config(out, files)` writes into `out`:

- `mosquitto.conf` with `per_listener_settings true` and
  - the **device listener** (default 8883): `cafile` = device CA chain (device CA + root, the
    only CA whose leaves can log in there), `require_certificate`, `use_identity_as_username`,
    `use_username_as_clientid`, `crlfile` = device CA CRL, `tls_version tlsv1.2`, no anonymous
    access, `acl_file acl-devices.conf`;
  - the **service listener** (default 8884): service CA chain and CRL, certificate CN as user
    name (`svc-ingest`, `svc-catalog`, `svc-rpc`; client ids stay free so several ingest workers
    can connect), `acl_file acl-services.conf`;
  - optionally (`loopback_port`, development) a **loopback** plaintext listener on 127.0.0.1,
    anonymous and read-only (`acl-loopback.conf`: `topic read kiosk/v1/#`): a local process can
    watch the fleet but cannot forge fleet documents or impersonate kiosks; services publish
    only through the service listener with their own certificates;
- `acl-devices.conf`: a `topic deny #` block per revoked device first, then the device patterns;
- `acl-services.conf`: one `user` block per service;
- `tls/`: copies of the CA chains, CRLs and the broker's certificate and key, readable by the
  `mosquitto` user (Mosquitto drops root before it loads them).

Revocation (`revoke_device`): add the deny block, copy the CRLs (`install_crls`), SIGHUP: Mosquitto
2.0.11 re-reads the ACL file and the CRL files on SIGHUP (tested; the reference's "CRL only at start"
does not hold for 2.0.11). The daily CRL refresh (`kiosk-central ca crl --broker-dir`) installs the
new CRLs the same way.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from central_broker.broker import DEFAULT_MAX_PACKET_SIZE, LOOPBACK, BrokerError, MosquittoBroker, free_port
from central_broker.pki.x509 import check_name
from madoguchi.contracts.topics import PREFIX

__all__ = [
    "DEVICE_PORT",
    "SERVICES",
    "SERVICE_PORT",
    "FleetBroker",
    "FleetTlsFiles",
    "broker_crls",
    "device_acl",
    "install_crls",
    "read_revoked",
    "revoke_device",
    "service_acl",
    "write_fleet_config",
]

_logger = logging.getLogger(__name__)

DEVICE_PORT = 8883
SERVICE_PORT = 8884
SERVICES: dict[str, tuple[tuple[str, str], ...]] = {
    "svc-ingest": (
        ("read", f"{PREFIX}/d/+/up/#"),
        ("write", f"{PREFIX}/d/+/down/ack"),
        ("readwrite", f"{PREFIX}/fleet/host/state"),
    ),
    "svc-catalog": (
        ("write", f"{PREFIX}/d/+/down/desired"),
        ("write", f"{PREFIX}/d/+/down/cmd"),
        ("write", f"{PREFIX}/d/+/down/queue"),  # the visit queue's retained congestion lamps (docs/queue.md)
        ("readwrite", f"{PREFIX}/fleet/catalog/#"),
        ("readwrite", f"{PREFIX}/fleet/keys"),
        ("readwrite", f"{PREFIX}/fleet/control"),
    ),
    "svc-rpc": (
        ("read", f"{PREFIX}/d/+/up/rpc"),
        ("write", f"{PREFIX}/d/+/down/rpc"),
        ("read", f"{PREFIX}/fleet/control"),  # issuance refuses sessions the kill switch suspends
    ),
}
_REVOKED_FILE = "revoked-devices.txt"
# Anonymous loopback listener: read only, so a local process cannot forge documents or kiosks.
_LOOPBACK_ACL = f"# Anonymous, read-only: watch the fleet; publish over mTLS.\ntopic read {PREFIX}/#\n"


@dataclass(frozen=True)
class FleetTlsFiles:
    """Where the PKI keeps what the broker needs (see `central_broker.pki`)."""

    device_chain: Path
    device_crl: Path
    service_chain: Path
    service_crl: Path
    broker_chain: Path
    broker_key: Path

    @classmethod
    def from_pki(cls, pki_dir: Path, broker_name: str = "broker") -> FleetTlsFiles:
        """The files of a PKI folder made by `kiosk-central ca init` + `ca issue-service broker`."""
        files = cls(
            device_chain=pki_dir / "device-ca" / "chain.pem",
            device_crl=pki_dir / "device-ca" / "crl.pem",
            service_chain=pki_dir / "service-ca" / "chain.pem",
            service_crl=pki_dir / "service-ca" / "crl.pem",
            broker_chain=pki_dir / "services" / broker_name / "chain.pem",
            broker_key=pki_dir / "services" / broker_name / "key.pem",
        )
        missing = [str(p) for p in files.__dict__.values() if not p.is_file()]
        if missing:
            raise BrokerError(
                f"the PKI folder lacks {', '.join(missing)}",
                f"run `kiosk-central ca init --dir {pki_dir}` and "
                f"`kiosk-central ca issue-service {broker_name} --host <broker host>` first",
            )
        return files


def device_acl(revoked: list[str]) -> str:
    """The device listener's ACL: deny blocks for revoked devices, then the per-device patterns."""
    lines = ["# Madoguchi devices (contract §6). Revoked devices first: deny wins over the patterns."]
    for device_id in revoked:
        lines += [f"user {device_id}", "topic deny #"]
    lines += [
        "",
        "# Every device: only its own subtree, plus the fleet documents (read).",
        f"pattern write {PREFIX}/d/%u/up/#",
        f"pattern read {PREFIX}/d/%u/down/#",
        f"pattern read {PREFIX}/fleet/#",
    ]
    return "\n".join(lines) + "\n"


def service_acl() -> str:
    """The service listener's ACL: one block per central service, nothing for anyone else."""
    lines = ["# Madoguchi central services (contract §6)."]
    for user, grants in SERVICES.items():
        lines.append(f"user {user}")
        lines += [f"topic {access} {topic}" for access, topic in grants]
    return "\n".join(lines) + "\n"


def read_revoked(out: Path) -> list[str]:
    """Device ids denied in `out` (one per line in revoked-devices.txt)."""
    path = out / _REVOKED_FILE
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _mosquitto_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("mosquitto")
    except KeyError:
        return None


def _copy(source: Path, target: Path, private: bool = False) -> Path:
    shutil.copyfile(source, target)
    os.chmod(target, 0o600 if private else 0o644)
    account = _mosquitto_account()
    if account is not None:
        os.chown(target, account.pw_uid, account.pw_gid)
    return target.resolve()


def write_fleet_config(
    out: Path,
    files: FleetTlsFiles,
    *,
    device_port: int = DEVICE_PORT,
    service_port: int = SERVICE_PORT,
    bind: str | None = None,
    loopback_port: int | None = None,
    persistence_dir: Path | None = None,
    max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    user: str | None = None,
) -> Path:
    """Write mosquitto.conf, the two ACL files and `tls/` copies into `out`; returns the config path.

    Args:
        out: config folder (created).
        files: CA chains, CRLs, broker certificate and key.
        device_port: mTLS port for kiosks.
        service_port: mTLS port for central services.
        bind: address to listen on (None = all interfaces; tests use 127.0.0.1).
        loopback_port: also an anonymous, read-only plaintext listener on 127.0.0.1 (watching only).
        persistence_dir: keep sessions and retained messages there (production); None = memory.
        max_packet_size: largest MQTT packet accepted.
        user: Mosquitto's `user` option (None = its default, drop to `mosquitto`).
    """
    out.mkdir(parents=True, exist_ok=True)
    tls = out / "tls"
    tls.mkdir(exist_ok=True)
    device_chain = _copy(files.device_chain, tls / "device-ca-chain.pem")
    device_crl = _copy(files.device_crl, tls / "device-ca-crl.pem")
    service_chain = _copy(files.service_chain, tls / "service-ca-chain.pem")
    service_crl = _copy(files.service_crl, tls / "service-ca-crl.pem")
    broker_chain = _copy(files.broker_chain, tls / "broker-chain.pem")
    broker_key = _copy(files.broker_key, tls / "broker-key.pem", private=True)
    (out / "acl-devices.conf").write_text(device_acl(read_revoked(out)), encoding="utf-8")
    (out / "acl-services.conf").write_text(service_acl(), encoding="utf-8")
    address = f" {bind}" if bind else ""
    lines = [
        "# Madoguchi fleet broker (contract §6). Written by `kiosk-central broker config`.",
        "per_listener_settings true",
        "persistent_client_expiration 7d",
        f"max_packet_size {max_packet_size}",
        "set_tcp_nodelay true",  # small request/reply packets go out at once (no Nagle delay)
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
    ]
    if user:
        lines.append(f"user {user}")
    if persistence_dir is None:
        lines.append("persistence false")
    else:
        persistence_dir.mkdir(parents=True, exist_ok=True)
        account = _mosquitto_account()
        if account is not None and user in (None, "mosquitto"):
            # Mosquitto drops root before saving: it must own the folder, or it loses every retained document.
            os.chown(persistence_dir, account.pw_uid, account.pw_gid)
        lines += ["persistence true", f"persistence_location {persistence_dir.resolve()}/"]
    common = [f"certfile {broker_chain}", f"keyfile {broker_key}", "require_certificate true",
              "use_identity_as_username true", "tls_version tlsv1.2", "allow_anonymous false"]  # fmt: skip
    lines += [
        "",
        "# Kiosks: device certificates only; CN = device id = user name = client id.",
        f"listener {device_port}{address}",
        f"cafile {device_chain}",
        f"crlfile {device_crl}",
        *common,
        "use_username_as_clientid true",
        f"acl_file {(out / 'acl-devices.conf').resolve()}",
        "",
        "# Central services: service certificates (CN svc-ingest, svc-catalog, svc-rpc).",
        f"listener {service_port}{address}",
        f"cafile {service_chain}",
        f"crlfile {service_crl}",
        *common,
        f"acl_file {(out / 'acl-services.conf').resolve()}",
    ]
    if loopback_port is not None:
        (out / "acl-loopback.conf").write_text(_LOOPBACK_ACL, encoding="utf-8")
        lines += [
            "",
            "# Plaintext on this host, anonymous and read-only: watch only; services publish over mTLS.",
            f"listener {loopback_port} {LOOPBACK}",
            "allow_anonymous true",
            f"acl_file {(out / 'acl-loopback.conf').resolve()}",
        ]
    path = out / "mosquitto.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def install_crls(out: Path, files: FleetTlsFiles) -> list[Path]:
    """Copy the device and service CAs' current CRLs to the paths `out/mosquitto.conf` names.

    Mosquitto (2.0.11 tested) reads them again on SIGHUP, for the next handshakes; without this copy
    the broker keeps the CRL it was configured with, and once that CRL's nextUpdate passes every
    kiosk's handshake is refused ("certificate verify failed").

    Raises:
        BrokerError: `out` holds no fleet broker configuration.
    """
    tls = out / "tls"
    if not (out / "mosquitto.conf").is_file() or not tls.is_dir():
        raise BrokerError(
            f"{out} holds no fleet broker configuration",
            "give the folder `kiosk-central broker config --pki` wrote",
        )
    return [
        _copy(files.device_crl, tls / "device-ca-crl.pem"),
        _copy(files.service_crl, tls / "service-ca-crl.pem"),
    ]


def broker_crls(out: Path) -> dict[str, Path]:
    """The CRL copies the fleet broker in `out` reads, by CA."""
    return {"device-ca": out / "tls" / "device-ca-crl.pem", "service-ca": out / "tls" / "service-ca-crl.pem"}


def revoke_device(out: Path, device_id: str, files: FleetTlsFiles | None = None) -> list[str]:
    """Deny a device in `out`'s ACL (and install the current CRLs); returns every revoked device id.

    Send SIGHUP to Mosquitto afterwards: the ACL and the CRLs are read again at once, so the device's
    messages stop on its open connection and its next TLS handshake is refused.
    """
    check_name(device_id)
    revoked = read_revoked(out)
    if device_id not in revoked:
        revoked.append(device_id)
        (out / _REVOKED_FILE).write_text("\n".join(revoked) + "\n", encoding="utf-8")
    (out / "acl-devices.conf").write_text(device_acl(revoked), encoding="utf-8")
    if files is not None:
        install_crls(out, files)
    _logger.info("device %s denied in %s", device_id, out)
    return revoked


class FleetBroker(MosquittoBroker):
    """Mosquitto with the production listeners on loopback ports (tests, benchmarks).

    `port` is the device listener; `service_port` the service listener; `loopback_port` the
    read-only plaintext one (when `loopback=True`).
    """

    def __init__(
        self, workdir: Path, files: FleetTlsFiles, *, loopback: bool = False, user: str | None = "root"
    ) -> None:
        super().__init__(workdir)
        self.files = files
        self.service_port = free_port()
        self.loopback_port = free_port() if loopback else None
        self._user = user

    @property
    def url(self) -> str:
        """Device listener URL."""
        return f"mqtts://{self.host}:{self.port}"

    @property
    def service_url(self) -> str:
        """Service listener URL."""
        return f"mqtts://{self.host}:{self.service_port}"

    def write_config(self) -> Path:
        """Write the fleet configuration for the current ports."""
        return write_fleet_config(
            self.workdir,
            self.files,
            device_port=self.port,
            service_port=self.service_port,
            bind=LOOPBACK,
            loopback_port=self.loopback_port,
            user=self._user,
        )
