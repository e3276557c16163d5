"""`kiosk-central broker`: write the production Mosquitto configuration, revoke devices, or write /
run the loopback development broker.

`broker config --out DIR --pki PKI` writes the fleet configuration (mTLS device and service
listeners, ACLs; contract §6, `central_broker.broker_fleet`); without `--pki` it writes the
plaintext development listener on 127.0.0.1 used by the demo and tests. `broker revoke` adds a
device's deny block and SIGHUPs Mosquitto; with `--config`/`--store` it also marks the device
REVOKED in the central store, so the fleet view shows it revoked at once (not online until stale).
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
from pathlib import Path

from central_broker.broker import DEFAULT_MAX_PACKET_SIZE, MosquittoBroker, write_dev_config
from central_broker.broker_bridge import add_bridge, allow_bridges, check_bridge
from central_broker.broker_fleet import (
    DEVICE_PORT,
    SERVICE_PORT,
    FleetTlsFiles,
    read_revoked,
    revoke_device,
    write_fleet_config,
)
from central_broker.pki import Pki
from central_broker.store import open_store
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.central import load_central_config
from madoguchi.errors import UserError
from madoguchi.signals import stop_on_signals

__all__ = ["register"]

_DEV_NOTE = (
    "Without --pki this is the development listener: plaintext MQTT on 127.0.0.1 only, anonymous "
    "clients. With --pki DIR it is the fleet broker: mTLS device listener (certificate CN = user "
    "name = client id), mTLS service listener, ACL files, CRLs (contract §6)."
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1..65535)")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `broker config` and `broker run`."""
    sub = group(
        subparsers, "broker", "Mosquitto: write the fleet (mTLS + ACL) or development config, revoke, run"
    )
    config = sub.add_parser(
        "config",
        help="write mosquitto.conf: the fleet broker (--pki) or the loopback development listener",
        description="Write mosquitto.conf (and, with --pki, the ACL files and TLS copies). " + _DEV_NOTE,
    )
    config.add_argument("--out", type=Path, required=True, help="folder to write mosquitto.conf into")
    config.add_argument(
        "--pki", type=Path, help="PKI folder (kiosk-central ca init); writes the fleet (mTLS) configuration"
    )
    config.add_argument(
        "--port",
        type=_port,
        help=f"device listener port (default {DEVICE_PORT} with --pki, else 1883 on 127.0.0.1)",
    )
    config.add_argument(
        "--service-port",
        type=_port,
        default=SERVICE_PORT,
        help=f"with --pki: service listener (default {SERVICE_PORT})",
    )
    config.add_argument("--bind", help="with --pki: address to listen on (default all interfaces)")
    config.add_argument(
        "--loopback-port",
        type=_port,
        help="with --pki: also an anonymous plaintext listener on 127.0.0.1, read-only on kiosk/v1/# "
        "(watching, development); off by default; services publish over the mTLS service listener",
    )
    config.add_argument(
        "--persist",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep sessions and retained messages in OUT/persistence/ (default: on with --pki, off without)",
    )
    config.add_argument(
        "--bridge-to",
        metavar="HOST:PORT",
        help="scale-out edge: bridge kiosk up-topics to this hub and its down/fleet topics back "
        "(with --pki: mTLS to the hub's service listener as svc-bridge); needs --bridge-name",
    )
    config.add_argument("--bridge-name", help="with --bridge-to: this edge's name, e.g. edge-b")
    config.add_argument(
        "--accept-bridges",
        action="store_true",
        help="with --pki: the hub; let edge bridges (certificate CN svc-bridge) in on the service listener",
    )
    add_json_flag(config)
    config.set_defaults(func=_config)
    revoke = sub.add_parser(
        "revoke",
        help="deny a device on the fleet broker (after `kiosk-central ca revoke`)",
        description=(
            "Add a deny block for DEVICE to OUT/acl-devices.conf, install the current CRLs from --pki, and "
            "send SIGHUP to Mosquitto (--pid): it re-reads the ACL and the CRLs at once (Mosquitto 2.0.11), "
            "so the device's messages stop on its open connection and its next TLS handshake is refused. "
            "With --config (or --store) the fleet view shows the device revoked at once; nothing it still "
            "sends brings it back online."
        ),
    )
    revoke.add_argument("device_id", help="device id, e.g. jp-131016-k03")
    revoke.add_argument("--out", type=Path, required=True, help="the folder `broker config --pki` wrote")
    revoke.add_argument("--pki", type=Path, help="PKI folder, to copy the updated device CRL")
    revoke.add_argument("--pid", type=int, help="Mosquitto's process id, to send SIGHUP")
    revoke.add_argument(
        "--config", type=Path, help="central TOML file: mark the device revoked in its store (fleet view)"
    )
    revoke.add_argument("--store", help="store URL instead of --config")
    add_json_flag(revoke)
    revoke.set_defaults(func=_revoke)
    run = sub.add_parser(
        "run",
        help="run Mosquitto on the loopback development listener in the foreground",
        description=(
            "Run Mosquitto in the foreground until Ctrl-C or SIGTERM on the development listener: "
            "plaintext MQTT on 127.0.0.1 only, anonymous clients (the demo and tests). It has no TLS "
            "option: the fleet broker (mTLS, ACLs, CRLs) is written by `kiosk-central broker config` "
            "and run as `mosquitto -c DIR/mosquitto.conf` (see the operator runbook)."
        ),
    )
    run.add_argument("--port", type=_port, required=True, help="listener port on 127.0.0.1")
    run.add_argument(
        "--data-dir", type=Path, help="folder for the config (and --persist data); default a temporary folder"
    )
    run.add_argument("--persist", action="store_true", help="keep sessions and retained messages in DATA_DIR")
    run.set_defaults(func=_run)


def _config(args: argparse.Namespace) -> int:
    if args.accept_bridges and args.pki is None:
        raise UserError("--accept-bridges needs --pki", "the hub's service listener takes the bridges")
    if (args.bridge_to is None) != (args.bridge_name is None):
        raise UserError(
            "--bridge-to and --bridge-name go together", "e.g. --bridge-to hub:8884 --bridge-name edge-b"
        )
    if args.bridge_to is not None:
        check_bridge(args.bridge_to, args.bridge_name, tls=args.pki is not None)
    result, text = _write_config(args)
    if args.accept_bridges:
        result["acl_services"] = str(allow_bridges(args.out))
        text += "; edge bridges (svc-bridge) accepted on the service listener"
    if args.bridge_to is not None:
        link = add_bridge(args.out, args.bridge_to, args.bridge_name, args.pki)
        result["bridge"] = {"name": link.name, "hub": f"{link.host}:{link.port}", "tls": link.tls is not None}
        text += f"; bridged to the hub {link.host}:{link.port} as {link.client_id}"
    emit(result, args.json, text)
    return 0


def _write_config(args: argparse.Namespace) -> tuple[dict[str, object], str]:
    persist = args.persist if args.persist is not None else args.pki is not None
    persistence = args.out / "persistence" if persist else None
    if args.pki is not None:
        return _fleet_config(args, persistence)
    args.port = args.port or 1883
    path = write_dev_config(args.out, args.port, persistence_dir=persistence)
    result: dict[str, object] = {
        "config": str(path),
        "url": f"mqtt://127.0.0.1:{args.port}",
        "max_packet_size": DEFAULT_MAX_PACKET_SIZE,
        "persistence": str(persistence) if persistence else None,
    }
    return result, f"wrote {path} (listener 127.0.0.1:{args.port}; run: mosquitto -c {path})"


def _fleet_config(args: argparse.Namespace, persistence: Path | None) -> tuple[dict[str, object], str]:
    files = FleetTlsFiles.from_pki(args.pki)
    port = args.port or DEVICE_PORT
    path = write_fleet_config(
        args.out,
        files,
        device_port=port,
        service_port=args.service_port,
        bind=args.bind,
        loopback_port=args.loopback_port,
        persistence_dir=persistence,
    )
    result: dict[str, object] = {
        "config": str(path),
        "device_listener": port,
        "service_listener": args.service_port,
        "loopback_listener": args.loopback_port,
        "acl_devices": str(args.out / "acl-devices.conf"),
        "acl_services": str(args.out / "acl-services.conf"),
        "revoked": read_revoked(args.out),
        "persistence": str(persistence) if persistence else None,
    }
    return (
        result,
        f"wrote {path} (devices mTLS :{port}, services mTLS :{args.service_port}); run: mosquitto -c {path}",
    )


def _revoke(args: argparse.Namespace) -> int:
    if not (args.out / "acl-devices.conf").is_file():
        raise UserError(
            f"{args.out} holds no fleet broker configuration",
            "run `kiosk-central broker config --pki ...` first",
        )
    files = FleetTlsFiles.from_pki(args.pki) if args.pki is not None else None
    if args.pki is not None and not any(
        r.cn == args.device_id and r.revoked_at for r in Pki(args.pki).certificates(args.device_id)
    ):
        raise UserError(
            f"{args.device_id}'s certificate is not revoked in {args.pki}",
            f"run `kiosk-central ca revoke {args.device_id} --dir {args.pki}` first",
        )
    if args.config is not None and args.store is not None:
        raise UserError(
            "give --config FILE or --store URL, not both", "e.g. --config /etc/madoguchi/central.toml"
        )
    store_url = load_central_config(args.config).central.store_url if args.config is not None else args.store
    revoked = revoke_device(args.out, args.device_id, files)
    marked = False
    if store_url is not None:
        store = open_store(store_url, create=False)
        try:
            store.mark_revoked(args.device_id, "broker revoke")
            marked = True
        finally:
            store.close()
    reloaded = False
    if args.pid is not None:
        try:
            os.kill(args.pid, signal.SIGHUP)
            reloaded = True
        except ProcessLookupError:
            raise UserError(
                f"no process {args.pid}", "give Mosquitto's process id (pidof mosquitto)"
            ) from None
    result = {
        "device_id": args.device_id,
        "revoked": revoked,
        "reloaded": reloaded,
        "crl_copied": files is not None,
        "fleet_view": "revoked" if marked else None,
    }
    next_step = (
        "the broker reloaded the ACL and CRLs"
        if reloaded
        else ("send SIGHUP to Mosquitto now (kill -HUP <pid> or systemctl reload mosquitto) to apply it")
    )
    shown = (
        "; the fleet view shows it revoked"
        if marked
        else "; give --config to show it revoked on the fleet view at once"
    )
    emit(result, args.json, f"{args.device_id} denied in {args.out / 'acl-devices.conf'}; {next_step}{shown}")
    return 0


def _run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="madoguchi-broker-") as tmp:
        workdir = args.data_dir or Path(tmp)
        broker = MosquittoBroker(workdir, args.port, persistence=args.persist, inherit_output=True)
        with stop_on_signals() as stop:
            broker.start()
            print(f"Mosquitto on {broker.url} (config {broker.config_path}); Ctrl-C stops it", flush=True)
            while not stop.wait(0.5):
                if not broker.is_running:
                    print("Mosquitto exited", flush=True)
                    return 1
            broker.stop()
    return 0
