"""`kiosk-central ca`: create the fleet PKI, issue service certificates, revoke devices, refresh CRLs."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
from pathlib import Path

from central_broker.pki import DEVICE, SERVICE, Pki
from central_broker.pki.x509 import fingerprint
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.errors import UserError

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
    """Add `ca init`, `ca issue-service`, `ca revoke`, `ca crl`, `ca check` and `ca list`."""
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

    crl = sub.add_parser(
        "crl",
        help="rewrite both CRLs (valid 7 days; run daily) and hand them to the fleet broker",
        description="Rewrite the device and service CAs' CRLs. With --broker-dir, copy them to where the "
        "fleet broker reads them and reload it (--pid or --pid-file: SIGHUP; Mosquitto re-reads its CRLs "
        "on SIGHUP). Without that, the broker keeps its old copy and refuses every kiosk once it expires. "
        "The madoguchi-crl.timer of provisioning/central runs this daily.",
    )
    _dir_option(crl)
    _broker_options(crl)
    add_json_flag(crl)
    crl.set_defaults(func=_crl)

    check = sub.add_parser(
        "check",
        help="check that the CRLs (PKI and broker copies) are valid long enough; exit 1 when not",
        description="List each CRL with its nextUpdate and say what is wrong: expired (every certificate "
        "of that CA is refused), due within --warn-days (the daily refresh stopped), or a broker copy "
        "older than the PKI's (the refresh did not reach the broker). Exit 1 on any problem: run it "
        "from monitoring.",
    )
    _dir_option(check)
    check.add_argument("--broker-dir", type=Path, help="the folder `kiosk-central broker config --pki` wrote")
    check.add_argument(
        "--warn-days", type=float, default=3.0, help="warn this many days before a CRL expires (default 3)"
    )
    add_json_flag(check)
    check.set_defaults(func=_check)

    listing = sub.add_parser("list", help="list issued certificates")
    listing.add_argument("--name", help="only this device or service")
    _dir_option(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)


def _broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker-dir",
        type=Path,
        help="the folder `kiosk-central broker config --pki` wrote: install the CRLs there",
    )
    reload = parser.add_mutually_exclusive_group()
    reload.add_argument("--pid", type=int, help="Mosquitto's process id: SIGHUP it afterwards")
    reload.add_argument(
        "--pid-file", type=Path, help="file holding Mosquitto's process id: SIGHUP it afterwards"
    )


def _hand_to_broker(args: argparse.Namespace, pki_dir: Path) -> tuple[list[str], bool]:
    """Install the CRLs in --broker-dir and SIGHUP the broker; (installed paths, reloaded)."""
    from central_broker.broker import BrokerError
    from central_broker.broker_fleet import FleetTlsFiles, install_crls

    if args.broker_dir is None:
        if args.pid is not None or args.pid_file is not None:
            raise UserError("--pid/--pid-file go with --broker-dir", "add --broker-dir DIR")
        return [], False
    try:
        installed = install_crls(args.broker_dir, FleetTlsFiles.from_pki(pki_dir))
    except BrokerError as exc:
        raise UserError(exc.message, exc.hint) from exc
    pid = args.pid
    if args.pid_file is not None:
        try:
            pid = int(args.pid_file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read a process id from {args.pid_file}", "check --pid-file") from exc
    if pid is None:
        return [str(p) for p in installed], False
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise UserError(f"no process {pid}", "give Mosquitto's process id (pidof mosquitto)") from None
    return [str(p) for p in installed], True


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
        f"revoked {len(serials)} certificate(s) of {args.device}; CRL rewritten. "
        + _next_step(args, pki.dir),
    )
    return 0


def _next_step(args: argparse.Namespace, pki_dir: Path) -> str:
    """What the operator runs next: a replaced unit needs the CRL only (a deny block would refuse its replacement)."""
    if args.reason == "replaced" and not args.service:
        return (
            f"Now run `kiosk-central ca crl --broker-dir <broker dir> --dir {pki_dir}` and `systemctl reload mosquitto`"
            " so the broker refuses the old certificate; do not run `broker revoke`: its deny block names the"
            " device id and would lock out the replacement too."
        )
    return (
        f"Now run `kiosk-central broker revoke {args.device} --out <broker dir> --pki {pki_dir} --pid <mosquitto pid>` "
        "(deny block + CRL + SIGHUP) so the broker refuses it at once."
    )


def _crl(args: argparse.Namespace) -> int:
    from central_broker.pki.crl_status import next_update

    pki = _pki(args)
    pki.write_crls()
    installed, reloaded = _hand_to_broker(args, pki.dir)
    until, _entries = next_update(pki.dir / DEVICE / "crl.pem")
    valid = dt.datetime.fromtimestamp(until or 0, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = {"crls": [str(pki.dir / a / "crl.pem") for a in (DEVICE, SERVICE)], "next_update": until,
            "broker": installed, "reloaded": reloaded}  # fmt: skip
    text = f"CRLs rewritten, valid until {valid}"
    if installed:
        text += f"; installed in {args.broker_dir}"
        text += ", broker reloaded" if reloaded else "; reload the broker now (systemctl reload mosquitto)"
    else:
        text += "; the broker still has its old copy: pass --broker-dir (and --pid/--pid-file)"
    emit(data, args.json, text)
    return 0


def _check(args: argparse.Namespace) -> int:
    import time

    from central_broker.pki.crl_status import crl_checks

    now = time.time()
    checks = crl_checks(
        args.dir or default_pki_dir(), args.broker_dir, warn_s=args.warn_days * 86_400, now=now
    )
    problems = [c for c in checks if c.problem]

    def text() -> str:
        lines = []
        for c in checks:
            left = (
                "unreadable" if c.next_update is None else f"{(c.next_update - now) / 86_400:.1f} days left"
            )
            lines.append(
                f"{'PROBLEM' if c.problem else 'ok':<8} {c.name:<18} {left:<16} {c.problem}".rstrip()
            )
        return "\n".join(lines)

    emit({"ok": not problems, "crls": [c.to_dict(now) for c in checks]}, args.json, text)
    return 1 if problems else 0


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
