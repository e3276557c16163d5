"""`kiosk-central ca`: create the fleet PKI, issue service certificates, revoke devices, refresh CRLs."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from central_broker.pki import DEVICE, SERVICE, Pki
from central_broker.pki.x509 import fingerprint
from madoguchi.cli import add_json_flag, emit, group

__all__ = ["default_pki_dir", "register"]


def default_pki_dir() -> Path:
    """`$MADOGUCHI_PKI_DIR`, else /var/lib/madoguchi/pki."""
    return Path(os.environ.get("MADOGUCHI_PKI_DIR", "/var/lib/madoguchi/pki"))


def _dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="PKI folder (default $MADOGUCHI_PKI_DIR or /var/lib/madoguchi/pki)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ca init`, `ca issue-service`, `ca revoke`, `ca crl` and `ca list`."""
    sub = group(subparsers, "ca", "the fleet PKI: root, device and service CAs, certificates, revocation")
    init = sub.add_parser("init", help="create the root CA, the device CA and the service CA")
    _dir_option(init)
    init.add_argument("--org", default="Madoguchi", help="organisation name in every certificate")
    init.add_argument(
        "--device-days", type=int, default=30, help="lifetime of device certificates (default 30)"
    )
    init.add_argument(
        "--root-key-out",
        type=Path,
        help="write the root key here (e.g. removable media) instead of DIR/root/",
    )
    add_json_flag(init)
    init.set_defaults(func=_init)

    svc = sub.add_parser("issue-service", help="issue a server/client certificate for a central service")
    svc.add_argument("name", help="service name, e.g. broker, enrol, svc-ingest")
    svc.add_argument(
        "--host", action="append", default=[], help="extra DNS name or IP for the SAN (repeatable)"
    )
    svc.add_argument("--days", type=int, help="lifetime in days (default 397)")
    svc.add_argument("--owner", help="user that must read the key (e.g. mosquitto for the broker)")
    _dir_option(svc)
    add_json_flag(svc)
    svc.set_defaults(func=_issue_service)

    revoke = sub.add_parser("revoke", help="revoke every current certificate of a device and rewrite the CRL")
    revoke.add_argument("device", help="device id, e.g. jp-131016-k03")
    revoke.add_argument("--reason", default="unspecified", help="reason kept in the ledger")
    revoke.add_argument("--service", action="store_true", help="revoke a service certificate instead")
    _dir_option(revoke)
    add_json_flag(revoke)
    revoke.set_defaults(func=_revoke)

    crl = sub.add_parser("crl", help=f"rewrite both CRLs (valid {7} days; run daily)")
    _dir_option(crl)
    add_json_flag(crl)
    crl.set_defaults(func=_crl)

    listing = sub.add_parser("list", help="list issued certificates")
    listing.add_argument("--name", help="only this device or service")
    _dir_option(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)


def _pki(args: argparse.Namespace) -> Pki:
    return Pki(args.dir or default_pki_dir())


def _init(args: argparse.Namespace) -> int:
    directory = args.dir or default_pki_dir()
    pki = Pki.init(directory, args.org, args.device_days, args.root_key_out)
    root_key = args.root_key_out or directory / "root" / "root.key"
    data = {
        "dir": str(directory),
        "root": str(directory / "root" / "root.pem"),
        "root_key": str(root_key),
        "root_fingerprint": fingerprint(pki.root),
    }
    emit(
        data,
        args.json,
        f"PKI created in {directory}\n  root certificate: {data['root']} (sha256 {data['root_fingerprint']})\n"
        f"  root key: {root_key} — keep it offline; issuing and revoking do not need it",
    )
    return 0


def _issue_service(args: argparse.Namespace) -> int:
    folder = _pki(args).issue_service(args.name, args.host, args.days, args.owner)
    emit(
        {"name": args.name, "dir": str(folder)},
        args.json,
        f"issued {args.name}: {folder}/{{cert,chain,key}}.pem",
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    pki = _pki(args)
    serials = pki.revoke(args.device, args.reason, SERVICE if args.service else DEVICE)
    emit(
        {"name": args.device, "revoked": serials, "crl": str(pki.dir / DEVICE / "crl.pem")},
        args.json,
        f"revoked {len(serials)} certificate(s) of {args.device}; CRL rewritten. Reload the broker"
        " (deny block + SIGHUP, restart in the next window) so it takes effect.",
    )
    return 0


def _crl(args: argparse.Namespace) -> int:
    pki = _pki(args)
    pki.write_crls()
    emit({"crls": [str(pki.dir / a / "crl.pem") for a in (DEVICE, SERVICE)]}, args.json, "CRLs rewritten")
    return 0


def _list(args: argparse.Namespace) -> int:
    records = _pki(args).certificates(args.name)

    def text() -> str:
        lines = [f"{'serial':<40} {'authority':<10} {'name':<20} {'expires':<20} revoked"]
        for r in records:
            expires = dt.datetime.fromtimestamp(r.not_after, dt.UTC).strftime("%Y-%m-%d %H:%M")
            lines.append(
                f"{r.serial:<40} {r.authority:<10} {r.cn:<20} {expires:<20} {'yes' if r.revoked_at else ''}"
            )
        return "\n".join(lines)

    emit([r.__dict__ for r in records], args.json, text)
    return 0
