"""KPL v1 framing: known-answer checksums, round trips and a parser that survives any bytes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.payment.codec import Control, Received, Rejected
from device_drivers.payment.kpl import KplCodec, LrcSettings, lrc
from device_drivers.payment.messages import (
    Abort,
    Confirm,
    Inquiry,
    InquiryReply,
    InquiryStatus,
    Method,
    Phase,
    Progress,
    Result,
    ResultCode,
    Sale,
    Status,
    StatusReply,
    TerminalState,
    Void,
)

CODEC = KplCodec()
STS_01 = bytes.fromhex("02 30 31 30 30 30 33 53 54 53 03 55")


@pytest.mark.parametrize(
    ("data", "start", "expected"),
    [(b"0200|123|\x03", 0x00, 0x31), (b"0200|123|", 0x00, 0x32), (b"0200|123|\x03", 0x7F, 0x4E)],
)
def test_lrc_known_answers_transbank(data: bytes, start: int, expected: int) -> None:
    """GIVEN the Transbank sample WHEN XORed with ETX in / out / start 0x7F THEN 0x31 / 0x32 / 0x4E."""
    assert lrc(data, start) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (LrcSettings(), 0x55),
        (LrcSettings(include_stx=True), 0x57),
        (LrcSettings(include_etx=False), 0x56),
        (LrcSettings(start=0x7F), 0x2A),
    ],
)
def test_sts_frame_known_answers(settings: LrcSettings, expected: int) -> None:
    """GIVEN STS with SEQ 01 WHEN encoded with each checksum setting THEN the reference LRC byte."""
    frame = KplCodec(lrc_settings=settings).encode(1, Status())
    assert frame[:-1] == STS_01[:-1]
    assert frame[-1] == expected
    assert KplCodec(lrc_settings=settings).parser().feed(frame, 0.0) == [Received(1, Status(), frame)]


RESULT = Result(
    "jp-131016-k03-0000000001",
    ResultCode.APPROVED,
    392,
    Method.CREDIT,
    "VISA",
    "411111******1111",
    "A1B2C3",
    "T1",
    "20260401120000",
    "00",
    None,
    None,
)
MESSAGES = [
    Status(),
    Sale("jp-131016-k03-0000000001", 392, "JPY", Method.EMONEY),
    Abort("r-1"),
    Inquiry("r-1"),
    Void("r-2", "r-1", "T1", 392),
    Confirm("r-1"),
    StatusReply(TerminalState.BUSY, "TID1", "r-1"),
    StatusReply(TerminalState.READY),
    Progress("r-1", Phase.PIN),
    RESULT,
    InquiryReply("jp-131016-k03-0000000001", InquiryStatus.APPROVED, RESULT),
    InquiryReply("r-1", InquiryStatus.NOT_FOUND),
    InquiryReply("r-1", InquiryStatus.IN_PROGRESS),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.TYPE)
def test_every_message_round_trips(message: object) -> None:
    """GIVEN each message type WHEN encoded and parsed THEN the same typed message comes back."""
    frame = CODEC.encode(42, message)  # type: ignore[arg-type]
    assert CODEC.parser().feed(frame, 0.0) == [Received(42, message, frame)]  # type: ignore[arg-type]


def test_empty_field_means_absent() -> None:
    """GIVEN a RES with absent fields WHEN parsed THEN they are None, not empty strings."""
    frame = CODEC.encode(3, Result("r", ResultCode.DECLINED))
    (event,) = CODEC.parser().feed(frame, 0.0)
    assert isinstance(event, Received) and event.message == Result("r", ResultCode.DECLINED)


def test_unknown_type_and_bad_lrc_are_rejected_for_nak() -> None:
    """GIVEN a frame with an unknown TYPE, one with a flipped LRC WHEN parsed THEN both are rejected."""
    body = b"070003XYZ\x03"
    unknown = b"\x02" + body + bytes([lrc(body)])
    good = CODEC.encode(7, Status())
    flipped = good[:-1] + bytes([good[-1] ^ 1])
    events = CODEC.parser().feed(unknown + flipped + good, 0.0)
    assert events == [Rejected("bad payload"), Rejected("bad LRC"), Received(7, Status(), good)]


def test_gap_longer_than_t_char_drops_partial_frame() -> None:
    """GIVEN half a frame WHEN the line is silent 250 ms THEN the half is dropped and the next frame parses."""
    frame = CODEC.encode(9, Inquiry("r-9"))
    parser = CODEC.parser()
    assert parser.feed(frame[:5], 0.0) == []
    assert parser.expire(0.25)
    assert parser.feed(frame[5:], 0.25) == []  # the tail alone is not a frame
    assert parser.feed(frame, 0.3) == [Received(9, Inquiry("r-9"), frame)]


def test_gap_shorter_than_t_char_keeps_frame() -> None:
    """GIVEN half a frame WHEN the rest comes 150 ms later THEN the frame is complete."""
    frame = CODEC.encode(9, Inquiry("r-9"))
    parser = CODEC.parser()
    parser.feed(frame[:5], 0.0)
    assert not parser.expire(0.15)
    assert parser.feed(frame[5:], 0.15) == [Received(9, Inquiry("r-9"), frame)]


def test_ack_and_nak_between_frames_are_reported() -> None:
    """GIVEN ACK, noise, NAK around a frame WHEN parsed THEN control events in order, noise skipped."""
    frame = CODEC.encode(1, Status())
    events = CODEC.parser().feed(b"\x06\x00\x02\x02zz" + frame + b"\x15", 0.0)
    assert events == [Control(True), Received(1, Status(), frame), Control(False)]


# --- properties ----------------------------------------------------------------------------------
message_strategy = st.sampled_from(MESSAGES)
ref_strategy = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=300)
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0, max_value=4000), max_size=20))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    """GIVEN any bytes in any chunks WHEN parsed THEN only parse events come out, never an exception."""
    parser = CODEC.parser()
    for index, chunk in enumerate(_chunks(data, cuts)):
        for event in parser.feed(chunk, index * 0.01):
            assert isinstance(event, Received | Rejected | Control)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(0, 99), message_strategy, st.binary(max_size=20)), max_size=6),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=30),
)
def test_any_chunking_gives_the_same_frames(items: list[tuple[int, object, bytes]], cuts: list[int]) -> None:
    """GIVEN frames with garbage between them WHEN fed whole or in arbitrary chunks THEN identical events."""
    stream = b"".join(noise.replace(b"\x02", b"") + CODEC.encode(seq, msg) for seq, msg, noise in items)  # type: ignore[arg-type]
    whole = CODEC.parser().feed(stream, 0.0)
    parser = CODEC.parser()
    chunked = [e for chunk in _chunks(stream, cuts) for e in parser.feed(chunk, 0.0)]
    assert chunked == whole
    frames = [e.message for e in whole if isinstance(e, Received)]
    assert frames == [msg for _seq, msg, _noise in items]


@settings(max_examples=200)
@given(message_strategy, st.integers(0, 99), st.data())
def test_single_bit_flip_is_never_accepted_as_the_original(
    message: object, seq: int, data: st.DataObject
) -> None:
    """GIVEN a frame with one bit flipped WHEN parsed THEN the original message is not delivered."""
    frame = CODEC.encode(seq, message)  # type: ignore[arg-type]
    index = data.draw(st.integers(0, len(frame) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(frame)
    flipped[index] ^= 1 << bit
    events = CODEC.parser().feed(bytes(flipped), 0.0)
    assert Received(seq, message, frame) not in events  # type: ignore[arg-type]
    assert not any(
        isinstance(e, Received) and e.raw == bytes(flipped) and e.message == message for e in events
    )


@given(ref_strategy, st.integers(1, 99_999_999))
def test_sale_round_trips_any_printable_ref_and_amount(ref: str, amount: int) -> None:
    """GIVEN any printable reference and 1-8 digit amount WHEN a SAL is encoded THEN it parses back."""
    sale = Sale(ref.replace("\x1c", ""), amount, "JPY", Method.QR)
    frame = CODEC.encode(1, sale)
    assert CODEC.parser().feed(frame, 0.0) == [Received(1, sale, frame)]
