"""Privacy of the card path: the PIN lives in a wiped buffer and, like personal data (name,
address, birth date, My Number, certificate contents), never reaches logs, reprs or errors."""

from __future__ import annotations

import dataclasses
import io
import logging
import pickle
import queue
import re

import pytest

from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.errors import PinFormatError, PinIncorrect
from device_drivers.card.events import CardEvent, CardEventKind, CardEventMonitor
from device_drivers.card.pin import Pin, read_pin
from device_drivers.card.session import open_card
from tests.fixtures.pcsc import InsertCard, PcscDaemon

SECRET_PIN = "8526"


def test_pin_is_wiped_after_use_and_never_shown() -> None:
    """GIVEN a Pin WHEN shown, pickled or used as a context THEN nothing leaks and it is zeroed."""
    buf = bytearray(b"8526")
    pin = Pin(buf)
    assert SECRET_PIN not in repr(pin) and SECRET_PIN not in str(pin) and SECRET_PIN not in f"{pin}"
    with pytest.raises(TypeError):
        pickle.dumps(pin)
    with pin:
        pass
    assert pin.wiped and buf == bytearray()


def test_read_pin_from_stdin_stream() -> None:
    """GIVEN a PIN line on stdin WHEN read THEN a 4-digit Pin; empty or overlong input is refused."""
    pin = read_pin(io.BytesIO(b"8526\nrest"))
    pin.check_digits(4)
    with pytest.raises(PinFormatError, match="no PIN"):
        read_pin(io.BytesIO(b"\n"))
    with pytest.raises(PinFormatError, match="longer"):
        read_pin(io.BytesIO(b"1" * 40 + b"\n"))


def test_pin_is_wiped_after_authentication(card_ca: object) -> None:
    """GIVEN a successful authentication WHEN it returns THEN the caller's PIN buffer is zeroed."""
    from device_drivers.card.emulator.transport import EmulatorBank

    buf = bytearray(b"1234")
    with open_card("emulated://card?persona=valid-adult", bank=EmulatorBank(ca=card_ca)) as s:  # type: ignore[arg-type]
        s.authenticate(Pin(buf), b"n")
    assert buf == bytearray()


@pytest.mark.pcsc
def test_debug_logs_of_a_full_session_hold_no_pin_or_personal_data(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN DEBUG logging everywhere WHEN a resident's card goes through events, a wrong PIN,
    authentication and the basic-four read THEN no log line, error text or repr contains the PIN
    (as digits or APDU hex) or any personal data or certificate content."""
    caplog.set_level(logging.DEBUG)
    persona = dataclasses.replace(persona_by_name("rare-kanji"), pin=SECRET_PIN)
    events: queue.Queue[CardEvent] = queue.Queue()
    monitor = CardEventMonitor(events, reader_filter=pcsc_daemon.reader, poll_ms=200)
    monitor.start()
    texts: list[str] = []
    try:
        inserted = insert_card(persona)
        while events.get(timeout=5).kind is not CardEventKind.CARD_INSERTED:
            pass
        url = f"pcsc://{pcsc_daemon.reader}"
        with open_card(url) as session:
            try:
                session.authenticate(Pin.from_digits("1111"), b"n")
            except PinIncorrect as exc:
                texts += [str(exc), repr(exc), exc.detail]
            result = session.authenticate(Pin.from_digits(SECRET_PIN), b"nonce")
            basic = session.read_basic_four(Pin.from_digits(SECRET_PIN))
            texts += [repr(result), repr(basic)]
        inserted.remove()
        while events.get(timeout=5).kind is not CardEventKind.CARD_REMOVED:
            pass
    finally:
        monitor.stop()
    assert basic.name == persona.full_name  # the session really read the personal data
    from cryptography import x509

    cert = x509.load_der_x509_certificate(result.certificate_der)
    cn = cert.subject.rfc4514_string()
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "card " in logs and "<redacted>" in logs  # APDUs were logged at DEBUG, VERIFY redacted
    corpus = logs + "\n" + "\n".join(texts)
    assert not re.search(rf"(?<!\d){SECRET_PIN}(?!\d)", corpus)
    assert SECRET_PIN.encode().hex() not in corpus.replace(" ", "").lower()
    forbidden = [
        persona.full_name,
        persona.full_name.split()[0],
        persona.address,
        persona.address[:6],
        persona.my_number,
        persona.birth_date,
        cn,
        f"{cert.serial_number:X}",
        result.signature.hex()[:16],
        result.certificate_der.hex()[40:72],
    ]
    leaked = [item for item in forbidden if item.lower() in corpus.lower()]
    assert leaked == []
