"""The emulated My Number card, in-process: APDU handling of the state machine, and the
driver's operations over the ``emulated://card?persona=…`` transport (no pcscd needed)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.card.constants import AID_JPKI, AID_KENHOJO, CardKind, JpkiEf, KenhojoEf
from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import PERSONAS, BackendFlag, persona_by_name
from device_drivers.card.emulator.transport import EmulatedTransport, EmulatorBank
from device_drivers.card.errors import (
    CardRemoved,
    NotMyNumberCard,
    PinBlocked,
    PinFormatError,
    PinIncorrect,
    PinLastTry,
    PinRequired,
    UnsupportedCard,
)
from device_drivers.card.jpki import auth_digest_info
from device_drivers.card.messages import message_for
from device_drivers.card.pin import Pin
from device_drivers.card.session import CardSession, open_card
from madoguchi.errors import UserError
from tests.fixtures.pcsc import ApduCounter


@pytest.fixture
def bank(card_ca: JpkiTestCa) -> EmulatorBank:
    """Fresh cards (full counters) issued by the session's test CA."""
    return EmulatorBank(ca=card_ca)


def _card(bank: EmulatorBank, name: str) -> EmulatedCard:
    return bank.card(name)


def sw(answer: bytes) -> str:
    return answer[-2:].hex().upper()


def select_jpki(card: EmulatedCard) -> None:
    assert sw(card.process(b"\x00\xa4\x04\x0c\x0a" + AID_JPKI)) == "9000"


def test_unknown_aid_ef_and_instruction_get_iso_status_words(bank: EmulatorBank) -> None:
    """GIVEN a card WHEN sent unknown AIDs, EFs, INS, CLA or bad lengths THEN 6A82/6D00/6E00/6700."""
    card = _card(bank, "valid-adult")
    assert sw(card.process(bytes.fromhex("00A4040C0AD392F000260100000002"))) == "6A82"  # jsapdu's wrong AID
    select_jpki(card)
    assert sw(card.process(bytes.fromhex("00A4020C02ABCD"))) == "6A82"
    assert sw(card.process(bytes.fromhex("00A4090C02000A"))) == "6A86"
    assert sw(card.process(bytes.fromhex("00CA010000"))) == "6D00"
    assert sw(card.process(bytes.fromhex("A0B0000000"))) == "6E00"
    assert sw(card.process(bytes.fromhex("00A4020C05000A"))) == "6700"
    assert sw(card.process(bytes.fromhex("00B0000004"))) == "6986"  # no EF selected


def test_read_binary_short_extended_and_sfi_return_the_certificate(
    bank: EmulatorBank, card_ca: JpkiTestCa
) -> None:
    """GIVEN the auth cert EF WHEN read by SFI, by offset, and extended THEN the same DER comes back."""
    card = _card(bank, "valid-adult")
    cert = card_ca.material(persona_by_name("valid-adult")).auth_cert
    select_jpki(card)
    first = card.process(bytes.fromhex("00B08A0000"))  # SFI 0A, Le 256
    assert first[:-2] == cert[:256] and sw(first) == "9000"
    rest = card.process(bytes.fromhex("00B00100") + b"\x00" + (len(cert) - 256).to_bytes(2, "big"))
    assert first[:-2] + rest[:-2] == cert
    assert sw(card.process(bytes.fromhex("00B0") + len(cert).to_bytes(2, "big") + b"\x10")) == "6B00"
    assert x509.load_der_x509_certificate(cert).issuer.rfc4514_string().startswith("CN=Madoguchi TEST CA")


def test_empty_verify_reports_tries_without_spending_one(bank: EmulatorBank) -> None:
    """GIVEN 3 tries WHEN the empty VERIFY is sent twice THEN 63C3 both times and the counter stays."""
    card = _card(bank, "valid-adult")
    select_jpki(card)
    assert sw(card.process(bytes.fromhex("00200098"))) == "63C3"
    assert sw(card.process(bytes.fromhex("0020009800"))) == "63C3"  # with Le 00 (also seen)
    assert card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 3


def test_wrong_pins_count_down_lock_and_survive_power_cycles(bank: EmulatorBank) -> None:
    """GIVEN 3 tries WHEN wrong PINs are sent across power cycles THEN 63C2, 63C1, 63C0, then 6984;
    the right PIN is refused once locked."""
    card = _card(bank, "valid-adult")
    answers = []
    for _ in range(3):
        select_jpki(card)
        answers.append(sw(card.process(bytes.fromhex("002000980439393939"))))
        card.power_off()
        card.power_on()
    select_jpki(card)
    assert answers == ["63C2", "63C1", "63C0"]
    assert sw(card.process(bytes.fromhex("002000980431323334"))) == "6984"
    assert sw(card.process(bytes.fromhex("00200098"))) == "63C0"


def test_right_pin_resets_counter_and_reset_forgets_verification(bank: EmulatorBank) -> None:
    """GIVEN one wrong PIN WHEN the right one follows THEN tries are back to 3; after a reset the
    key needs VERIFY again (6982)."""
    card = _card(bank, "valid-adult")
    select_jpki(card)
    card.process(bytes.fromhex("002000980439393939"))
    assert sw(card.process(bytes.fromhex("002000980431323334"))) == "9000"
    assert card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 3
    digest = auth_digest_info(b"x")
    sign = bytes.fromhex("802A0080") + bytes((len(digest),)) + digest + b"\x00"
    assert sw(card.process(bytes.fromhex("00A4020C020017"))) == "9000"
    assert sw(card.process(sign)) == "9000"
    card.reset()
    select_jpki(card)
    card.process(bytes.fromhex("00A4020C020017"))
    assert sw(card.process(sign)) == "6982"


def test_card_signature_verifies_with_the_certificate_key(bank: EmulatorBank, card_ca: JpkiTestCa) -> None:
    """GIVEN VERIFY WHEN the card signs a SHA-256 DigestInfo THEN RSASSA-PKCS1-v1_5 verification passes."""
    with open_card("emulated://card?persona=valid-adult", bank=bank) as session:
        result = session.authenticate(Pin.from_digits("1234"), b"challenge-123")
    key = x509.load_der_x509_certificate(result.certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(result.signature, b"challenge-123", padding.PKCS1v15(), hashes.SHA256())
    assert result.kind is CardKind.MY_NUMBER_CARD


@pytest.mark.parametrize(
    ("persona", "kind"),
    [
        ("valid-adult", CardKind.MY_NUMBER_CARD),
        ("smartphone", CardKind.SMARTPHONE_JPKI),
        ("juki-card", CardKind.JUKI_CARD),
        ("not-my-number", CardKind.OTHER),
    ],
)
def test_card_kind_is_told_by_select_and_token(bank: EmulatorBank, persona: str, kind: CardKind) -> None:
    """GIVEN each kind of card WHEN detected THEN the kind comes from SELECT + token."""
    with open_card(f"emulated://card?persona={persona}", bank=bank) as session:
        assert session.card_kind() is kind


def test_other_cards_and_phones_are_refused_with_typed_errors(bank: EmulatorBank) -> None:
    """GIVEN a non-My-Number card or a phone WHEN authenticating THEN NotMyNumberCard / UnsupportedCard."""
    with open_card("emulated://card?persona=not-my-number", bank=bank) as s, pytest.raises(NotMyNumberCard):
        s.authenticate(Pin.from_digits("1234"), b"n")
    with open_card("emulated://card?persona=smartphone", bank=bank) as s, pytest.raises(UnsupportedCard):
        s.authenticate(Pin.from_digits("1234"), b"n")


def test_smartphone_needs_the_pin_before_its_certificate(bank: EmulatorBank) -> None:
    """GIVEN smartphone JPKI WHEN accepted THEN 000A is 6982 before VERIFY and auth still succeeds."""
    with open_card("emulated://card?persona=smartphone", bank=bank) as s:
        with pytest.raises(PinRequired):
            s.read_auth_certificate()
        result = s.authenticate(Pin.from_digits("1234"), b"n", accept=(CardKind.SMARTPHONE_JPKI,))
    assert result.kind is CardKind.SMARTPHONE_JPKI and result.certificate_der[:1] == b"\x30"


def test_locked_card_is_refused_without_verify(bank: EmulatorBank) -> None:
    """GIVEN the locked persona WHEN authenticating THEN PinBlocked and no VERIFY with data was sent."""
    with open_card("emulated://card?persona=pin-locked", bank=bank) as s:
        with pytest.raises(PinBlocked):
            s.authenticate(Pin.from_digits("1234"), b"n")
        assert not any("<redacted>" in c for c in s.stats.commands)


def test_last_try_warning_then_lock(bank: EmulatorBank) -> None:
    """GIVEN valid-adult WHEN two wrong PINs THEN 2 left, then the last-try warning; the third locks."""
    url = "emulated://card?persona=valid-adult"
    with open_card(url, bank=bank) as s, pytest.raises(PinIncorrect) as first:
        s.authenticate(Pin.from_digits("0000"), b"n")
    with open_card(url, bank=bank) as s, pytest.raises(PinIncorrect) as second:
        s.authenticate(Pin.from_digits("0000"), b"n")
    with open_card(url, bank=bank) as s, pytest.raises(PinBlocked):
        s.authenticate(Pin.from_digits("0000"), b"n")
    assert (first.value.tries_left, first.value.message_key) == (2, "card_pin_incorrect")
    assert (second.value.tries_left, second.value.message_key) == (1, "card_pin_incorrect_last_try")


def test_bad_pin_format_sends_nothing(bank: EmulatorBank) -> None:
    """GIVEN a 3-digit PIN WHEN authenticating THEN PinFormatError before any APDU."""
    with open_card("emulated://card?persona=valid-adult", bank=bank) as s:
        with pytest.raises(PinFormatError):
            s.authenticate(Pin.from_digits("123"), b"n")
        assert s.stats.apdus == 0


def test_card_pulled_in_process_between_verify_and_sign(bank: EmulatorBank) -> None:
    """GIVEN VERIFY succeeded WHEN the card is pulled before SIGN THEN CardRemoved; the counter is full."""
    transport = EmulatedTransport(bank.card("valid-adult"))
    session = CardSession(transport)
    session.verify_auth_pin(Pin.from_digits("1234"))
    transport.pull()
    with pytest.raises(CardRemoved):
        session.sign_challenge(b"n")
    assert bank.card("valid-adult").tries_left("JPKI", JpkiEf.AUTH_PIN) == 3


def test_basic_four_is_read_with_rare_kanji_and_without_the_my_number(bank: EmulatorBank) -> None:
    """GIVEN the rare-kanji persona WHEN the basic four is read with its 券面事項入力補助 PIN THEN name 𠮷田,
    address, birth date and sex come back, and the My Number EF (0001) was never read."""
    persona = persona_by_name("rare-kanji")
    seen = ApduCounter(bank.card("rare-kanji"))
    with CardSession(EmulatedTransport(seen)) as s:  # type: ignore[arg-type]
        assert s.kenhojo_tries_left() == 3
        basic = s.read_basic_four(Pin.from_digits("1234"))
    assert basic.name == "𠮷田 一郎" and basic.name.encode()[:4] == b"\xf0\xa0\xae\xb7"
    assert (basic.address, basic.birth_date, basic.sex) == (persona.address, "19551123", "male")
    assert seen.reads == {("kenhojo", KenhojoEf.BASIC_FOUR)}
    assert persona.full_name not in repr(basic)


def test_kenhojo_pin_differs_persona_keeps_its_own_pin(bank: EmulatorBank) -> None:
    """GIVEN the kenhojo-pin-differs card WHEN the auth PIN 1234 authenticates and the basic four is asked
    with 1234, then with its own 5678 THEN 1234 is refused on 券面事項入力補助 (2 tries left) and 5678 reads it."""
    with open_card("emulated://card?persona=kenhojo-pin-differs", bank=bank) as s:
        assert s.authenticate(Pin.from_digits("1234"), b"n").tries_left == 3
        with pytest.raises(PinIncorrect) as wrong:
            s.read_basic_four(Pin.from_digits("1234"))
        assert wrong.value.tries_left == 2
        assert s.read_basic_four(Pin.from_digits("5678")).name == "窓口 次郎"
    assert bank.card("kenhojo-pin-differs").tries_left("kenhojo", KenhojoEf.PIN) == 3


def test_kenhojo_files_need_the_pin(bank: EmulatorBank) -> None:
    """GIVEN no VERIFY WHEN EF 0002 is read THEN 6982."""
    card = bank.card("valid-adult")
    assert sw(card.process(b"\x00\xa4\x04\x0c\x0a" + AID_KENHOJO)) == "9000"
    assert sw(card.process(bytes.fromhex("00B0820000"))) == "6982"


def test_persona_certificates_match_their_story(card_ca: JpkiTestCa) -> None:
    """GIVEN the personas WHEN issued THEN expired is past notAfter, under-15 has no sign cert, the sign
    cert carries the name otherName, and the CRL lists exactly the revoked persona."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    expired = x509.load_der_x509_certificate(card_ca.material(persona_by_name("expired-cert")).auth_cert)
    assert expired.not_valid_after_utc < now
    assert card_ca.material(persona_by_name("under-15")).sign_cert is None
    sign = x509.load_der_x509_certificate(card_ca.material(persona_by_name("rare-kanji")).sign_cert or b"")
    names = sign.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    other = [n for n in names if isinstance(n, x509.OtherName)]
    assert "𠮷田 一郎".encode() in other[0].value
    crl = x509.load_der_x509_crl(card_ca.crl())
    revoked = {r.serial_number for r in crl}
    for p in PERSONAS:
        if p.has_jpki:
            serial = x509.load_der_x509_certificate(card_ca.material(p).auth_cert).serial_number
            assert (serial in revoked) == (BackendFlag.REVOKED in p.flags), p.name


def test_unknown_persona_lists_the_choices() -> None:
    """GIVEN a typo WHEN asking for a persona THEN the error lists valid names."""
    with pytest.raises(UserError, match="valid-adult"):
        persona_by_name("valid-adlut")


@pytest.mark.parametrize(("extended", "limit"), [(False, 14), (True, 8)])
def test_authentication_apdu_budget(bank: EmulatorBank, extended: bool, limit: int) -> None:
    """GIVEN a real-sized certificate WHEN authenticating THEN ≤ 14 short / ≤ 8 extended APDUs."""
    suffix = "&extended=1" if extended else ""
    with open_card(f"emulated://card?persona=valid-adult{suffix}", bank=bank) as s:
        s.authenticate(Pin.from_digits("1234"), b"n")
        assert s.stats.apdus <= limit, s.stats.commands


def test_persona_pin_can_be_changed_for_tests(card_ca: JpkiTestCa) -> None:
    """GIVEN a persona with another PIN WHEN the test PIN is used THEN it is wrong."""
    persona = dataclasses.replace(persona_by_name("valid-adult"), pin="8526")
    card = EmulatedCard(persona, card_ca.material(persona))
    with CardSession(EmulatedTransport(card)) as s, pytest.raises(PinIncorrect):
        s.verify_auth_pin(Pin.from_digits("1234"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_apdus_always_get_a_status_word(apdu: bytes) -> None:
    """Property: whatever bytes arrive, the emulated card answers with data + a status word and
    its PIN counter never goes up or below zero."""
    card = _HYPOTHESIS_BANK.card("valid-adult")
    card.process(b"\x00\xa4\x04\x0c\x0a" + AID_JPKI)
    before = card.tries_left("JPKI", JpkiEf.AUTH_PIN)
    answer = card.process(apdu)
    assert len(answer) >= 2
    assert 0 <= card.tries_left("JPKI", JpkiEf.AUTH_PIN) <= before


class _NoSfiCard:
    """A card that refuses READ BINARY / VERIFY addressed by SFI (some older cards)."""

    def __init__(self, card: EmulatedCard) -> None:
        self.card = card
        self.persona = card.persona

    def power_on(self) -> None:
        self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def reset(self) -> None:
        self.card.reset()

    def process(self, apdu: bytes) -> bytes:
        if (apdu[1] == 0xB0 and apdu[2] & 0x80) or (apdu[1] == 0x20 and apdu[3] & 0x1F):
            return b"\x6a\x86"
        return self.card.process(apdu)


def test_card_without_sfi_support_gets_select_and_read(bank: EmulatorBank) -> None:
    """GIVEN a card refusing SFI WHEN authenticating THEN the driver falls back to SELECT + READ and
    SELECT + VERIFY P2=80, and succeeds without spending a try."""
    card = bank.card("valid-adult")
    with CardSession(EmulatedTransport(_NoSfiCard(card))) as session:  # type: ignore[arg-type]
        result = session.authenticate(Pin.from_digits("1234"), b"n")
        assert any("00 A4 02 0C Lc=2 00 0A" in c for c in session.stats.commands)
    assert len(result.signature) == 256
    assert card.tries_left("JPKI", JpkiEf.AUTH_PIN) == 3


@pytest.mark.parametrize(("tries", "error"), [(0, PinBlocked), (1, PinLastTry)])
def test_kenhojo_pin_at_one_or_no_try_left_is_never_tried(
    card_ca: JpkiTestCa, tries: int, error: type[Exception]
) -> None:
    """GIVEN a 券面事項入力補助 PIN with 0 or 1 tries left WHEN the basic four is asked with a typed PIN THEN
    PinBlocked / PinLastTry (whose text states the tries left), no PIN was sent and the counter is unchanged."""
    persona = dataclasses.replace(persona_by_name("valid-adult"), kenhojo_tries=tries)
    seen = ApduCounter(EmulatedCard(persona, card_ca.material(persona)))
    with CardSession(EmulatedTransport(seen)) as s, pytest.raises(error) as refused:  # type: ignore[arg-type]
        s.read_basic_four(Pin.from_digits("1234"))
    assert seen.pin_verifies == Counter() and seen.reads == set()
    assert seen.card.tries_left("kenhojo", KenhojoEf.PIN) == tries
    if tries == 1:
        assert isinstance(refused.value, PinLastTry)
        assert "残り回数は1回" in message_for(refused.value, "ja")
        assert "1 try left" in message_for(refused.value, "en")


_HYPOTHESIS_BANK = EmulatorBank(ca=JpkiTestCa())
