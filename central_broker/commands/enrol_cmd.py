"""`kiosk-central enrol-token` and `enrol-serve`: one-time tokens for new kiosks and the enrolment endpoint."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.signing import fleet_root_keys
from central_broker.commands.ca_cmd import default_pki_dir
from central_broker.enrolment import BranchDefaults, EnrolmentService, TokenStore, parse_duration
from central_broker.enrolment.limits import ServeLimits
from central_broker.pki import Pki, fingerprint
from central_broker.releases.files import ReleaseFiles
from madoguchi.cli import add_json_flag, emit
from madoguchi.errors import UserError

__all__ = ["default_data_dir", "register"]

_logger = logging.getLogger(__name__)


def default_data_dir() -> Path:
    """`$MADOGUCHI_DATA_DIR`, else /var/lib/madoguchi."""
    return Path(os.environ.get("MADOGUCHI_DATA_DIR", "/var/lib/madoguchi"))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `enrol-token` and `enrol-serve`."""
    token = subparsers.add_parser(
        "enrol-token",
        help="issue a one-time enrolment token (and pairing code) for one device",
        description="Issue a one-time token bound to a device id. Put the written enrol.json on the"
        " card's boot partition (bootfs/kiosk/enrol.json), or type the pairing code on the kiosk.",
    )
    token.add_argument("--device", required=True, help="device id, e.g. jp-131016-k03")
    token.add_argument("--branch", required=True, help="branch office name shown to operators")
    token.add_argument("--expires", default="7d", help="validity: 30m, 72h, 7d (default 7d)")
    token.add_argument(
        "--central",
        default="",
        help="enrolment URL written into enrol.json, e.g. https://enrol.city.example:8443",
    )
    token.add_argument("--out", type=Path, help="also write the device's enrol.json here")
    token.add_argument(
        "--data-dir",
        type=Path,
        help="central data folder (default $MADOGUCHI_DATA_DIR or /var/lib/madoguchi)",
    )
    token.add_argument("--pki-dir", type=Path, help="PKI folder, for the root fingerprint in enrol.json")
    _add_signing_flag(token, "its root key id goes into enrol.json, so the kiosk takes no other fleet root")
    add_json_flag(token)
    token.set_defaults(func=_token)

    serve = subparsers.add_parser(
        "enrol-serve",
        help="run the HTTPS endpoint for enrolment, renewal and release downloads (mutual TLS)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8443, help="TCP port (default 8443)")
    serve.add_argument(
        "--cert-name", default="enrol", help="service certificate to serve (ca issue-service NAME)"
    )
    serve.add_argument(
        "--broker-url",
        default="mqtts://broker.invalid:8883",
        help="broker URL written into each kiosk's configuration",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        help="central data folder (token table; release bundles in releases/, catalogs in catalogs/)",
    )
    serve.add_argument(
        "--pki-dir", type=Path, help="PKI folder (default $MADOGUCHI_PKI_DIR or /var/lib/madoguchi/pki)"
    )
    _add_signing_flag(serve, "enrolling kiosks receive its root.pub, the key their signed catalogs, commands"
                      " and releases are checked under")  # fmt: skip
    _add_limit_flags(serve)
    serve.set_defaults(func=_serve)


def _add_signing_flag(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        "--signing-dir",
        type=Path,
        help=f"fleet signing-key folder of `kiosk-central catalog keys` (default <data dir>/signing, as in"
        f" central.toml); {purpose}",
    )


def _fleet_roots(args: argparse.Namespace) -> dict[str, Ed25519PublicKey]:
    folder = args.signing_dir or (args.data_dir or default_data_dir()) / "signing"
    if args.signing_dir is not None and not (folder / "root.pub").is_file():
        raise UserError(
            f"no fleet root key {folder / 'root.pub'}",
            f"create the signing keys with `kiosk-central catalog keys --dir {folder}` or pass the right --signing-dir",
        )
    return fleet_root_keys(folder)


def _add_limit_flags(serve: argparse.ArgumentParser) -> None:
    limits = serve.add_argument_group("limits", "denial-of-service limits (defaults suit a city's fleet)")
    default = ServeLimits()
    limits.add_argument(
        "--header-timeout", type=_positive(float), default=default.header_timeout_s, metavar="S",
        help=f"close a connection whose request headers are incomplete after S seconds (default {default.header_timeout_s:g})",
    )  # fmt: skip
    limits.add_argument(
        "--body-timeout", type=_positive(float), default=default.body_timeout_s, metavar="S",
        help=f"answer 408 when the request body is incomplete after S seconds (default {default.body_timeout_s:g})",
    )  # fmt: skip
    limits.add_argument(
        "--max-body", type=_positive(int), default=default.max_body_bytes, metavar="BYTES",
        help=f"answer 413 to a larger request body, before reading it (default {default.max_body_bytes})",
    )  # fmt: skip
    limits.add_argument(
        "--max-connections", type=_positive(int), default=default.max_connections, metavar="N",
        help=f"answer 503 to TLS connections beyond N open ones (default {default.max_connections}; keep it below"
        " the open-file limit, LimitNOFILE=)",
    )  # fmt: skip
    limits.add_argument(
        "--max-requests", type=_positive(int), default=default.max_requests, metavar="N",
        help=f"answer 503 + Retry-After beyond N requests in progress (default {default.max_requests})",
    )  # fmt: skip


def _positive(kind: type[float] | type[int]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
        return value

    return parse


def _token(args: argparse.Namespace) -> int:
    store = TokenStore((args.data_dir or default_data_dir()) / "enrolment.db")
    issued = store.issue(args.device, args.branch, parse_duration(args.expires))
    expires = dt.datetime.fromtimestamp(issued.expires_at, dt.UTC).isoformat(timespec="seconds")
    enrol_json: dict[str, str] = {
        "device_id": issued.device_id,
        "token": issued.token,
        "central_url": args.central,
    }
    pki_dir = args.pki_dir or default_pki_dir()
    if (pki_dir / "pki.json").is_file():
        enrol_json["ca_fingerprint"] = fingerprint(Pki(pki_dir).root)
    roots = _fleet_roots(args)
    if roots:
        enrol_json["fleet_root_id"] = min(roots)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(enrol_json, handle, indent=2)
    data = {**enrol_json, "branch": issued.branch, "pairing_code": issued.pairing_code, "expires": expires}
    emit(
        data,
        args.json,
        f"device {issued.device_id} ({issued.branch}) — single use, expires {expires}\n"
        f"  pairing code: {issued.pairing_code}\n  token: {issued.token}"
        + (f"\n  written: {args.out}" if args.out else ""),
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from central_broker.enrolment.server import serve  # FastAPI/uvicorn only load for this command

    pki = Pki(args.pki_dir or default_pki_dir())
    cert_dir = pki.dir / "services" / args.cert_name
    if not (cert_dir / "chain.pem").is_file():
        raise UserError(
            f"no service certificate {args.cert_name!r} in {pki.dir}",
            f"run `kiosk-central ca issue-service {args.cert_name} --host <name or IP devices use>` first",
        )
    data_dir = args.data_dir or default_data_dir()
    store = TokenStore(data_dir / "enrolment.db")
    roots = _fleet_roots(args)
    if not roots:
        _logger.warning(
            "no fleet signing root in %s: kiosks enrolled now trust only a root their image brought"
            " (create it with `kiosk-central catalog keys`, or pass --signing-dir)",
            args.signing_dir or data_dir / "signing",
        )
    service = EnrolmentService(pki, store, BranchDefaults(broker_url=args.broker_url), fleet_roots=roots)
    releases = ReleaseFiles(data_dir / "releases")
    limits = ServeLimits(
        header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout,
        max_body_bytes=args.max_body,
        max_connections=args.max_connections,
        max_requests=args.max_requests,
    )
    catalogs = CatalogBodies.in_data_dir(data_dir)
    serve(service, args.host, args.port, cert_dir, pki.dir / "root" / "root.pem", releases, limits, catalogs)
    return 0
