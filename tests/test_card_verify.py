"""Offline verification of a JPKI authentication against the pinned (test) auth CA, with the
emulator's personas; plus the resident-facing texts of every card error."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest

from device_drivers.card import errors as card_errors
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.transport import EmulatorBank
from device_drivers.card.errors import CertificateExpired, CertificateNotTrusted, SignatureInvalid
from device_drivers.card.jpki import AuthResult
from device_drivers.card.messages import MESSAGES, message_for
from device_drivers.card.pin import Pin
from device_drivers.card.session import open_card
from device_drivers.card.verify import verify_authentication
from device_drivers.errors import DeviceError

NOW = dt.datetime.now(dt.UTC)


def _auth(card_ca: JpkiTestCa, persona: str, challenge: bytes) -> AuthResult:
    with open_card(f"emulated://card?persona={persona}", bank=EmulatorBank(ca=card_ca)) as session:
        return session.authenticate(Pin.from_digits("1234"), challenge)


def test_valid_card_verifies_against_the_pinned_ca(card_ca: JpkiTestCa) -> None:
    """GIVEN valid-adult WHEN verified offline THEN issuer, serial and SPKI hash identify the certificate."""
    result = _auth(card_ca, "valid-adult", b"nonce")
    verified = verify_authentication(result, b"nonce", [card_ca.auth_ca_certificate], NOW)
    assert "JPKI for user authentication" in verified.issuer
    assert len(verified.spki_sha256) == 64 and verified.not_after > NOW


def test_expired_certificate_is_refused(card_ca: JpkiTestCa) -> None:
    """GIVEN the expired-cert persona WHEN verified THEN CertificateExpired (the card itself still signs)."""
    result = _auth(card_ca, "expired-cert", b"nonce")
    with pytest.raises(CertificateExpired):
        verify_authentication(result, b"nonce", [card_ca.auth_ca_certificate], NOW)


def test_certificate_from_another_ca_is_not_trusted(card_ca: JpkiTestCa) -> None:
    """GIVEN a card issued by a different CA WHEN verified against ours THEN CertificateNotTrusted."""
    other_ca = JpkiTestCa()
    result = _auth(other_ca, "valid-adult", b"nonce")
    with pytest.raises(CertificateNotTrusted):
        verify_authentication(result, b"nonce", [card_ca.auth_ca_certificate], NOW)


def test_signature_over_another_challenge_is_invalid(card_ca: JpkiTestCa) -> None:
    """GIVEN a signature of another nonce (replay) WHEN verified THEN SignatureInvalid."""
    result = _auth(card_ca, "valid-adult", b"old-nonce")
    with pytest.raises(SignatureInvalid):
        verify_authentication(result, b"new-nonce", [card_ca.auth_ca_certificate], NOW)


def test_every_card_error_has_japanese_and_english_text() -> None:
    """GIVEN each card error class WHEN its message key is looked up THEN ja and en texts exist."""
    members = inspect.getmembers(card_errors, inspect.isclass)
    classes = [c for _, c in members if issubclass(c, DeviceError) and c.__module__ == card_errors.__name__]
    keys = {c.message_key for c in classes} | {"card_pin_incorrect_last_try"}
    for key in keys:
        assert set(MESSAGES[key]) == {"ja", "en"}, key
    assert "2" in message_for(card_errors.PinIncorrect(2), "en")
    assert "次に間違えると" in message_for(card_errors.PinIncorrect(1), "ja")
