"""A paid certificate that failed to print: signed 未交付 slip, one incident, free reprint (R-12, R-15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central_broker.cli import main as central_main
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from madoguchi.contracts.issuance import ConfirmResult, IncidentKind
from tests.fixtures.issuance import IssuanceEnv, KioskFactory, emulated_card


def _pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


class _PaperJam(Exception):
    """The A4 printer jammed."""


def test_failed_print_yields_a_signed_unissued_slip_an_incident_and_a_free_reprint(
    issuance_server: tuple[IssuanceEnv, RpcServer],
    issuance_kiosk: KioskFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a paid 住民票 WHEN the printer jams THEN the kiosk gets a 未交付 slip signed by the city's key naming
    the serial, device and payment, staff see one print_failed incident, `issuance verify --qr` accepts the
    slip (and refuses it tampered), and the reprint is handed out without a second incident."""
    env, _server = issuance_server
    kiosk = issuance_kiosk("jp-999999-k71")
    session = kiosk.begin()
    with emulated_card(env.ca, persona_by_name("valid-adult")) as card:
        auth = card.authenticate(Pin.from_digits("1234"), session.nonce)
    kiosk.authenticate_with(session, auth.certificate_der, auth.signature)
    document = kiosk.issue(session, "juminhyo", payment_ref="P-71")
    failed: list[ConfirmResult] = []

    def jam(pdf: bytes, copies: int) -> None:
        raise _PaperJam("media-jam-error")

    with pytest.raises(_PaperJam):
        kiosk.print_and_confirm(session, document, jam, on_failed=failed.append)

    (result,) = failed
    assert result.state == "print_failed" and result.unissued_slip is not None
    city = _pem(env.signing_key, tmp_path / "city.pem")
    capsys.readouterr()
    assert (
        central_main(["issuance", "verify", "--qr", result.unissued_slip, "--key", str(city), "--json"]) == 0
    )
    slip = json.loads(capsys.readouterr().out)
    assert (slip["serial"], slip["device_id"], slip["type_id"], slip["payment_ref"]) == (
        document.serial,
        "jp-999999-k71",
        "juminhyo",
        "P-71",
    )
    head, body, sig = result.unissued_slip.split(".")
    forged = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    assert central_main(["issuance", "verify", "--qr", forged, "--key", str(city)]) == 1
    other = _pem(Ed25519PrivateKey.generate(), tmp_path / "other.pem")
    assert central_main(["issuance", "verify", "--qr", result.unissued_slip, "--key", str(other)]) == 1

    again = kiosk.issue(session, "juminhyo", payment_ref="P-71")
    assert again.reprint and again.serial == document.serial
    incidents = env.service.incidents.incidents(open_only=True)
    assert [(i.kind, i.serial, i.payment_ref) for i in incidents] == [
        (IncidentKind.PRINT_FAILED, document.serial, "P-71")
    ]
