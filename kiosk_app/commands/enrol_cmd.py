"""`kiosk enrol`, `kiosk pair` and `kiosk renew`: get this device's identity from the central (from
enrol.json, or a pairing code typed on the touchscreen), and keep it current."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
from pathlib import Path

from kiosk_app.enrolment import EnrolmentState, IdentityPaths, enrol, read_token_file, renew
from kiosk_app.enrolment.client import absolute_data_dir
from kiosk_app.enrolment.pairing import PairingForm
from madoguchi.cli import add_json_flag, emit
from madoguchi.config.kiosk import Orientation
from madoguchi.errors import UserError

__all__ = ["register"]

_logger = logging.getLogger(__name__)

DEFAULT_TOKEN_FILE = Path("/boot/firmware/kiosk/enrol.json")
DEFAULT_CA_FILE = Path("/etc/madoguchi/root.pem")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `enrol`, `pair` and `renew`."""
    p = subparsers.add_parser(
        "enrol",
        help="enrol this device: key on the device, certificate and configuration from the central",
        description="Wait for the clock, create this device's EC key, send a certificate request with"
        " the one-time token (enrol.json) or pairing code, store certificate, chain and configuration,"
        " then erase the token file.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--token-file", type=Path, help=f"enrol.json from the boot partition (default {DEFAULT_TOKEN_FILE})"
    )
    source.add_argument("--pairing-code", help="pairing code shown by the operator (needs --device)")
    p.add_argument("--device", help="device id (default: from enrol.json, else the host name)")
    p.add_argument(
        "--central", help="enrolment URL, e.g. https://enrol.city.example:8443 (default: from enrol.json)"
    )
    p.add_argument("--data-dir", type=Path, default=Path("/data"), help="data partition (default /data)")
    p.add_argument(
        "--ca-file", type=Path, default=DEFAULT_CA_FILE, help=f"pinned fleet root (default {DEFAULT_CA_FILE})"
    )
    p.add_argument("--owner", help="user that owns the key and files (e.g. kiosk)")
    p.add_argument(
        "--clock-wait", type=float, default=120, help="seconds to wait for a set clock (default 120)"
    )
    add_json_flag(p)
    p.set_defaults(func=_enrol)

    pair = subparsers.add_parser(
        "pair",
        help="first boot without enrol.json: type the device id and pairing code on the touchscreen",
        description="Show the pairing screen; on 登録する/Pair, enrol like `kiosk enrol --pairing-code` and "
        "show the centre's answer (refusals with what to do). Exits 0 once paired.",
    )
    pair.add_argument(
        "--central",
        default=os.environ.get("KIOSK_ENROL_URL") or None,
        help="enrolment URL, e.g. https://enrol.city.example:8443 (default $KIOSK_ENROL_URL, set by the image)",
    )
    pair.add_argument("--device", help="device id shown first (default: the host name cloud-init set)")
    pair.add_argument("--data-dir", type=Path, default=Path("/data"), help="data partition (default /data)")
    pair.add_argument(
        "--ca-file", type=Path, default=DEFAULT_CA_FILE, help=f"pinned fleet root (default {DEFAULT_CA_FILE})"
    )
    pair.add_argument("--owner", help="user that owns the key and files (e.g. kiosk)")
    pair.add_argument(
        "--clock-wait", type=float, default=120, help="seconds to wait for a set clock (default 120)"
    )
    pair.add_argument("--fullscreen", action="store_true", help="fill the screen (the image's unit)")
    pair.add_argument(
        "--orientation", choices=["portrait", "landscape"], default="portrait", help="screen as mounted"
    )
    pair.set_defaults(func=_pair)

    r = subparsers.add_parser("renew", help="renew the device certificate over mutual TLS when it is due")
    r.add_argument("--data-dir", type=Path, default=Path("/data"), help="data partition (default /data)")
    r.add_argument("--force", action="store_true", help="renew now even if not due")
    r.add_argument("--owner", help="user that owns the key and files (e.g. kiosk)")
    add_json_flag(r)
    r.set_defaults(func=_renew)


def _describe(state: EnrolmentState) -> dict[str, object]:
    return {
        **state.__dict__,
        "not_after_iso": dt.datetime.fromtimestamp(state.not_after, dt.UTC).isoformat(timespec="seconds"),
        "renew_after_iso": dt.datetime.fromtimestamp(state.renew_after, dt.UTC).isoformat(timespec="seconds"),
    }


def _enrol(args: argparse.Namespace) -> int:
    token_file: Path | None = None
    token = fingerprint = fleet_root = ""
    device_id = args.device
    central = args.central
    if args.pairing_code is None:
        token_file = args.token_file or DEFAULT_TOKEN_FILE
        info = read_token_file(token_file)
        if device_id and device_id != info.device_id:
            raise UserError(
                f"{token_file} is for device {info.device_id}, not {device_id}",
                "use this device's own enrol.json",
            )
        device_id, token, fingerprint = info.device_id, info.token, info.ca_fingerprint
        fleet_root = info.fleet_root_id
        central = central or info.central_url
    device_id = device_id or socket.gethostname()
    if not central:
        raise UserError("no central URL", "pass --central https://... (or write central_url into enrol.json)")
    state = enrol(
        central,
        args.data_dir,
        device_id,
        args.ca_file,
        token=token or None,
        pairing_code=args.pairing_code,
        ca_fingerprint=fingerprint,
        owner=args.owner,
        clock_wait_s=args.clock_wait,
        fleet_root_id=fleet_root,
    )
    if token_file is not None:
        token_file.unlink(missing_ok=True)  # single use anyway; do not leave it on a readable FAT card
        _logger.info("erased %s", token_file)
    data = _describe(state)
    emit(
        data,
        args.json,
        f"enrolled as {state.device_id} ({state.branch}); certificate valid until {data['not_after_iso']}",
    )
    return 0


def _pair(args: argparse.Namespace) -> int:
    if not args.central:
        raise UserError(
            "no enrolment address for pairing",
            "pass --central https://… or set KIOSK_ENROL_URL (image build setting), or put enrol.json on the card",
        )

    def pair_with_code(device_id: str, code: str) -> str:
        state = enrol(
            args.central, args.data_dir, device_id, args.ca_file, pairing_code=code, owner=args.owner,
            clock_wait_s=args.clock_wait,
        )  # fmt: skip
        return f"{state.device_id} ({state.branch})"

    form = PairingForm(device_id=args.device or socket.gethostname().lower(), enrol=pair_with_code)
    from kiosk_app.ui.app import configure_window  # Kivy only loads for this command

    configure_window(Orientation(args.orientation), fullscreen=args.fullscreen)
    from kivy.app import App
    from kivy.clock import Clock

    from kiosk_app.ui.pairing_screen import PairingScreen

    class PairingApp(App):  # type: ignore[misc]
        title = "Madoguchi — pairing"

        def build(self) -> PairingScreen:
            return PairingScreen(form, on_paired=lambda: Clock.schedule_once(lambda _dt: self.stop(), 3))

    PairingApp().run()
    outcome = form.outcome
    if outcome is None or not outcome.ok:
        raise UserError(
            "the kiosk was not paired", outcome.message if outcome else "the pairing screen was closed"
        )
    emit({"paired": True, "device": outcome.message}, False, f"paired: {outcome.message}")
    return 0


def _renew(args: argparse.Namespace) -> int:
    state = renew(args.data_dir, args.force, args.owner)
    if state is None:
        current = _describe(EnrolmentState.load(IdentityPaths(absolute_data_dir(args.data_dir)).state))
        emit({"renewed": False, **current}, args.json, f"not due; renew after {current['renew_after_iso']}")
        return 0
    data = _describe(state)
    emit({"renewed": True, **data}, args.json, f"renewed; certificate valid until {data['not_after_iso']}")
    return 0
