"""Every card-emulator persona end to end: card through pyscard → pcscd → vpcd → emulator, requests
through a real Mosquitto to the issuance service, the document checked and "printed".
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from device_drivers.card.constants import CardKind
from device_drivers.card.errors import NotMyNumberCard, PinBlocked, UnsupportedCard
from device_drivers.card.pin import Pin
from device_drivers.card.session import open_card
from kiosk_app.issuance_client import IssuanceClient, IssuanceRefused
from kiosk_app.rpc_client import RpcCallError
from madoguchi.contracts.rpc import RpcErrorCode
from tests.fixtures.issuance import KioskFactory
from tests.fixtures.pcsc import InsertCard, PcscDaemon

pytestmark = [pytest.mark.pcsc, pytest.mark.mosquitto]

DEVICE = "jp-999999-k11"


def pdf_text(pdf: bytes) -> str:
    """Text of a PDF as a reader would see it (poppler's pdftotext)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        [exe, "-", "-"], input=pdf, capture_output=True, check=True, timeout=30
    ).stdout.decode()


def _run(
    kiosk: IssuanceClient, reader: str, type_id: str = "juminhyo", accept: tuple[CardKind, ...] = ()
) -> tuple[str, list[str]]:
    """The whole flow; returns the printed document's text and the refused kinds of `type_id`'s options."""
    session = kiosk.begin()
    with open_card(f"pcsc://{reader}") as card:
        kiosk.authenticate(session, card, Pin.from_digits("1234"), accept=accept)
    options = kiosk.options(session)
    offered = {o.type_id for o in options.offers}
    if type_id not in offered:
        return "", [r.kind for r in options.refused if r.type_id == type_id]
    document = kiosk.issue(session, type_id, payment_ref="PAY-1")
    printed: list[bytes] = []
    result = kiosk.print_and_confirm(session, document, lambda pdf, copies: printed.append(pdf))
    assert result.state == "printed"
    assert document.wiped
    return pdf_text(printed[0]), []


@pytest.mark.parametrize(
    ("persona", "name"),
    [("valid-adult", "窓口 花子"), ("pin-one-try", "窓口 花子"), ("rare-kanji", "𠮷田 一郎")],
)
def test_persona_gets_own_certificate(
    persona: str, name: str, insert_card: InsertCard, pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory
) -> None:
    """GIVEN an eligible resident's card WHEN they ask for a 住民票 THEN the printed one is theirs."""
    insert_card(persona)
    text, refused = _run(issuance_kiosk(DEVICE), pcsc_daemon.reader)
    assert not refused
    assert name in text
    assert "証明書番号 999999-" in text


def test_smartphone_jpki_gets_certificate(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a smartphone JPKI (Android token) accepted by the kiosk WHEN used THEN a document prints."""
    insert_card("smartphone")
    text, _ = _run(issuance_kiosk(DEVICE), pcsc_daemon.reader, accept=(CardKind.SMARTPHONE_JPKI,))
    assert "窓口 花子" in text


@pytest.mark.parametrize(
    ("persona", "type_id", "kind"),
    [
        ("under-15", "juminhyo", "min_age"),
        ("moved-out", "juminhyo", "moved_out"),
        ("support-measures", "koseki_zenbu", "support_measures"),
    ],
)
def test_refusal_persona_gets_reason(
    persona: str,
    type_id: str,
    kind: str,
    insert_card: InsertCard,
    pcsc_daemon: PcscDaemon,
    issuance_kiosk: KioskFactory,
) -> None:
    """GIVEN a resident the rules refuse WHEN they authenticate THEN the type is refused with its reason."""
    insert_card(persona)
    text, refused = _run(issuance_kiosk(DEVICE), pcsc_daemon.reader, type_id)
    assert text == ""
    assert refused == [kind]


def test_refused_persona_cannot_issue_anyway(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory
) -> None:
    """GIVEN an under-15 card WHEN the kiosk asks to issue regardless THEN the service refuses it."""
    insert_card("under-15")
    kiosk = issuance_kiosk(DEVICE)
    session = kiosk.begin()
    with open_card(f"pcsc://{pcsc_daemon.reader}") as card:
        kiosk.authenticate(session, card, Pin.from_digits("1234"))
    with pytest.raises(RpcCallError) as caught:
        kiosk.issue(session, "juminhyo", payment_ref="PAY-2")
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
    assert "min_age" in caught.value.message


def test_moved_out_resident_still_gets_family_register(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a 転出 resident WHEN they ask for a 戸籍 (not covered by the 転出 rule) THEN it prints."""
    insert_card("moved-out")
    text, refused = _run(issuance_kiosk(DEVICE), pcsc_daemon.reader, "koseki_zenbu")
    assert not refused
    assert "戸籍" in text


@pytest.mark.parametrize(
    ("persona", "kind"), [("expired-cert", "certificate_expired"), ("revoked-cert", "certificate_revoked")]
)
def test_expired_and_revoked_certificates_refused(
    persona: str, kind: str, insert_card: InsertCard, pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory
) -> None:
    """GIVEN an expired or revoked auth certificate WHEN it authenticates THEN the service refuses with where to go."""
    insert_card(persona)
    kiosk = issuance_kiosk(DEVICE)
    session = kiosk.begin()
    with open_card(f"pcsc://{pcsc_daemon.reader}") as card, pytest.raises(IssuanceRefused) as caught:
        kiosk.authenticate(session, card, Pin.from_digits("1234"))
    assert caught.value.refusal.kind == kind
    assert caught.value.refusal.where_to_go
    with pytest.raises(RpcCallError) as denied:
        kiosk.options(session)
    assert denied.value.code is RpcErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("persona", "error"),
    [("pin-locked", PinBlocked), ("juki-card", UnsupportedCard), ("not-my-number", NotMyNumberCard)],
)
def test_card_side_refusals_never_reach_issuance(
    persona: str,
    error: type[Exception],
    insert_card: InsertCard,
    pcsc_daemon: PcscDaemon,
    issuance_kiosk: KioskFactory,
) -> None:
    """GIVEN a locked PIN, an old 住基カード or another card WHEN used THEN the card step fails and nothing is issued."""
    insert_card(persona)
    kiosk = issuance_kiosk(DEVICE)
    session = kiosk.begin()
    with open_card(f"pcsc://{pcsc_daemon.reader}") as card, pytest.raises(error):
        kiosk.authenticate(session, card, Pin.from_digits("1234"))
    with pytest.raises(RpcCallError) as denied:
        kiosk.issue(session, "juminhyo", payment_ref="PAY-3")
    assert denied.value.code is RpcErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("type_id", "title", "content"),
    [
        ("koseki_kojin", "戸籍個人事項証明書", "戸籍中の一部の者"),
        ("fuhyo", "戸籍の附票の写し", "住所を定めた日"),
        ("kazei", "所得・課税証明書", "合計所得金額"),
    ],
)
def test_each_register_has_its_own_document(
    type_id: str,
    title: str,
    content: str,
    insert_card: InsertCard,
    pcsc_daemon: PcscDaemon,
    issuance_kiosk: KioskFactory,
) -> None:
    """GIVEN an adult's card WHEN they ask for 戸籍抄本, 戸籍の附票 or 課税証明書 THEN the printed document has that
    certificate's own title and attestation and carries the resident's name."""
    insert_card("valid-adult")
    text, refused = _run(issuance_kiosk(DEVICE), pcsc_daemon.reader, type_id)
    assert not refused
    assert title in text.replace(" ", "") and content in text.replace(" ", "")
    assert "窓口 花子" in text or "窓口花子" in text.replace(" ", "")
