"""`kiosk-central issuance`: verify a printed certificate's QR code (or a 未交付 slip) offline; switch issuance off and on."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from madoguchi.cli import add_json_flag, emit, group
from madoguchi.errors import UserError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from central_broker.issuance.control import RetainedControl
    from central_broker.store import FleetStore

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `issuance verify|serve|kill-switch|incidents`."""
    sub = group(subparsers, "issuance", "certificate issuance: verify printed certificates, kill switch")
    verify = sub.add_parser(
        "verify",
        help="check a certificate PDF (QR code and printed content) offline against the city's issuance public key",
        description="Check a certificate PDF offline: its QR code's signature, and that the PDF's printed serial "
        "and text are what the QR code signs. With --qr, the QR text alone (proves nothing about the paper it is "
        "printed on). Exit 0 when genuine, 1 when not or when the printed content cannot be confirmed (format-1 "
        "codes). The online check (serial + verification code) is the /verify page of the central web.",
    )
    verify.add_argument("file", nargs="?", type=Path, help="certificate PDF")
    verify.add_argument("--qr", help="the QR code's text instead of a PDF (also a 未交付 slip's QR text)")
    verify.add_argument("--key", type=Path, required=True, help="the city's issuance public key (PEM)")
    add_json_flag(verify)
    verify.set_defaults(func=_verify)
    serve = sub.add_parser(
        "serve",
        help="run the issuance RPC service (svc-rpc) until stopped",
        description="Serve certificate.begin/authenticate/options/issue/confirm over MQTT.",
    )
    serve.add_argument("--broker", required=True, help="broker URL, e.g. mqtts://broker.city.example:8883")
    serve.add_argument("--ca-file", type=Path, help="CA certificate for mqtts")
    serve.add_argument("--cert-file", type=Path, help="svc-rpc certificate for mqtts")
    serve.add_argument("--key-file", type=Path, help="svc-rpc key for mqtts")
    serve.add_argument(
        "--data-dir", type=Path, required=True, help="folder for issuance.sqlite (and the registry)"
    )
    serve.add_argument("--signing-key", type=Path, required=True, help="issuance signing key (PEM Ed25519)")
    serve.add_argument("--audit-key", type=Path, required=True, help="file with the audit HMAC key (base64)")
    serve.add_argument(
        "--control-key", type=Path, action="append", default=[], help="fleet control public key"
    )
    serve.add_argument("--catalog", type=Path, help="active catalog file (default: the sample catalog)")
    serve.add_argument(
        "--jpki-ca", type=Path, action="append", default=[], help="JPKI auth CA certificate(s)"
    )
    serve.add_argument("--crl", type=Path, help="JPKI auth CRL file (DER or PEM)")
    serve.add_argument("--registry", type=Path, help="embedded registry SQLite file")
    serve.add_argument("--document-key", type=Path, help="file with the document encryption key (base64)")
    serve.add_argument("--keep-documents", action="store_true", help="keep printed documents (encrypted)")
    serve.add_argument("--min-app-version", help="kiosks reporting an older version cannot issue (R-10)")
    serve.add_argument("--mayor", default="市長", help="mayor's name printed on certificates")
    serve.add_argument(
        "--verify-url",
        help="public address of the certificate check page printed on certificates "
        "(e.g. https://www.city.midori.example.jp/verify)",
    )
    serve.add_argument(
        "--demo", action="store_true", help="trust the card emulator's test CA and seed its personas"
    )
    serve.set_defaults(func=_serve)
    kill = sub.add_parser(
        "kill-switch",
        help="stop or resume certificate issuance (fleet, one city or one kiosk) within seconds; or show it",
        description="on/off: build the next fleet/control document from the central store (never from what "
        "the broker holds), record it, sign it with the control key and publish it retained; then wait "
        "until every online kiosk reports that version (exit 1 when some did not within --wait). "
        "status: the document in force, what the broker holds (checked with the centre's key) and which "
        "kiosks applied it.",
    )
    kill.add_argument(
        "state", choices=["on", "off", "status"], help="on = issuance stopped, off = issuance resumed, status"
    )
    where = kill.add_mutually_exclusive_group()
    where.add_argument(
        "--municipality", metavar="CODE", help="6-digit municipality code (default: whole fleet)"
    )
    where.add_argument("--device", metavar="ID", help="one kiosk, e.g. jp-131016-k03")
    kill.add_argument("--message", help="text shown to residents (Japanese)")
    kill.add_argument("--config", type=Path, required=True, help="central TOML file ([broker], store)")
    kill.add_argument(
        "--signing-key",
        type=Path,
        help="the control signing key (default: catalog.key in [web] signing_keys_dir or <data_dir>/signing)",
    )
    kill.add_argument(
        "--wait", type=float, default=20.0, help="seconds to wait for the kiosks to confirm (default 20)"
    )
    kill.add_argument("--actor", default="cli", help="who switched, kept with the version (default cli)")
    add_json_flag(kill)
    kill.set_defaults(func=_kill_switch)
    incidents = sub.add_parser(
        "incidents",
        help="list incidents for staff (failed print then reprint, amount mismatch, unknown payment), or close one",
        description="Incidents opened by the issuance service and reported by kiosks (R-12), oldest first. "
        "Close one with --close ID --note TEXT after following it up.",
    )
    incidents.add_argument(
        "--data-dir", type=Path, required=True, help="the issuance service's folder (issuance.sqlite)"
    )
    incidents.add_argument("--open", action="store_true", help="only incidents not yet closed")
    incidents.add_argument("--close", type=int, metavar="ID", help="close this incident")
    incidents.add_argument("--note", help="what staff did (required with --close)")
    add_json_flag(incidents)
    incidents.set_defaults(func=_incidents)


def _incidents(args: argparse.Namespace) -> int:
    import time
    from datetime import datetime

    from central_broker.issuance.incidents import IncidentLog
    from madoguchi.errors import UserError

    path = args.data_dir / "issuance.sqlite"
    if not path.is_file():
        raise UserError(
            f"no issuance database at {path}", "give the --data-dir of `kiosk-central issuance serve`"
        )
    log = IncidentLog(path)
    try:
        if args.close is not None:
            if not args.note:
                raise UserError("--close needs --note", 'say what was done, e.g. --note "refunded 300 yen"')
            if not log.close_incident(args.close, int(time.time() * 1000), args.note):
                raise UserError(
                    f"no open incident {args.close}", "see `kiosk-central issuance incidents --open`"
                )
        rows = log.incidents(open_only=args.open)
    finally:
        log.close()
    lines = [
        f"#{i.incident_id} {datetime.fromtimestamp(i.opened_ms / 1000):%Y-%m-%d %H:%M} {i.device_id} {i.kind.value} "
        f"{i.serial or '-'} {i.payment_ref or '-'} {'OPEN' if i.open else 'closed: ' + (i.note or '')}  {i.detail}"
        for i in rows
    ]
    emit([i.to_dict() for i in rows], args.json, "\n".join(lines) or "no incidents")
    return 0


_PROVES = {
    "genuine": "the city signed this kind, serial, issue time and printed content, and the PDF's text is that "
    "content",
    "not_genuine": "the PDF's serial or printed text is not what the city signed with this QR code",
    "qr_only": "the city signed this kind, serial, issue time and content digest; it proves nothing about the paper or "
    "file the code is printed on (a copied code verifies too): check the PDF, or check online with the serial "
    "and the verification code printed on the certificate",
    "content_unchecked": "format-1 QR code (printed before content binding): the city signed kind, serial and "
    "issue time only; the printed name and other content cannot be confirmed offline",
}


def _verify(args: argparse.Namespace) -> int:
    from central_broker.issuance.certqr import QrSignatureError
    from central_broker.issuance.qrcheck import Verdict, check_pdf, check_qr, load_public_key
    from central_broker.issuance.unissued import PREFIX as UNISSUED_PREFIX

    if (args.file is None) == (args.qr is None):
        raise UserError(
            "give either a PDF file or --qr TEXT",
            "e.g. kiosk-central issuance verify cert.pdf --key city.pem",
        )
    key = load_public_key(args.key)
    if args.qr is not None and args.qr.strip().startswith(UNISSUED_PREFIX + "."):
        return _verify_slip(args.qr, key, args.json)
    try:
        result = check_qr(args.qr, key) if args.qr is not None else check_pdf(args.file, key)
    except QrSignatureError as exc:
        emit(
            {"genuine": False, "verdict": "not_genuine", "reason": str(exc)}, args.json, f"NOT GENUINE: {exc}"
        )
        return 1
    claims, verdict = result.claims, result.verdict
    data = {
        "verdict": verdict.value,
        "genuine": verdict in (Verdict.GENUINE, Verdict.QR_ONLY),
        "format": claims.version,
        "kind": claims.kind,
        "serial": claims.serial,
        "issued_at": claims.issued_at,
        "content_digest": claims.content_digest,
        "printed_serial_matches": result.printed_serial_matches,
        "content_matches": result.content_matches,
        "content_checked": result.content_matches is not None,
        "proves": _PROVES[verdict.value],
    }
    what = f"{claims.kind} {claims.serial} issued {claims.issued_at}"
    if result.printed_serial_matches is False:
        text = f"NOT GENUINE: the QR code is signed for serial {claims.serial}, not the printed one"
    elif result.content_matches is False:
        text = (
            f"NOT GENUINE: the printed content does not match what the city issued as {claims.serial} — "
            "names, dates or other text were changed, or the QR code was copied from another certificate"
        )
    elif verdict is Verdict.CONTENT_UNCHECKED:
        text = (
            f"CANNOT CONFIRM the printed content of {what}: {_PROVES[verdict.value]}. "
            f"Ask the issuing office about serial {claims.serial}."
        )
    elif verdict is Verdict.QR_ONLY:
        text = f"QR code genuine ({what}): {_PROVES[verdict.value]}."
    else:
        text = f"genuine: {what}; the printed content is what the city signed"
    emit(data, args.json, text)
    return 0 if data["genuine"] else 1


def _verify_slip(text: str, key: Ed25519PublicKey, as_json: bool) -> int:
    """A 未交付 slip (R-15): staff check it before handing the certificate over free."""
    from central_broker.issuance.certqr import QrSignatureError
    from central_broker.issuance.unissued import verify_unissued

    try:
        slip = verify_unissued(text, key)
    except QrSignatureError as exc:
        emit({"genuine": False, "reason": str(exc)}, as_json, f"NOT GENUINE: {exc}")
        return 1
    data = {"genuine": True, "slip": "unissued", **dataclasses.asdict(slip)}
    emit(
        data,
        as_json,
        f"genuine 未交付 slip: {slip.type_id} ×{slip.copies} serial {slip.serial} from {slip.device_id}, "
        f"payment {slip.payment_ref}, failed {slip.failed_at}; issue again free of charge",
    )
    return 0


def _kill_switch(args: argparse.Namespace) -> int:
    from central_broker.issuance.control import publish_switch, read_retained_control, wait_for_confirmation
    from central_broker.store import open_store
    from madoguchi.config.central import load_central_config
    from provisioning.updates.keys import load_private_key

    if args.municipality is not None and not (len(args.municipality) == 6 and args.municipality.isdigit()):
        raise UserError(
            f"municipality code {args.municipality!r} is not 6 digits", "e.g. --municipality 131016"
        )
    config = load_central_config(args.config)
    folder = config.signing_dir
    key = load_private_key(
        args.signing_key or folder / "catalog.key", hint="pass --signing-key (the catalog key, PEM)"
    )
    broker = config.broker_for("catalog")
    store = open_store(config.central.store_url)
    try:
        # what the broker holds: reported by `status`, adopted only into an empty history, never re-signed
        needed = args.state == "status" or store.control_current() is None
        retained = read_retained_control(broker, key.public_key(), wait_s=1.5) if needed else None
        if args.state == "status":
            assert retained is not None
            return _control_status(args.json, store, retained)
        document = publish_switch(
            store, broker, key, args.state == "on", actor=args.actor, municipality=args.municipality,
            device=args.device, message=args.message, retained=retained,
        )  # fmt: skip
        confirmed = wait_for_confirmation(store, document.version, args.wait)
    finally:
        store.close()
    scope = args.municipality or args.device or "the whole fleet"
    verb = "stopped" if args.state == "on" else "resumed"
    data = {"version": document.version, "issuance": document.issuance.model_dump(), **confirmed.to_dict()}
    text = f"issuance {verb} for {scope} (control version {document.version}): {confirmed.summary()}"
    if not confirmed.complete:
        text += "\nThe document is published and retained; check those kiosks (fleet page, `kiosk-central fleet`)."
    emit(data, args.json, text)
    return 0 if confirmed.complete else 1


def _control_status(as_json: bool, store: FleetStore, retained: RetainedControl) -> int:
    from central_broker.issuance.control import confirmation, current_control

    document = current_control(store)
    if document is None:
        emit({"version": None, "broker": retained.state}, as_json,
             f"no kill-switch document was ever published by this centre (broker: {retained.state})")  # fmt: skip
        return 0
    state = confirmation(store, document.version)
    held = retained.document.version if retained.document else None
    broker_note = {
        "absent": "the broker holds none (restarted?): `kiosk-central serve` publishes it again",
        "verified": f"the broker holds version {held}",
        "unverified": f"the broker holds a document that does NOT verify ({retained.detail}); the centre's "
        "version is published again by `kiosk-central serve`",
    }[retained.state]
    part = document.issuance
    scope = "whole fleet" if part.suspended_all else ", ".join(
        [*part.suspended_municipalities, *part.suspended_devices]) or "nothing"  # fmt: skip
    data = {"version": document.version, "issuance": part.model_dump(), "broker": retained.state,
            "broker_version": held, **state.to_dict()}  # fmt: skip
    emit(data, as_json, f"control version {document.version}: issuance suspended for {scope}; "
                        f"{broker_note}; {state.summary()}")  # fmt: skip
    return 0


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from central_broker.issuance.runner import RunOptions, serve
    from madoguchi.config.broker import BrokerConfig

    options = RunOptions(
        broker=BrokerConfig(
            url=args.broker, ca_file=args.ca_file, cert_file=args.cert_file, key_file=args.key_file
        ),
        data_dir=args.data_dir,
        signing_key=args.signing_key,
        audit_key=args.audit_key,
        control_keys=tuple(args.control_key),
        catalog=args.catalog,
        jpki_cas=tuple(args.jpki_ca),
        crl=args.crl,
        registry=args.registry,
        document_key=args.document_key,
        keep_documents=args.keep_documents,
        mayor=args.mayor,
        verify_url=args.verify_url,
        min_app_version=args.min_app_version,
        demo=args.demo,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serve(options, stop)
    except KeyboardInterrupt:
        stop.set()
    return 0
