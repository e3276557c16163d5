"""Scale-out with Mosquitto: an edge node bridged to the hub that the central services use.

Mosquitto has no clustering. Past one machine the fleet runs hub and spoke: kiosks connect to any
node (an edge, or the hub itself); every central service (ingest, catalog push, RPC) connects to the
hub only; each edge runs one bridge to the hub that carries

- `kiosk/v1/d/+/up/#` **out** (edge → hub): state and wills, health, statistics, events, alerts,
  reported, acks, RPC requests (MQTT 5 properties such as `ResponseTopic`, `CorrelationData` and the
  message expiry cross the bridge: Mosquitto 2.0.11, checked by hand);
- `kiosk/v1/d/+/down/#` **in** (hub → edge): desired documents, commands, `down/ack`, RPC replies,
  queue lamps, retained ones included;
- `kiosk/v1/fleet/#` **in**: manifest, keys, kill switch, the ingest's `fleet/host/state`.

The two directions have disjoint topics, so no message loops. The bridge speaks MQTT 5, QoS 1, with a
persistent session on both sides (`cleansession false`): while the link is down the edge queues the
kiosks' QoS 1 messages for the hub (up to `max_queued_messages`) and the hub queues the down messages
for the edge, and both are delivered when the bridge reconnects. Delivery stays at least once; the
ingest's `(device_id, seq)` key drops the duplicates a bridge reconnect can produce.

`bridge_config(link)` returns the configuration lines of one edge's bridge; `append_bridge(path, link)`
adds them to a `mosquitto.conf` written by `write_dev_config` or `broker_fleet.write_fleet_config`. On the
hub, `allow_bridges(out)` adds the `svc-bridge` user block to the service listener's ACL that
`write_fleet_config` wrote (the edges log in there with service-CA certificates, CN `svc-bridge`).
Limits and the move to a clustered engine: docs/fleet-link.md, "Scale-out with bridged Mosquitto nodes".
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from central_broker.broker import LOOPBACK, BrokerError
from madoguchi.contracts.topics import PREFIX

__all__ = [
    "BRIDGE_GRANTS",
    "BRIDGE_USER",
    "DOWN_TOPICS",
    "EDGE_MAX_QUEUED",
    "FLEET_TOPICS",
    "UP_TOPICS",
    "BridgeTls",
    "HubLink",
    "add_bridge",
    "allow_bridges",
    "append_bridge",
    "bridge_config",
    "check_bridge",
    "parse_hub_address",
]

_logger = logging.getLogger(__name__)

UP_TOPICS = f"{PREFIX}/d/+/up/#"
DOWN_TOPICS = f"{PREFIX}/d/+/down/#"
FLEET_TOPICS = f"{PREFIX}/fleet/#"
# Messages the edge holds for the hub while the link is down. Each kiosk has at most one statistics
# batch in flight plus a few state/event/ack messages, so 10 per kiosk with headroom covers an outage.
EDGE_MAX_QUEUED = 100_000
# The hub's service-listener user of every edge bridge (certificate CN from the service CA).
BRIDGE_USER = "svc-bridge"
BRIDGE_GRANTS: tuple[tuple[str, str], ...] = (
    ("write", UP_TOPICS),  # may publish as any kiosk: its key stays on the edges
    ("read", DOWN_TOPICS),
    ("read", FLEET_TOPICS),
    ("write", "$SYS/broker/connection/+/state"),  # the bridge's own 1/0 notification and will
)
_NAME_RE = re.compile(r"^[a-z0-9-]{1,48}$")


@dataclass(frozen=True)
class BridgeTls:
    """mTLS from the edge's bridge to the hub's service listener.

    Attributes:
        cafile: chain of the CA that signed the hub's broker certificate.
        certfile: the edge's client certificate chain (service CA; its CN needs an ACL block on the hub).
        keyfile: its private key.
    """

    cafile: Path
    certfile: Path
    keyfile: Path


@dataclass(frozen=True)
class HubLink:
    """One edge node's bridge to the hub.

    Attributes:
        name: the edge's name (`[a-z0-9-]`, e.g. `edge-b`); the hub sees the client id
            `madoguchi-bridge-<name>`, which keeps the bridge's session there across reconnects.
        host: the hub's address.
        port: the hub's listener for the bridge (the service listener in production).
        tls: mTLS files; None only for a hub on loopback (development, tests).
        restart_timeout: reconnect back-off, first and largest delay in seconds; equal values give a
            fixed delay (written as one value: with `restart_timeout 1 1` one test run saw 2.0.11 make
            no attempt for 22 s).
        keepalive_s: MQTT keepalive of the bridge connection.
        max_queued: messages the edge holds for the hub (and for each kiosk) while they are away.
    """

    name: str
    host: str
    port: int
    tls: BridgeTls | None = None
    restart_timeout: tuple[int, int] = (2, 30)
    keepalive_s: int = 30
    max_queued: int = EDGE_MAX_QUEUED

    @property
    def client_id(self) -> str:
        """The bridge's client id on the hub."""
        return f"madoguchi-bridge-{self.name}"


def parse_hub_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` → (host, port).

    Raises:
        BrokerError: the text is not `HOST:PORT` with a TCP port.
    """
    host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BrokerError(
            f"hub address {text!r} is not HOST:PORT", "give the hub's address, e.g. hub.example.lg.jp:8884"
        )
    return host.strip("[]"), int(port_text)


def _check(link: HubLink) -> None:
    if not _NAME_RE.match(link.name):
        raise BrokerError(
            f"bridge name {link.name!r} must be 1-48 characters of a-z, 0-9 and '-'",
            "e.g. --bridge-name edge-b",
        )
    if not 0 < link.port < 65536:
        raise BrokerError(f"hub port {link.port} is not a TCP port", "use a number from 1 to 65535")
    first, largest = link.restart_timeout
    if not 0 < first <= largest:
        raise BrokerError(
            f"restart timeout {first}/{largest} must be positive and rising", "e.g. 2 and 30 seconds"
        )
    if link.tls is not None:
        missing = [str(p) for p in (link.tls.cafile, link.tls.certfile, link.tls.keyfile) if not p.is_file()]
        if missing:
            raise BrokerError(
                f"the bridge's TLS files are missing: {', '.join(missing)}",
                "issue the edge's service certificate first (`kiosk-central ca issue-service`)",
            )


def bridge_config(link: HubLink) -> tuple[str, ...]:
    """The `mosquitto.conf` lines of the edge's bridge to the hub (append after the listeners)."""
    _check(link)
    first, largest = link.restart_timeout
    lines = [
        "",
        "# Bridge to the hub (docs/fleet-link.md, scale-out): kiosk up-topics out, down and fleet in.",
        f"max_queued_messages {link.max_queued}",
        f"connection {link.name}",
        f"address {link.host}:{link.port}",
        f"remote_clientid {link.client_id}",
        "bridge_protocol_version mqttv50",
        "cleansession false",
        "local_cleansession false",
        "try_private true",
        "notifications true",
        f"keepalive_interval {link.keepalive_s}",
        f"restart_timeout {first} {largest}" if largest > first else f"restart_timeout {first}",
        "start_type automatic",
        f"topic {UP_TOPICS} out 1",
        f"topic {DOWN_TOPICS} in 1",
        f"topic {FLEET_TOPICS} in 1",
    ]
    if link.tls is not None:
        lines += [
            f"bridge_cafile {link.tls.cafile.resolve()}",
            f"bridge_certfile {link.tls.certfile.resolve()}",
            f"bridge_keyfile {link.tls.keyfile.resolve()}",
            "bridge_tls_version tlsv1.2",
            "bridge_insecure false",
        ]
    return tuple(lines)


def append_bridge(config_path: Path, link: HubLink) -> Path:
    """Append `link`'s bridge to an existing `mosquitto.conf`; returns the path.

    Raises:
        BrokerError: the file does not exist or already has a bridge of that name.
    """
    if not config_path.is_file():
        raise BrokerError(f"{config_path} does not exist", "write the broker configuration first")
    text = config_path.read_text(encoding="utf-8")
    if re.search(rf"^connection {re.escape(link.name)}$", text, flags=re.MULTILINE):
        raise BrokerError(
            f"{config_path} already bridges as {link.name!r}",
            "write the configuration again, then add the bridge",
        )
    config_path.write_text(text.rstrip("\n") + "\n" + "\n".join(bridge_config(link)) + "\n", encoding="utf-8")
    _logger.info("bridge %s to %s:%d added to %s", link.name, link.host, link.port, config_path)
    return config_path


def allow_bridges(out: Path) -> Path:
    """Let edge bridges (CN `svc-bridge`) in through the hub's service listener: add their ACL block.

    Call after `broker_fleet.write_fleet_config(out, …)` (which writes `acl-services.conf` afresh), then
    start Mosquitto or send it SIGHUP. Returns the ACL file.

    Raises:
        BrokerError: `out` holds no fleet broker configuration.
    """
    acl = out / "acl-services.conf"
    if not acl.is_file():
        raise BrokerError(
            f"{out} holds no fleet broker configuration", "run `kiosk-central broker config --pki ...` first"
        )
    text = acl.read_text(encoding="utf-8")
    if f"\nuser {BRIDGE_USER}\n" in f"\n{text}":
        return acl
    block = ["# Edge brokers' bridges (docs/fleet-link.md, scale-out).", f"user {BRIDGE_USER}"]
    block += [f"topic {access} {topic}" for access, topic in BRIDGE_GRANTS]
    acl.write_text(text.rstrip("\n") + "\n" + "\n".join(block) + "\n", encoding="utf-8")
    return acl


def _install(source: Path, target: Path, *, private: bool = False) -> Path:
    """Copy a TLS file next to the config, readable by the `mosquitto` user (Mosquitto drops root)."""
    if not source.is_file():
        raise BrokerError(
            f"{source} is missing", f"run `kiosk-central ca issue-service {BRIDGE_USER}` on the PKI first"
        )
    shutil.copyfile(source, target)
    os.chmod(target, 0o600 if private else 0o644)
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("mosquitto")
        except KeyError:
            return target.resolve()
        os.chown(target, account.pw_uid, account.pw_gid)
    return target.resolve()


def check_bridge(hub: str, name: str, *, tls: bool) -> None:
    """Refuse a bad hub address or edge name, or plaintext off loopback, before anything is written.

    Raises:
        BrokerError: what is wrong and what to give instead.
    """
    host, port = parse_hub_address(hub)
    _check(HubLink(name, host, port))
    if not tls and host not in (LOOPBACK, "localhost"):
        raise BrokerError(
            f"a plaintext bridge to {host} would carry the fleet's messages unencrypted",
            "give --pki (mTLS with the svc-bridge certificate), or bridge to a hub on 127.0.0.1",
        )


def add_bridge(out: Path, hub: str, name: str, pki_dir: Path | None) -> HubLink:
    """Bridge the broker configured in `out` to the hub at `hub` (`HOST:PORT`); returns the link.

    With `pki_dir` the bridge uses mTLS: it trusts the PKI's root and presents `services/svc-bridge/`
    (copied to `out/tls/`). Without it the bridge is plaintext, allowed only to a hub on 127.0.0.1.

    Raises:
        BrokerError: bad address or name, a plaintext hub off loopback, or missing files.
    """
    check_bridge(hub, name, tls=pki_dir is not None)
    host, port = parse_hub_address(hub)
    tls: BridgeTls | None = None
    if pki_dir is not None:
        folder = out / "tls"
        folder.mkdir(parents=True, exist_ok=True)
        service = pki_dir / "services" / BRIDGE_USER
        tls = BridgeTls(
            cafile=_install(pki_dir / "root" / "root.pem", folder / "bridge-ca.pem"),
            certfile=_install(service / "chain.pem", folder / "bridge-chain.pem"),
            keyfile=_install(service / "key.pem", folder / "bridge-key.pem", private=True),
        )
    link = HubLink(name, host, port, tls=tls)
    append_bridge(out / "mosquitto.conf", link)
    return link
