"""`kiosk print-test`: print a sample ticket, slip, receipt, procedure list or certificate."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from madoguchi.errors import UserError

__all__ = ["register"]

_logger = logging.getLogger(__name__)

KINDS = ("ticket", "slip", "receipt", "guide", "certificate")


def _receipt(args: argparse.Namespace) -> int:
    from device_drivers.errors import DeviceError
    from device_drivers.printer import ReceiptPrinter, encode_job, profile_for
    from device_drivers.printer.samples import sample_document
    from madoguchi.device_urls import DeviceKind, DeviceUrlError, parse_device_url

    try:
        url = parse_device_url(DeviceKind.RECEIPT_PRINTER, args.printer)
    except DeviceUrlError as exc:
        raise UserError(
            str(exc), "pass --printer escpos+tcp://HOST:9100 or emulated://printer?out=DIR"
        ) from exc
    profile = profile_for(url.params.get("profile"))
    job = encode_job(sample_document(args.kind, args.lang), profile)
    printer = ReceiptPrinter(args.printer)
    try:
        result = printer.print_job(job, f"print-test-{args.kind}")
    except DeviceError as exc:
        raise UserError(
            f"{args.kind} not printed: {exc.detail}", "check the printer with `kiosk diag printer`"
        ) from exc
    finally:
        printer.close()
    print(f"{args.kind} printed ({result.bytes_sent} bytes, {job.mode}) on {args.printer}")
    return 0


def _certificate(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from device_drivers.errors import DeviceError
    from device_drivers.printer.a4 import CupsPrinter, JobState, render_certificate
    from madoguchi.certificates.samples import sample_certificate

    if args.key:
        try:
            key = load_pem_private_key(Path(args.key).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(
                f"cannot read the signing key {args.key}: {exc}", "pass an unencrypted PEM file"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise UserError(
                f"{args.key} is not an Ed25519 private key",
                "generate one with `openssl genpkey -algorithm ed25519`",
            )
    else:
        key = Ed25519PrivateKey.generate()
        print("signing with a throw-away test key (pass --key city-key.pem for the city's key)")
    rendered = render_certificate(sample_certificate(), key)
    if args.printer.startswith("cups://"):
        cups = CupsPrinter(args.printer)
        try:
            job_id = cups.submit(rendered.pdf, "print-test-certificate")
            state = cups.wait(job_id)
        except DeviceError as exc:
            raise UserError(
                f"certificate not printed: {exc.detail}", "check the queue with `lpstat -p`"
            ) from exc
        print(f"certificate job {job_id} on {cups.queue}: {state.name.lower()}")
        return 0 if state is JobState.COMPLETED else 1
    out = Path(args.out or "print-test-certificate.pdf")
    out.write_bytes(rendered.pdf)
    print(f"certificate PDF written to {out} ({len(rendered.pdf)} bytes)")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.kind == "certificate":
        return _certificate(args)
    return _receipt(args)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `print-test`."""
    parser = subparsers.add_parser(
        "print-test",
        help="print a sample ticket, slip, receipt, procedure list (guide) or A4 certificate",
        description="Print fictional sample data to check a printer, its paper and its fonts.",
    )
    parser.add_argument("kind", choices=KINDS, help="what to print")
    parser.add_argument(
        "--printer",
        default="emulated://printer",
        help="receipt printer URL (escpos+tcp://..., ?profile=tm-t20ii-j for kanji mode) or, for certificate, cups://QUEUE",
    )
    parser.add_argument(
        "--lang", default="ja", help="language of the fixed wording (ja, en; others fall back to ja)"
    )
    parser.add_argument("--key", default=None, help="certificate: Ed25519 private key PEM of the city")
    parser.add_argument("--out", default=None, help="certificate without CUPS: where to write the PDF")
    parser.set_defaults(func=_run)
