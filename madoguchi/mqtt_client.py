"""Build paho-mqtt 2.x clients (MQTT 5, callback API v2) from a `[broker]` config section.

Shared by the kiosk agent and the central services so that both connect the same way.
"""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from madoguchi.config.broker import BrokerConfig

__all__ = ["SESSION_EXPIRY_S", "connect_properties", "make_client", "reason_text"]

_logger = logging.getLogger(__name__)

SESSION_EXPIRY_S = 604_800  # 7 days = broker persistent_client_expiration (contract §4.8)


def make_client(client_id: str, broker: BrokerConfig, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client for `broker`: MQTT 5, callback API v2, TLS for mqtts:// with the config's files."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if broker.tls:
        client.tls_set(
            ca_certs=str(broker.ca_file),
            certfile=str(broker.cert_file),
            keyfile=str(broker.key_file),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    paho_logger = logging.getLogger(f"{__name__}.paho")
    if not any(isinstance(f, _QuietRetries) for f in paho_logger.filters):
        paho_logger.addFilter(_QuietRetries())
    client.enable_logger(paho_logger)
    client.on_socket_open = _no_delay
    return client


def _no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Send small MQTT packets at once: without TCP_NODELAY each request/reply leg waits ~40 ms
    (Nagle's algorithm against the peer's delayed ACK)."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _QuietRetries(logging.Filter):
    """Paho reports each loop pass without a socket as an error while it retries; that is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith("Client is not connected"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def connect_properties(session_expiry_s: int | None) -> Properties | None:
    """CONNECT properties: a session expiry interval, or None for a session that ends with the connection."""
    if not session_expiry_s:
        return None
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry_s
    return props


def reason_text(reason_code: Any) -> str:
    """Readable form of a paho reason code (ReasonCode or int)."""
    name = getattr(reason_code, "getName", None)
    return str(name()) if callable(name) else str(reason_code)
