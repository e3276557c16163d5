"""The card driver through the real PC/SC stack: pyscard → pcscd → vpcd → our emulator.

Each test inserts fresh emulated cards into the session's private pcscd (tests/fixtures/pcsc.py).
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from device_drivers.card.constants import CardKind, JpkiEf, KenhojoEf
from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.errors import (
    CardRemoved,
    NoCardPresent,
    PinBlocked,
    PinIncorrect,
    PinLastTry,
    PinRequired,
    ReaderAmbiguous,
    ReaderGone,
    ReaderNotFound,
)
from device_drivers.card.events import CardEvent, CardEventKind, CardEventMonitor
from device_drivers.card.pcsc import list_readers
from device_drivers.card.pin import Pin
from device_drivers.card.session import open_card
from tests.fixtures.pcsc import ApduCounter, InsertCard, PcscDaemon, wait_card_state

pytestmark = pytest.mark.pcsc


class PullAfterVerify:
    """Wraps a card: after a successful VERIFY with a PIN, the next APDU finds the card gone."""

    def __init__(self, card: EmulatedCard) -> None:
        self.card = card
        self.atr = card.atr
        self.armed = False

    def power_off(self) -> None:
        self.card.power_off()

    def power_on(self) -> None:
        self.card.power_on()

    def reset(self) -> None:
        self.card.reset()

    def process(self, apdu: bytes) -> bytes | None:
        if self.armed:
            return None  # pulled out while the host sends the next command
        answer = self.card.process(apdu)
        if apdu[1] == 0x20 and len(apdu) > 5 and answer == b"\x90\x00":
            self.armed = True
        return answer


def _verify_signature(cert_der: bytes, signature: bytes, challenge: bytes) -> None:
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())


def test_full_jpki_authentication_through_pcscd(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN valid-adult in the vpcd reader WHEN authenticating through pcscd THEN the signature
    verifies with the auth certificate read from the card, within the short-APDU budget."""
    inserted = insert_card("valid-adult")
    with open_card(f"pcsc://{pcsc_daemon.reader}") as session:
        result = session.authenticate(Pin.from_digits("1234"), b"kiosk-nonce-1")
        assert session.stats.apdus <= 14
    _verify_signature(result.certificate_der, result.signature, b"kiosk-nonce-1")
    assert result.kind is CardKind.MY_NUMBER_CARD and result.tries_left == 3
    assert inserted.card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 3


def test_extended_length_authentication_through_pcscd(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon
) -> None:
    """GIVEN a reader passing extended APDUs WHEN authenticating THEN one extended read, ≤ 8 APDUs."""
    insert_card("valid-adult")
    with open_card(f"pcsc://{pcsc_daemon.reader}", extended_length=True) as session:
        result = session.authenticate(Pin.from_digits("1234"), b"n2")
        assert session.stats.apdus <= 8
        assert any("(ext)" in c for c in session.stats.commands)
    _verify_signature(result.certificate_der, result.signature, b"n2")


def test_wrong_pin_down_to_lock_through_pcscd(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN 3 tries WHEN wrong PINs are entered in separate sessions THEN 2 left, last-try warning,
    locked; afterwards even the right PIN is refused without a VERIFY being sent."""
    inserted = insert_card("valid-adult")
    url = f"pcsc://{pcsc_daemon.reader}"
    seen: list[tuple[str, int | None]] = []
    for _ in range(3):
        with open_card(url) as session:
            try:
                session.authenticate(Pin.from_digits("9999"), b"n")
            except (PinIncorrect, PinBlocked) as exc:
                seen.append((exc.message_key, getattr(exc, "tries_left", None)))
    assert seen == [("card_pin_incorrect", 2), ("card_pin_incorrect_last_try", 1), ("card_pin_blocked", None)]
    with open_card(url) as session:
        assert session.auth_tries_left() == 0
        with pytest.raises(PinBlocked):
            session.authenticate(Pin.from_digits("1234"), b"n")
        assert not any("<redacted>" in c for c in session.stats.commands)
    assert inserted.card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 0


def test_tries_left_query_does_not_consume_a_try(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN the one-try persona WHEN tries are queried five times across reconnects THEN always 1."""
    inserted = insert_card("pin-one-try")
    answers = []
    for _ in range(5):
        with open_card(f"pcsc://{pcsc_daemon.reader}") as session:
            answers.append(session.auth_tries_left())
    assert answers == [1] * 5
    assert inserted.card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 1


def test_retry_counter_survives_pulling_the_card(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN one wrong PIN WHEN the card is pulled and re-inserted THEN it still has 2 tries."""
    inserted = insert_card("valid-adult")
    url = f"pcsc://{pcsc_daemon.reader}"
    with open_card(url) as session, pytest.raises(PinIncorrect):
        session.verify_auth_pin(Pin.from_digits("0000"))
    inserted.remove()
    inserted.reinsert()
    with open_card(url) as session:
        assert session.auth_tries_left() == 2


def test_card_pulled_between_verify_and_sign(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN VERIFY succeeded WHEN the card leaves before SIGN THEN CardRemoved (not a generic error);
    re-inserted, the card has forgotten the VERIFY (PinRequired) and spent no try."""
    inserted = insert_card("valid-adult", wrap=PullAfterVerify)
    url = f"pcsc://{pcsc_daemon.reader}"
    with open_card(url) as session, pytest.raises(CardRemoved) as caught:
        session.authenticate(Pin.from_digits("1234"), b"n")
    assert caught.value.message_key == "card_removed"
    wait_card_state(pcsc_daemon.reader, present=False)
    inserted.link.card = inserted.card  # put back the plain card
    inserted.reinsert()
    with open_card(url) as session:
        assert session.card_kind() is CardKind.MY_NUMBER_CARD  # selects JPKI again
        with pytest.raises(PinRequired):
            session.sign_challenge(b"n")
        assert session.auth_tries_left() == 3


def test_empty_reader_and_unknown_reader_are_typed(pcsc_daemon: PcscDaemon) -> None:
    """GIVEN no card / a wrong reader name / an ambiguous name THEN NoCardPresent, ReaderNotFound
    (listing the readers) and ReaderAmbiguous."""
    with pytest.raises(NoCardPresent):
        open_card(f"pcsc://{pcsc_daemon.reader}")
    with pytest.raises(ReaderNotFound, match="Madoguchi Test PCD 00 00"):
        open_card("pcsc://SCM SCR3310")
    with pytest.raises(ReaderAmbiguous):
        open_card("pcsc://Madoguchi Test PCD")


def test_two_readers_pick_by_configured_name(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN a My Number card in slot 1 and another card in slot 0 WHEN opening by name THEN each
    reader gives its own card."""
    insert_card("not-my-number", slot=0)
    insert_card("juki-card", slot=1)
    found = {r.name: r.card_present for r in list_readers()}
    assert found == {pcsc_daemon.readers[0]: True, pcsc_daemon.readers[1]: True}
    with open_card(f"pcsc://{pcsc_daemon.readers[0]}") as s0, open_card("pcsc://PCD 00 01") as s1:
        assert (s0.card_kind(), s1.card_kind()) == (CardKind.OTHER, CardKind.JUKI_CARD)


def test_basic_four_through_pcscd_with_its_own_pin(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN the kenhojo-pin-differs card WHEN the basic four is read through pcscd with its own 券面事項入力補助
    PIN THEN the name arrives intact, one PIN was VERIFYed (on that AP only) and the My Number EF was never read."""
    inserted = insert_card("kenhojo-pin-differs", wrap=ApduCounter)
    with open_card(f"pcsc://{pcsc_daemon.reader}") as session:
        basic = session.read_basic_four(Pin.from_digits(inserted.card.persona.kenhojo_pin_value))
    assert basic.name == "窓口 次郎"
    seen = inserted.link.card
    assert isinstance(seen, ApduCounter)
    assert seen.pin_verifies == Counter({"kenhojo": 1})
    assert seen.reads == {("kenhojo", KenhojoEf.BASIC_FOUR)}


def test_kenhojo_pin_with_one_try_left_is_not_tried_through_pcscd(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon
) -> None:
    """GIVEN a card whose 券面事項入力補助 PIN has 1 try left WHEN the basic four is asked through pcscd THEN
    PinLastTry with 1 try left, no PIN sent, and the card still has its 1 try."""
    persona = dataclasses.replace(persona_by_name("kenhojo-pin-differs"), kenhojo_tries=1)
    inserted = insert_card(persona, wrap=ApduCounter)
    with open_card(f"pcsc://{pcsc_daemon.reader}") as session, pytest.raises(PinLastTry) as refused:
        session.read_basic_four(Pin.from_digits("5678"))
    assert refused.value.tries_left == 1
    seen = inserted.link.card
    assert isinstance(seen, ApduCounter) and seen.pin_verifies == Counter()
    assert inserted.card.tries_left("kenhojo", KenhojoEf.PIN) == 1


def _drain(
    events: queue.Queue[CardEvent], until: CardEventKind, reader: str, timeout: float = 5.0
) -> list[CardEvent]:
    got: list[CardEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        got.append(event)
        if event.kind is until and (not reader or event.reader == reader):
            return got
    raise AssertionError(f"no {until} for {reader!r}; got {got}")


def test_events_report_cards_already_in_and_later_changes(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon
) -> None:
    """GIVEN a card already inserted WHEN the monitor starts THEN it reports it; removal and a new
    insertion follow as events in the queue; the other reader is filtered out."""
    reader = pcsc_daemon.reader
    first = insert_card("valid-adult")
    events: queue.Queue[CardEvent] = queue.Queue()
    monitor = CardEventMonitor(events, reader_filter=reader, poll_ms=200)
    monitor.start()
    try:
        got = _drain(events, CardEventKind.CARD_INSERTED, reader)
        assert got[-1].atr == first.card.atr
        insert_card("juki-card", slot=1)  # filtered out
        first.remove()
        _drain(events, CardEventKind.CARD_REMOVED, reader)
        first.reinsert()
        _drain(events, CardEventKind.CARD_INSERTED, reader)
    finally:
        monitor.stop()
    leftovers = []
    while not events.empty():
        leftovers.append(events.get())
    assert all(e.reader in ("", reader) for e in leftovers)


def test_reader_gone_mid_session_and_monitor_rebuilds_after_pcscd_restart(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon
) -> None:
    """GIVEN an open session and a running monitor WHEN pcscd (and with it the reader) goes away
    THEN the next APDU raises ReaderGone and the monitor reports the loss; WHEN pcscd comes back
    THEN the monitor rebuilds itself and reports the reader and the card again."""
    reader = pcsc_daemon.reader
    insert_card("valid-adult")
    events: queue.Queue[CardEvent] = queue.Queue()
    monitor = CardEventMonitor(events, reader_filter=reader, poll_ms=200, retry_seconds=0.2)
    monitor.start()
    try:
        _drain(events, CardEventKind.CARD_INSERTED, reader)
        session = open_card(f"pcsc://{reader}")
        session.card_kind()
        pcsc_daemon.stop()
        with pytest.raises(ReaderGone) as caught:
            session.auth_tries_left()
        assert caught.value.message_key == "card_reader_gone"
        session.close()
        _drain(events, CardEventKind.SERVICE_LOST, "")
        pcsc_daemon.start()
        _drain(events, CardEventKind.SERVICE_RESTORED, "")
        _drain(events, CardEventKind.CARD_INSERTED, reader, timeout=10)
        assert monitor.rebuilds >= 1
        with open_card(f"pcsc://{reader}") as again:
            assert again.card_kind() is CardKind.MY_NUMBER_CARD
    finally:
        monitor.stop()
        if pcsc_daemon.proc is None:  # leave the session's daemon running for the next tests
            pcsc_daemon.start()
