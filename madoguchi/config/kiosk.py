"""Kiosk configuration: one TOML file per kiosk (identity, broker, device URLs, screen, health).

Devices are chosen by URL scheme (see `madoguchi.device_urls`); `simulated_kiosk_config` gives the
embedded all-emulated defaults used by ``kiosk run --simulate`` and the demo.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID
from pydantic import Field, StrictInt, ValidationInfo, field_validator

from madoguchi.config.broker import BrokerConfig
from madoguchi.config.loading import ConfigModel, ConfigPath, load_model, validate_model
from madoguchi.config.problems import ConfigValueError, Issue
from madoguchi.contracts.base import DEVICE_ID_PATTERN, municipality_of
from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES
from madoguchi.device_urls import EXAMPLES, DeviceKind, DeviceUrl, DeviceUrlError, parse_device_url
from madoguchi.errors import ConfigError

__all__ = [
    "HARDWARE_DEVICES",
    "SIMULATED_BRANCH",
    "SIMULATED_DEVICES",
    "DevicesConfig",
    "HealthConfig",
    "KioskConfig",
    "KioskSection",
    "Orientation",
    "QueueKioskConfig",
    "UiConfig",
    "describe_kiosk",
    "identity_common_name",
    "load_kiosk_config",
    "simulated_kiosk_config",
    "starting_kiosk_config",
]

_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_DEVICE_ID_FIX = (
    "use 3-64 characters a-z, 0-9 and '-', in the form jp-<6-digit municipality code>-kNN, e.g. jp-131016-k03"
)

SIMULATED_BRANCH = "本庁舎 (simulated)"
SIMULATED_DEVICES: dict[DeviceKind, str] = {
    DeviceKind.CARD_READER: "emulated://card?persona=valid-adult",
    DeviceKind.RECEIPT_PRINTER: "emulated://printer",
    DeviceKind.A4_PRINTER: "emulated://a4",
    DeviceKind.PAYMENT: "pty-sim://payment",
    DeviceKind.SCANNER: "emulated://scanner",
}
# Starting point for a real kiosk (`kiosk config init`): the reference hardware set-up.
HARDWARE_DEVICES: dict[DeviceKind, str] = {
    DeviceKind.CARD_READER: "pcsc://Virtual PCD 00 00",
    DeviceKind.RECEIPT_PRINTER: "escpos+tcp://127.0.0.1:9100",
    DeviceKind.A4_PRINTER: "cups://Kiosk_A4",
    DeviceKind.PAYMENT: "serial:///dev/kiosk/payment?baud=9600",
    DeviceKind.SCANNER: "serial:///dev/kiosk/scanner?baud=9600",
}
_IDENTITY_FILES = {
    "ca_file": "/data/identity/ca.pem",
    "cert_file": "/data/identity/cert.pem",
    "key_file": "/data/identity/key.pem",
}


class Orientation(enum.StrEnum):
    """How the touch screen is mounted."""

    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"

    @property
    def size(self) -> tuple[int, int]:
        """Window size in pixels (width, height) for this orientation."""
        return (1080, 1920) if self is Orientation.PORTRAIT else (1280, 800)


class KioskSection(ConfigModel):
    """Who this kiosk is and where it keeps its state."""

    device_id: str = Field(
        description="device id: jp-<6-digit municipality code>-kNN; the certificate's CN must match",
        examples=["jp-131016-k03"],
    )
    branch: str = Field(description="branch office name shown to operators", examples=["本庁舎"])
    data_dir: ConfigPath = Field(
        description="journals, outbox, epoch counter and catalog are kept here", examples=["/data/kiosk"]
    )
    issuance_key: ConfigPath | None = Field(
        default=None,
        description=(
            "the city's certificate-issuance public key (PEM): every document is checked against it before "
            "printing; without it the kiosk offers no certificates (default: <data_dir>/trust/issuance.pub "
            "when that file exists)"
        ),
        examples=["/data/identity/issuance.pub"],
    )

    @field_validator("device_id")
    @classmethod
    def _check_device_id(cls, value: str) -> str:
        if _DEVICE_ID.fullmatch(value):
            return value
        lowered = value.strip().lower()
        hint = f"did you mean {lowered!r}? " if lowered != value and _DEVICE_ID.fullmatch(lowered) else ""
        raise ConfigValueError(Issue("not a valid device id", hint + _DEVICE_ID_FIX))

    @field_validator("branch")
    @classmethod
    def _check_branch(cls, value: str) -> str:
        if not value.strip():
            raise ConfigValueError(
                Issue("the branch name is empty", 'write the office name, e.g. branch = "本庁舎"')
            )
        return value


class DevicesConfig(ConfigModel):
    """Which implementation drives each device, chosen by URL scheme."""

    card_reader: str = Field(
        description="My Number card reader: pcsc://<reader name> or emulated://card?persona=valid-adult",
        examples=["pcsc://Virtual PCD 00 00"],
    )
    receipt_printer: str = Field(
        description="receipt printer: escpos+tcp://host:9100, escpos+usb://vvvv:pppp, escpos+serial:///dev/x?baud=N",
        examples=["escpos+tcp://127.0.0.1:9100"],
    )
    a4_printer: str = Field(description="A4 printer: cups://<queue name>", examples=["cups://Kiosk_A4"])
    payment: str = Field(
        description="payment terminal: serial:///dev/x?baud=N or pty-sim://payment",
        examples=["serial:///dev/kiosk/payment?baud=9600"],
    )
    scanner: str = Field(
        description="QR/barcode scanner: serial:///dev/x?baud=N or emulated://scanner",
        examples=["serial:///dev/kiosk/scanner?baud=9600"],
    )

    @field_validator("card_reader", "receipt_printer", "a4_printer", "payment", "scanner")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        kind = DeviceKind(str(info.field_name))
        try:
            parse_device_url(kind, value)
        except DeviceUrlError as exc:
            raise ConfigValueError(
                Issue(str(exc), f"set a {kind.value} URL such as {EXAMPLES[kind]}")
            ) from None
        return value

    def url(self, kind: DeviceKind) -> DeviceUrl:
        """The parsed URL of the device in slot `kind`."""
        return parse_device_url(kind, str(getattr(self, kind.value)))


class UiConfig(ConfigModel):
    """The resident-facing screen."""

    language: str = Field(
        DEFAULT_LANGUAGE, description=f"default language, one of {', '.join(LANGUAGES)}", examples=["ja"]
    )
    orientation: Orientation = Field(
        Orientation.PORTRAIT,
        description="portrait (1080x1920) or landscape (1280x800)",
        examples=["portrait"],
    )
    idle_timeout_s: StrictInt = Field(
        60, ge=10, le=600, description="seconds without a touch before a session is abandoned (10..600)"
    )

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        if value in LANGUAGES:
            return value
        raise ConfigValueError(Issue("language not supported", f"use one of {', '.join(LANGUAGES)}"))


class HealthConfig(ConfigModel):
    """Health reporting to the centre."""

    interval_s: StrictInt = Field(
        60, ge=10, le=3600, description="seconds between health messages (10..3600)"
    )


class UpdatesConfig(ConfigModel):
    """App releases named by the centre in `down/desired`: downloaded, verified, installed side by side."""

    releases_dir: ConfigPath | None = Field(
        None,
        description="side-by-side releases (`kiosk update --data-dir` + /releases); default <data_dir>/releases",
        examples=["/data/releases"],
    )
    release_keys: ConfigPath = Field(
        Path("/etc/madoguchi/release-keys"),
        description="folder (or one .pub file) of the release public keys this kiosk trusts; baked into the image",
        examples=["/etc/madoguchi/release-keys"],
    )
    apply_command: list[str] = Field(
        default_factory=list,
        description=(
            "command started (detached) once a verified bundle waits in <data_dir>/releases/pending.json; "
            "empty on the image, where the kiosk-update.path unit starts `kiosk update apply-pending`"
        ),
        examples=[["kiosk", "update", "apply-pending", "--data-dir", "/data"]],
    )
    retry_s: StrictInt = Field(
        300, ge=5, le=86_400, description="seconds before a failed download is tried again (5..86400)"
    )


class QueueKioskConfig(ConfigModel):
    """整理券 (visit numbers, docs/queue.md): what the kiosk needs to issue numbers while the centre is unreachable."""

    opening_time: str = Field(
        "08:30",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="the branch's opening time (JST, HH:MM): an offline business day starts here until the "
        "central pushes its own with the congestion lamps (then the central's is used)",
        examples=["08:30"],
    )
    status_url_base: str = Field(
        "",
        max_length=400,
        description=(
            "status page address the token is appended to, for tickets issued offline before any online "
            "ticket told the kiosk (empty: learnt from the first online ticket)"
        ),
        examples=["https://madoguchi.example.jp/q/s/"],
    )


class KioskConfig(ConfigModel):
    """Everything a kiosk needs: ``[kiosk]``, ``[broker]``, ``[devices]``, ``[ui]``, ``[health]``, ``[updates]``."""

    kiosk: KioskSection = Field(description="identity of this kiosk")
    broker: BrokerConfig = Field(description="MQTT broker and this kiosk's TLS identity")
    devices: DevicesConfig = Field(description="device URLs; the scheme picks the driver")
    ui: UiConfig = Field(default_factory=UiConfig, description="the resident-facing screen")
    health: HealthConfig = Field(default_factory=HealthConfig, description="health reporting")
    updates: UpdatesConfig = Field(default_factory=UpdatesConfig, description="app release updates")
    queue: QueueKioskConfig = Field(default_factory=QueueKioskConfig, description="整理券 issuing")

    @property
    def device_id(self) -> str:
        """This kiosk's device id."""
        return self.kiosk.device_id

    @property
    def municipality(self) -> str | None:
        """The 6-digit municipality code inside the device id, or None when the id has another form."""
        return municipality_of(self.kiosk.device_id)


def load_kiosk_config(path: Path, *, check_files: bool = True) -> KioskConfig:
    """Load a kiosk TOML file.

    Args:
        path: the file; relative paths in it resolve against its folder.
        check_files: also require the TLS files it names to exist.

    Raises:
        ConfigFileError: (a `ConfigError`) listing every problem, each with key, value and fix.
    """
    hint = "check the path, or write a starting file with `kiosk config init --out FILE`"
    return load_model(KioskConfig, Path(path), check_files=check_files, create_hint=hint)


def simulated_kiosk_config(
    data_dir: Path,
    broker_url: str,
    device_id: str = "jp-999999-k01",
    *,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> KioskConfig:
    """The embedded defaults of ``kiosk run --simulate`` and the demo: every device emulated.

    With an ``mqtts://`` broker, `ca_file`, `cert_file` and `key_file` are an enrolled kiosk's
    identity; the certificate's CN must be `device_id` (the fleet broker logs a client in as its CN).

    Raises:
        ConfigFileError: `broker_url` or `device_id` is not usable, or an identity file is missing.
        ConfigError: the certificate is not for `device_id`, or cannot be read with that key.
    """
    if cert_file is not None and Path(cert_file).is_file():
        cn = identity_common_name(Path(cert_file), Path(key_file) if key_file is not None else None)
        if cn != device_id:
            raise ConfigError(
                f"the certificate {cert_file} is for {cn} (its CN), not for device id {device_id}",
                f"use device id {cn}, or the identity files enrolled for {device_id}",
            )
    broker: dict[str, object] = {"url": broker_url}
    for name, value in (("ca_file", ca_file), ("cert_file", cert_file), ("key_file", key_file)):
        if value is not None:
            broker[name] = str(value)
    data = {
        "kiosk": {
            "device_id": device_id,
            "branch": SIMULATED_BRANCH,
            "data_dir": str(Path(data_dir).absolute()),
        },
        "broker": broker,
        "devices": {kind.value: url for kind, url in SIMULATED_DEVICES.items()},
    }
    return validate_model(KioskConfig, data, source="simulated defaults")


def identity_common_name(
    cert_file: Path, key_file: Path | None = None, *, ca_file: Path | None = None
) -> str:
    """The CN (device id) of the first certificate in a PEM file; with `key_file`, also check it is that
    certificate's (unencrypted PEM) private key; with `ca_file`, that it holds PEM certificates.

    Raises:
        ConfigError: a file cannot be read, is not PEM, the certificate has no CN, or the key is another.
    """
    if ca_file is not None:
        try:
            x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read a PEM CA certificate from {ca_file}: {exc}",
                "pass the fleet CA certificate written at enrolment (e.g. /data/identity/ca.pem)",
            ) from None
    try:
        cert = x509.load_pem_x509_certificates(Path(cert_file).read_bytes())[0]
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read a PEM certificate from {cert_file}: {exc}",
            "pass the device certificate written at enrolment (e.g. /data/identity/cert.pem)",
        ) from None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise ConfigError(
            f"the certificate {cert_file} has no CN", "pass a device certificate (its CN is the device id)"
        )
    cn = names[0].value
    cn = cn.decode() if isinstance(cn, bytes) else cn
    if key_file is not None:
        try:
            key = load_pem_private_key(Path(key_file).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"cannot read an unencrypted PEM private key from {key_file}: {exc}",
                "pass the key written at enrolment (e.g. /data/identity/key.pem)",
            ) from None
        if key.public_key() != cert.public_key():
            raise ConfigError(
                f"the key {key_file} is not the key of the certificate {cert_file}",
                "pass the key and certificate of the same enrolment",
            )
    return cn


def starting_kiosk_config(
    device_id: str,
    branch: str,
    broker_url: str,
    data_dir: Path = Path("/data/kiosk"),
    *,
    simulated: bool = False,
) -> KioskConfig:
    """A starting configuration for a new kiosk (`kiosk config init`).

    Hardware device URLs of the reference set-up (emulated ones when `simulated`); for an
    ``mqtts://`` broker the identity files enrolment writes under /data/identity. Files are
    not required to exist yet.

    Raises:
        ConfigFileError: an argument is not usable (named by its key, e.g. ``kiosk.device_id``).
    """
    devices = SIMULATED_DEVICES if simulated else HARDWARE_DEVICES
    broker: dict[str, object] = {"url": broker_url}
    if broker_url.strip().lower().startswith("mqtts://"):
        broker.update(_IDENTITY_FILES)
    data = {
        "kiosk": {"device_id": device_id, "branch": branch, "data_dir": str(data_dir)},
        "broker": broker,
        "devices": {kind.value: url for kind, url in devices.items()},
    }
    return validate_model(KioskConfig, data, source="the options given")


def describe_kiosk(config: KioskConfig) -> str:
    """A summary of the effective configuration for a person (no secrets are in it)."""
    b, ui = config.broker, config.ui
    width, height = ui.orientation.size
    rows = [
        ("device_id", f"{config.device_id} (municipality {config.municipality or 'unknown'})"),
        ("branch", config.kiosk.branch),
        ("data_dir", str(config.kiosk.data_dir)),
        (
            "broker",
            f"{b.host}:{b.port} {'TLS' if b.tls else 'plaintext (loopback)'}, keepalive {b.keepalive} s",
        ),
    ]
    if b.tls:
        rows.append(("tls files", f"ca {b.ca_file}, cert {b.cert_file}, key {b.key_file}"))
    for kind in DeviceKind:
        url = config.devices.url(kind)
        rows.append((kind.value, f"{url.scheme}  {url.target}" + (f"  {url.params}" if url.params else "")))
    rows.append(
        ("ui", f"language {ui.language}, {ui.orientation.value} {width}x{height}, idle {ui.idle_timeout_s} s")
    )
    rows.append(("health", f"every {config.health.interval_s} s"))
    return "\n".join(f"{label:<16}{text}" for label, text in rows)
