"""TLV, APDU and card-file parsing: exact decoding of known data, and property tests proving
that malformed card answers give a clear `CardMalformedResponse` (or another `CardError`),
never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.card.apdu import CommandApdu, parse_response
from device_drivers.card.channel import CardChannel
from device_drivers.card.errors import CardMalformedResponse
from device_drivers.card.jpki import authenticate
from device_drivers.card.kenhojo import my_number_check_digit, parse_basic_four, read_basic_four
from device_drivers.card.pin import Pin
from device_drivers.card.tlv import decode_header, encode_tlv, iter_tlvs, parse_one
from device_drivers.errors import CardError


def test_multibyte_tags_and_long_lengths_decode() -> None:
    """GIVEN FF20/DF22 tags and 81/82 lengths WHEN decoded THEN tag, header size and length match."""
    assert decode_header(bytes.fromhex("FF2003")) == (0xFF20, 3, 3)
    assert decode_header(bytes.fromhex("DF228180")) == (0xDF22, 4, 0x80)
    assert decode_header(bytes.fromhex("308205F3")) == (0x30, 4, 0x05F3)
    assert decode_header(bytes.fromhex("3083010000")) == (0x30, 5, 0x10000)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "no tag"),
        ("FF", "tag is truncated"),
        ("30", "length is missing"),
        ("3080", "indefinite"),
        ("3084FFFFFFFF", "too large"),
        ("3082FF", "length is truncated"),
    ],
)
def test_malformed_headers_say_what_is_wrong(raw: str, reason: str) -> None:
    """GIVEN a broken TLV header WHEN decoded THEN the error names the problem."""
    with pytest.raises(CardMalformedResponse, match=reason):
        decode_header(bytes.fromhex(raw))


def test_value_running_past_the_buffer_is_reported() -> None:
    """GIVEN a TLV claiming more bytes than present WHEN parsed THEN a clear error, not a short value."""
    with pytest.raises(CardMalformedResponse, match="runs past"):
        parse_one(bytes.fromhex("DF2205414243"))


@given(st.lists(st.tuples(st.sampled_from([0x30, 0x04, 0xDF22, 0xFF20, 0x5F1F]), st.binary(max_size=300))))
def test_encoded_tlvs_decode_back(items: list[tuple[int, bytes]]) -> None:
    """Property: any sequence of encoded TLVs decodes to the same tags and values."""
    buf = b"".join(encode_tlv(tag, value) for tag, value in items)
    assert [(t.tag, t.value) for t in iter_tlvs(buf)] == items


@given(st.binary(max_size=64))
def test_random_bytes_never_crash_tlv_parsing(buf: bytes) -> None:
    """Property: arbitrary bytes either parse or raise CardMalformedResponse."""
    try:
        list(iter_tlvs(buf))
    except CardMalformedResponse as exc:
        assert str(exc)


@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_basic_four_parser(buf: bytes) -> None:
    """Property: the basic-4 parser accepts or refuses clearly, for any EF content."""
    try:
        parse_basic_four(buf)
    except CardMalformedResponse as exc:
        assert str(exc)


@given(st.binary(max_size=3))
def test_short_responses_are_malformed_not_index_errors(raw: bytes) -> None:
    """Property: a response needs a status word; fewer than 2 bytes is a clear error."""
    if len(raw) < 2:
        with pytest.raises(CardMalformedResponse, match="no status word"):
            parse_response(raw)
    else:
        resp = parse_response(raw)
        assert resp.sw == int.from_bytes(raw[-2:], "big")
        assert resp.data == raw[:-2]


def test_basic_four_with_long_lengths_and_rare_kanji() -> None:
    """GIVEN a basic-4 EF with 81-lengths and 𠮷 WHEN parsed THEN all four fields come back."""
    address = "東京都" * 50  # > 127 bytes: 82/81 length forms
    inner = (
        encode_tlv(0xDF21, bytes(10))
        + encode_tlv(0xDF22, "𠮷田 一郎".encode())
        + encode_tlv(0xDF23, address.encode())
        + encode_tlv(0xDF24, b"19551123")
        + encode_tlv(0xDF25, b"1")
    )
    data = encode_tlv(0xFF20, inner) + b"\xff" * 20
    basic = parse_basic_four(data)
    assert (basic.name, basic.address, basic.birth_date, basic.sex) == (
        "𠮷田 一郎",
        address,
        "19551123",
        "male",
    )
    assert "𠮷" not in repr(basic)


def test_my_number_check_digit_of_a_known_number() -> None:
    """GIVEN the first 11 digits of 123456789018 WHEN the check digit is computed THEN 8; bad input refused."""
    assert my_number_check_digit("12345678901") == 8
    with pytest.raises(ValueError, match="11 digits"):
        my_number_check_digit("1234567890")


def test_apdu_encoding_short_and_extended() -> None:
    """GIVEN commands WHEN encoded THEN ISO 7816-4 short/extended forms come out."""
    assert CommandApdu(0, 0xB0, 0x8A, 0, le=256).to_bytes().hex() == "00b08a0000"
    assert CommandApdu(0, 0xB0, 1, 0, le=0x61F, extended=True).to_bytes().hex() == "00b00100" + "00061f"
    assert CommandApdu(0x80, 0x2A, 0, 0x80, b"\x01\x02", le=256).to_bytes().hex() == "802a0080020102" + "00"
    assert "<redacted>" in CommandApdu(0, 0x20, 0, 0x80, b"1234").describe()
    assert "1234" not in repr(CommandApdu(0, 0x20, 0, 0x80, b"1234"))


class _ScriptedCard:
    """A transport answering from a list of raw responses (drawn by hypothesis)."""

    name = "scripted"
    extended_length = False

    def __init__(self, answers: list[bytes]) -> None:
        self._answers = list(answers)

    def transmit(self, apdu: bytes | bytearray) -> bytes:
        return self._answers.pop(0) if self._answers else b"\x6f\x00"

    def close(self) -> None:
        pass


_answer = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"\x90\x00", b"\x63\xc2", b"\x69\x84", b"\x6a\x82", b"\x69\x82", b"\x62\x82"]),
    st.binary(min_size=1, max_size=40).map(lambda b: b + b"\x90\x00"),
    st.just(b"JPKIAPICCTOKEN2".ljust(32) + b"\x90\x00"),
    st.just(bytes.fromhex("30820500") + b"\x90\x00"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_answer, max_size=20))
def test_garbage_card_answers_give_card_errors_only(answers: list[bytes]) -> None:
    """Property: whatever a (broken) card answers, a full authentication and a basic-four read
    end in a result or a CardError subclass with a message; never another exception."""
    for operation in (
        lambda ch: authenticate(ch, Pin.from_digits("1234"), b"nonce"),
        lambda ch: read_basic_four(ch, Pin.from_digits("1234")),
    ):
        try:
            operation(CardChannel(_ScriptedCard(answers)))
        except CardError as exc:
            assert exc.code.startswith("card.")
            assert str(exc)
