"""`kiosk diag card`: readers, card kind and PIN tries; `kiosk diag card auth`: a full JPKI
authentication (certificate PEM, signature, tries left) with the PIN read from stdin only.

Errors print their code and the resident-facing text (ja + en) and exit 1; nothing printed
or logged here contains the PIN. The auth certificate holds no personal data.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict, dataclass
from typing import Any

from device_drivers.card.constants import CardKind
from device_drivers.card.messages import message_for
from device_drivers.card.pin import read_pin
from device_drivers.card.session import CardSession, open_card
from device_drivers.errors import DeviceError
from madoguchi.cli import add_json_flag, emit
from madoguchi.device_urls import DeviceUrlError
from madoguchi.errors import UserError

__all__ = ["ReaderReport", "auth_command", "register_diag", "status_command"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderReport:
    """One reader as `kiosk diag card` shows it."""

    reader: str
    card_present: bool
    card_kind: str | None = None
    auth_tries_left: int | None = None
    error: str | None = None


def _open(args: argparse.Namespace) -> CardSession:
    """The session `--emulate` / `--reader` ask for (the only reader when neither is given)."""
    if args.emulate:
        from device_drivers.card.emulator.material import default_data_dir
        from device_drivers.card.emulator.transport import EmulatorBank

        url = f"emulated://card?persona={args.emulate}"
        return open_card(url, bank=EmulatorBank(default_data_dir()), extended_length=args.extended)
    if args.reader:
        return open_card(f"pcsc://{args.reader}", extended_length=args.extended)
    from device_drivers.card.pcsc import PcscTransport

    return CardSession(PcscTransport(None, extended_length=args.extended).open())


def _error_payload(exc: DeviceError) -> dict[str, object]:
    payload: dict[str, object] = {
        "ok": False,
        "code": exc.code,
        "message_key": exc.message_key,
        "message": {"ja": message_for(exc, "ja"), "en": message_for(exc, "en")},
        "detail": exc.detail,
    }
    if hasattr(exc, "tries_left"):
        payload["tries_left"] = exc.tries_left
    return payload


def _report_error(exc: DeviceError, as_json: bool) -> int:
    payload = _error_payload(exc)
    emit(
        payload,
        as_json,
        lambda: f"{exc.code}: {message_for(exc, 'ja')}\n  {message_for(exc, 'en')}\n  ({exc.detail})",
    )
    return 1


def _inspect(args: argparse.Namespace, name: str, present: bool) -> ReaderReport:
    if not present:
        return ReaderReport(name, False)
    try:
        with _open(args) as session:
            kind = session.card_kind()
            tries = session.auth_tries_left() if kind is not CardKind.OTHER else None
            return ReaderReport(name, True, kind.value, tries)
    except DeviceError as exc:
        return ReaderReport(name, present, None, None, f"{exc.code}: {message_for(exc, 'en')}")


def status_command(args: argparse.Namespace) -> int:
    """List readers (or the emulated card) with card kind and auth-PIN tries left."""
    reports: list[ReaderReport] = []
    try:
        if args.emulate:
            reports.append(_inspect(args, f"emulated:{args.emulate}", True))
        else:
            from device_drivers.card.pcsc import list_readers, pick_reader

            readers = list_readers()
            if args.reader:
                chosen = pick_reader(args.reader, [r.name for r in readers])
                readers = [r for r in readers if r.name == chosen]
            for info in readers:
                one = argparse.Namespace(**{**vars(args), "reader": info.name})
                reports.append(_inspect(one, info.name, info.card_present))
    except DeviceError as exc:
        return _report_error(exc, args.json)
    except DeviceUrlError as exc:
        raise UserError(str(exc), "check --reader / --emulate") from exc

    def text() -> str:
        if not reports:
            return "no card readers found (is pcscd running and the reader plugged in?)"
        lines = []
        for r in reports:
            state = "no card" if not r.card_present else (r.card_kind or "unreadable card")
            tries = f", auth PIN tries left: {r.auth_tries_left}" if r.auth_tries_left is not None else ""
            lines.append(f"{r.reader}: {state}{tries}" + (f" ({r.error})" if r.error else ""))
        return "\n".join(lines)

    emit({"ok": True, "readers": [asdict(r) for r in reports]}, args.json, text)
    return 0


def auth_command(args: argparse.Namespace) -> int:
    """Authenticate with the auth PIN from stdin and sign the challenge."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        challenge = bytes.fromhex(args.challenge)
    except ValueError as exc:
        raise UserError(
            f"--challenge {args.challenge!r} is not hex", "give an even number of hex digits"
        ) from exc
    if not challenge:
        raise UserError("--challenge is empty", "give the nonce to sign as hex, e.g. --challenge 00112233")
    if not args.pin_stdin:
        raise UserError("the PIN is read from stdin only", "pipe it in and pass --pin-stdin")
    try:
        # Unbuffered: the PIN goes straight from the pipe into the wipeable buffer, not into
        # an io buffer that cannot be wiped.
        pin = read_pin(getattr(sys.stdin.buffer, "raw", sys.stdin.buffer))
        with _open(args) as session:
            result = session.authenticate(pin, challenge)
            stats = session.stats
    except DeviceError as exc:
        return _report_error(exc, args.json)
    except DeviceUrlError as exc:
        raise UserError(str(exc), "check --reader / --emulate") from exc
    pem = x509.load_der_x509_certificate(result.certificate_der).public_bytes(Encoding.PEM).decode()
    payload = {
        "ok": True,
        "card_kind": result.kind.value,
        "certificate_pem": pem,
        "signature_hex": result.signature.hex(),
        "tries_left": result.tries_left,
        "apdus": stats.apdus,
    }
    emit(
        payload,
        args.json,
        lambda: f"{pem}signature: {result.signature.hex()}\ntries left: {result.tries_left}",
    )
    return 0


def _target_options(parser: argparse.ArgumentParser, *, after_parent: bool = False) -> None:
    """`--reader`, `--emulate`, `--extended`, `--json`.

    On a sub-command (`after_parent`) they default to nothing, so that what was given before the
    sub-command (`kiosk diag card --reader X auth`) is kept instead of being reset to the default.
    """
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if after_parent else {}
    parser.add_argument("--reader", metavar="NAME", help="PC/SC reader name (or a unique part of it)", **keep)
    parser.add_argument(
        "--emulate", metavar="PERSONA", help="use the in-process card emulator with this persona", **keep
    )
    parser.add_argument(
        "--extended", action="store_true", help="use extended-length APDUs (reader must pass them)", **keep
    )
    if after_parent:
        parser.add_argument(
            "--json", action="store_true", help="print machine-readable JSON on stdout", **keep
        )
    else:
        add_json_flag(parser)


def register_diag(diag: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `card` (and `card auth`) to `kiosk diag`."""
    help_text = "card readers, My Number card kind and remaining PIN tries"
    card = diag.add_parser("card", help=help_text, description=help_text)
    _target_options(card)
    card.set_defaults(func=status_command)
    sub = card.add_subparsers(title="commands", metavar="COMMAND")
    auth_help = "JPKI user authentication: auth certificate (PEM), signature of a challenge, tries left"
    auth = sub.add_parser(
        "auth", help=auth_help, description=auth_help + ". The PIN is read from stdin only."
    )
    _target_options(auth, after_parent=True)
    auth.add_argument(
        "--pin-stdin", action="store_true", help="read the 4-digit auth PIN from stdin (required)"
    )
    auth.add_argument("--challenge", required=True, metavar="HEX", help="challenge (nonce) to sign, in hex")
    auth.set_defaults(func=auth_command)
