"""The `[broker]` section shared by kiosk and central: MQTT broker URL and the TLS identity files.

``mqtts://`` needs the CA certificate, the device (or service) certificate and its key; plaintext
``mqtt://`` is refused unless the broker is on this machine (loopback).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, StrictInt, ValidationInfo, field_validator

from madoguchi.config.loading import ConfigModel, ExistingFile
from madoguchi.config.problems import MISSING, ConfigValueError, Issue

__all__ = ["DEFAULT_PORTS", "BrokerConfig", "is_loopback"]

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
_EXAMPLE_URL = "mqtts://broker.city.example:8883"
_PLAINTEXT_REFUSED = "plaintext MQTT is only allowed on loopback"
_TLS_FILES = {
    "ca_file": ("the CA certificate that signed the broker's certificate", "/data/identity/ca.pem"),
    "cert_file": ("this machine's certificate", "/data/identity/cert.pem"),
    "key_file": ("the private key of that certificate", "/data/identity/key.pem"),
}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BrokerConfig(ConfigModel):
    """How to reach the MQTT broker."""

    url: str = Field(
        description="MQTT broker: mqtts://host:8883 with the certificate files below; mqtt:// only to 127.0.0.1",
        examples=[_EXAMPLE_URL],
    )
    ca_file: ExistingFile | None = Field(
        None,
        validate_default=True,
        description="CA certificate (PEM) of the private CA; required for mqtts",
        examples=["/data/identity/ca.pem"],
    )
    cert_file: ExistingFile | None = Field(
        None,
        validate_default=True,
        description="certificate (PEM) of this device or service; required for mqtts",
        examples=["/data/identity/cert.pem"],
    )
    key_file: ExistingFile | None = Field(
        None,
        validate_default=True,
        description="private key (PEM) of that certificate; required for mqtts",
        examples=["/data/identity/key.pem"],
    )
    keepalive: StrictInt = Field(30, ge=5, le=300, description="MQTT keepalive in seconds (5..300)")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ConfigValueError(
                Issue("not an MQTT broker URL (mqtts:// or mqtt://)", f"write e.g. url = {_EXAMPLE_URL!r}")
            )
        if parts.username is not None or parts.password is not None:
            raise ConfigValueError(
                Issue(
                    "user name or password in the URL",
                    "remove user:password@; machines log in with their certificate",
                )
            )
        if not parts.hostname:
            raise ConfigValueError(Issue("the URL names no host", f"write e.g. url = {_EXAMPLE_URL!r}"))
        try:
            _ = parts.port
        except ValueError:
            raise ConfigValueError(
                Issue("the port is not a number from 1 to 65535", f"write e.g. url = {_EXAMPLE_URL!r}")
            ) from None
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigValueError(
                Issue(
                    "a broker URL has no path or query", f"keep only scheme://host:port, e.g. {_EXAMPLE_URL}"
                )
            )
        if scheme == "mqtt" and not is_loopback(parts.hostname):
            raise ConfigValueError(
                Issue(
                    _PLAINTEXT_REFUSED,
                    "use mqtts:// with the device certificate (ca_file, cert_file, key_file)",
                )
            )
        return url.strip()

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _tls_needs_files(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # Fields validate in order, so a valid `url` is in info.data here; defaults are validated too.
        url = info.data.get("url")
        if value is None and isinstance(url, str) and urlsplit(url).scheme.lower() == "mqtts":
            what, example = _TLS_FILES[str(info.field_name)]
            raise ConfigValueError(
                Issue(
                    f"mqtts needs {what}",
                    f'add {info.field_name} = "{example}" under [broker]',
                    value=MISSING,
                )
            )
        return value

    @property
    def tls(self) -> bool:
        """True for ``mqtts://``."""
        return urlsplit(self.url).scheme.lower() == "mqtts"

    @property
    def host(self) -> str:
        """The broker's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The broker's port (1883 for mqtt://, 8883 for mqtts:// when not written)."""
        parts = urlsplit(self.url)
        return parts.port or DEFAULT_PORTS[parts.scheme.lower()]
