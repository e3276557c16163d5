"""Attacks on certificate issuance are refused: replayed or expired nonces, another device's session,
swapped correlation data, a signature over another nonce, a certificate outside the JPKI CA, a
request answering to someone else's topic, work after the deadline, a document of another session.
Requests go through a real Mosquitto; cards are the in-process emulator.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central_broker.broker import MosquittoBroker
from central_broker.issuance.store import SessionState
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import Persona, persona_by_name
from device_drivers.card.pin import Pin
from kiosk_app.issuance_client import DocumentRejected, IssuanceClient, KioskSession
from kiosk_app.rpc_client import RpcCallError
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.issuance import ConfirmOutcome, IssueResult, b64d, b64e
from madoguchi.contracts.rpc import RpcErrorCode, RpcRequest, RpcResponse
from madoguchi.contracts.topics import Down, Up, down, up
from madoguchi.mqtt_client import make_client
from tests.fixtures.issuance import IssuanceEnv, KioskFactory, emulated_card

pytestmark = pytest.mark.mosquitto

ADULT = persona_by_name("valid-adult")
ANOTHER = persona_by_name("rare-kanji")


def _signed(
    env: IssuanceEnv,
    kiosk: IssuanceClient,
    session: KioskSession,
    persona: Persona = ADULT,
    over: bytes | None = None,
) -> tuple[bytes, bytes]:
    """(certificate, signature) of `persona`'s card over the session nonce (or over `over`)."""
    with emulated_card(env.ca, persona) as card:
        auth = card.authenticate(Pin.from_digits("1234"), session.nonce if over is None else over)
    return auth.certificate_der, auth.signature


def _authenticated(env: IssuanceEnv, kiosk: IssuanceClient, persona: Persona = ADULT) -> KioskSession:
    session = kiosk.begin()
    return kiosk.authenticate_with(session, *_signed(env, kiosk, session, persona))


def test_second_card_cannot_reuse_a_consumed_nonce(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a nonce already used by one card WHEN another card signs the same nonce THEN it is refused (CONFLICT)."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k21")
    session = _authenticated(env, kiosk)
    with pytest.raises(RpcCallError) as caught:
        kiosk.authenticate_with(session, *_signed(env, kiosk, session, ANOTHER))
    assert caught.value.code is RpcErrorCode.CONFLICT
    document = kiosk.issue(session, "juminhyo", payment_ref="P-1")  # still bound to the first card
    assert document.serial
    assert env.store.session(session.session_id).cert_fp == session.cert_fp  # type: ignore[union-attr]


def test_replayed_authentication_after_printing_is_refused(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a session whose document was printed WHEN its authentication is replayed THEN no new document comes."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k22")
    session = kiosk.begin()
    cert, signature = _signed(env, kiosk, session)
    kiosk.authenticate_with(session, cert, signature)
    document = kiosk.issue(session, "juminhyo", payment_ref="P-2")
    kiosk.print_and_confirm(session, document, lambda pdf, n: None)
    with pytest.raises(RpcCallError) as caught:
        kiosk.authenticate_with(session, cert, signature)  # same bytes, new request id
    assert caught.value.code is RpcErrorCode.CONFLICT
    with pytest.raises(RpcCallError):
        kiosk.issue(session, "juminhyo", payment_ref="P-2")


def test_expired_nonce_is_refused(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a nonce older than its 120 s validity WHEN it is signed and sent THEN authentication is refused."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k23")
    session = kiosk.begin()
    signed = _signed(env, kiosk, session)
    env.clock.advance(121)
    with pytest.raises(RpcCallError) as caught:
        kiosk.authenticate_with(session, *signed)
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
    assert "expired" in caught.value.message
    assert env.store.session(session.session_id).state is SessionState.EXPIRED  # type: ignore[union-attr]


def test_another_devices_session_id_is_refused(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN kiosk A's session WHEN kiosk B uses its id to authenticate, list or issue THEN B is refused and A goes on."""
    env, _ = issuance_server
    kiosk_a, kiosk_b = issuance_kiosk("jp-999999-k24"), issuance_kiosk("jp-999998-k01")
    session_a = kiosk_a.begin()
    stolen = KioskSession(session_a.session_id, session_a.nonce, session_a.expires_ms)
    with pytest.raises(RpcCallError) as caught:
        kiosk_b.authenticate_with(stolen, *_signed(env, kiosk_b, stolen, ANOTHER))
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
    kiosk_a.authenticate_with(session_a, *_signed(env, kiosk_a, session_a))
    stolen.cert_fp = session_a.cert_fp
    for step in (
        lambda: kiosk_b.options(stolen),
        lambda: kiosk_b.issue(stolen, "juminhyo", payment_ref="P-3"),
    ):
        with pytest.raises(RpcCallError) as denied:
            step()
        assert denied.value.code is RpcErrorCode.PERMISSION_DENIED
    document = kiosk_a.issue(session_a, "juminhyo", payment_ref="P-3")
    assert document.serial


def test_signature_over_another_nonce_is_refused(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a genuine card signature over some other nonce WHEN sent for this session THEN it is refused."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k25")
    session = kiosk.begin()
    with pytest.raises(RpcCallError) as caught:
        kiosk.authenticate_with(session, *_signed(env, kiosk, session, over=os.urandom(32)))
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
    assert "bad_signature" in caught.value.message


def test_certificate_not_chaining_to_jpki_ca_is_refused(issuance_kiosk: KioskFactory) -> None:
    """GIVEN a card issued by a CA that is not the configured JPKI CA WHEN it authenticates THEN it is refused."""
    kiosk = issuance_kiosk("jp-999999-k26")
    rogue = JpkiTestCa()  # same names and shape, different keys
    session = kiosk.begin()
    with emulated_card(rogue, ADULT) as card:
        auth = card.authenticate(Pin.from_digits("1234"), session.nonce)
    with pytest.raises(RpcCallError) as caught:
        kiosk.authenticate_with(session, auth.certificate_der, auth.signature)
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
    assert "untrusted" in caught.value.message


class _RawKiosk:
    """A bare MQTT 5 client that can send malformed or hostile RPC requests and collect any answers."""

    def __init__(self, broker: MosquittoBroker, device_id: str) -> None:
        self.answers: list[mqtt.MQTTMessage] = []
        self.client = make_client(f"raw-{uuid.uuid4().hex[:6]}", BrokerConfig(url=broker.url))
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, msg: self.answers.append(msg)
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(f"kiosk/v1/d/{device_id}/down/rpc", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def send(self, device_id: str, request: RpcRequest, response_topic: str, correlation: bytes) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = response_topic
        props.CorrelationData = correlation
        self.client.publish(
            up(device_id, Up.RPC), request.to_bytes(), qos=1, properties=props
        ).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_requests_with_wrong_topic_correlation_or_deadline_do_no_work(
    issuance_server: tuple[IssuanceEnv, RpcServer], mosquitto: MosquittoBroker
) -> None:
    """GIVEN requests answering to another device, with swapped CorrelationData, or past their deadline
    WHEN they reach the service THEN none is answered and none creates a session."""
    env, server = issuance_server
    device, victim = "jp-999999-k27", "jp-999999-k28"
    raw, watcher = _RawKiosk(mosquitto, device), _RawKiosk(mosquitto, victim)
    try:
        deadline = int((env.clock() + 10) * 1000)
        hijack = RpcRequest.new("certificate.begin", {}, deadline)
        raw.send(device, hijack, down(victim, Down.RPC), hijack.req_id.encode())
        swapped = RpcRequest.new("certificate.begin", {}, deadline)
        raw.send(device, swapped, down(device, Down.RPC), str(uuid.uuid4()).encode())
        late = RpcRequest.new("certificate.begin", {}, int((env.clock() - 1) * 1000))
        raw.send(device, late, down(device, Down.RPC), late.req_id.encode())
        good = RpcRequest.new("certificate.begin", {}, deadline)
        raw.send(device, good, down(device, Down.RPC), good.req_id.encode())
        end = time.monotonic() + 5
        while not raw.answers and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(0.3)
        assert [RpcResponse.from_bytes(bytes(m.payload)).req_id for m in raw.answers] == [good.req_id]
        assert getattr(raw.answers[0].properties, "CorrelationData", None) == good.req_id.encode()
        assert watcher.answers == []
        assert len(env.store.sessions_of(device)) == 1
        assert server.dropped >= 3
    finally:
        raw.close()
        watcher.close()


def test_retry_with_same_request_id_has_one_side_effect(
    issuance_server: tuple[IssuanceEnv, RpcServer], mosquitto: MosquittoBroker
) -> None:
    """GIVEN the same begin request sent three times WHEN answered THEN one session exists and all answers agree."""
    env, _ = issuance_server
    device = "jp-999999-k29"
    raw = _RawKiosk(mosquitto, device)
    try:
        request = RpcRequest.new("certificate.begin", {}, int((env.clock() + 10) * 1000))
        for _ in range(3):
            raw.send(device, request, down(device, Down.RPC), request.req_id.encode())
            time.sleep(0.15)
        end = time.monotonic() + 5
        while len(raw.answers) < 2 and time.monotonic() < end:
            time.sleep(0.02)
        results = {RpcResponse.from_bytes(bytes(m.payload)).model_dump_json() for m in raw.answers}
        assert len(results) == 1
        assert len(env.store.sessions_of(device)) == 1
    finally:
        raw.close()


def test_client_drops_answer_with_swapped_correlation(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a waiting call WHEN an answer arrives whose CorrelationData belongs to another request THEN it is dropped."""
    kiosk = issuance_kiosk("jp-999999-k30")
    rpc = kiosk.rpc
    pending_id = str(uuid.uuid4())
    forged = mqtt.MQTTMessage(topic=rpc.response_topic.encode())
    forged.payload = RpcResponse(req_id=str(uuid.uuid4()), ok=True, result={"x": 1}).to_bytes()
    forged.properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    forged.properties.CorrelationData = pending_id.encode()
    assert rpc.handle(forged) is False
    assert rpc.dropped == 1
    session = kiosk.begin()  # the client still works
    assert session.session_id


def test_document_of_another_session_is_never_printed(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a document issued for kiosk A's session WHEN kiosk B is handed it THEN B rejects it before printing."""
    env, _ = issuance_server
    kiosk_a, kiosk_b = issuance_kiosk("jp-999999-k31"), issuance_kiosk("jp-999999-k32")
    session_a = _authenticated(env, kiosk_a)
    session_b = _authenticated(env, kiosk_b, ANOTHER)
    total = kiosk_a.prepare(session_a, "juminhyo").total_yen
    params = {
        "session_id": session_a.session_id,
        "type_id": "juminhyo",
        "payment_ref": "P-9",
        "amount_yen": total,
    }
    result_a = IssueResult.model_validate(kiosk_a.rpc.call("certificate.issue", params))
    pdf = b64d(result_a.pdf, "pdf")
    kiosk_a.check_binding(session_a, result_a, pdf)  # genuine for A
    with pytest.raises(DocumentRejected, match="session"):
        kiosk_b.check_binding(session_b, result_a, pdf)
    with pytest.raises(DocumentRejected, match="document bytes"):
        kiosk_a.check_binding(session_a, result_a, pdf + b"%tampered")
    forged = result_a.model_copy(update={"pdf": b64e(b"x")})
    with pytest.raises(DocumentRejected):
        kiosk_a.check_binding(session_a, forged, b"x")


def test_client_retries_same_request_until_service_answers(
    issuance_env: IssuanceEnv, mosquitto: MosquittoBroker
) -> None:
    """GIVEN a kiosk calling while the service is not yet subscribed WHEN the service comes up within the deadline
    THEN the call succeeds through the retries and exactly one session exists."""
    from central_broker.issuance.endpoints import issuance_handlers
    from kiosk_app.rpc_client import RpcClient

    device = "jp-999999-k33"
    rpc = RpcClient.connect(device, BrokerConfig(url=mosquitto.url), clock=issuance_env.clock, retry_s=0.5)
    server = RpcServer(
        BrokerConfig(url=mosquitto.url), issuance_handlers(issuance_env.service), clock=issuance_env.clock
    )
    try:
        starter = threading.Timer(1.2, server.start)
        starter.start()
        result = rpc.call("certificate.begin", {}, timeout_s=10)
        starter.join()
        assert result["session_id"]
        time.sleep(0.6)  # a retry still in flight is answered from the dedupe cache, not run again
        assert len(issuance_env.store.sessions_of(device)) == 1
    finally:
        rpc.close()
        server.stop()


def _issue_params(session: KioskSession, total: int, payment_ref: str) -> dict[str, object]:
    return {
        "session_id": session.session_id,
        "type_id": "juminhyo",
        "choices": {},
        "copies": 1,
        "payment_ref": payment_ref,
        "amount_yen": total,
    }


def test_req_id_reused_for_another_session_gets_that_sessions_document(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a kiosk that issued resident A's document under req_id X WHEN resident B's session (same kiosk,
    later) sends its issue request under the same req_id X THEN B gets a document bound to B's session, never
    A's cached answer."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k34")
    req_id = str(uuid.uuid4())
    session_a = _authenticated(env, kiosk)
    params_a = _issue_params(session_a, kiosk.prepare(session_a, "juminhyo").total_yen, "P-A")
    result_a = IssueResult.model_validate(kiosk.rpc.call("certificate.issue", params_a, req_id=req_id))
    kiosk.confirm(session_a, result_a.binding.serial, ConfirmOutcome.PRINTED)

    session_b = _authenticated(env, kiosk, ANOTHER)
    params_b = _issue_params(session_b, kiosk.prepare(session_b, "juminhyo").total_yen, "P-B")
    result_b = IssueResult.model_validate(kiosk.rpc.call("certificate.issue", params_b, req_id=req_id))

    assert result_b.binding.session_id == session_b.session_id
    assert result_b.binding.serial != result_a.binding.serial
    kiosk.check_binding(session_b, result_b, b64d(result_b.pdf, "pdf"))


def test_exact_replay_after_printed_never_resends_the_document(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a document issued and confirmed printed WHEN the very same issue request (same req_id and
    parameters, within its deadline) is replayed THEN the answer carries no PDF: the session is printed."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k35")
    req_id = str(uuid.uuid4())
    session = _authenticated(env, kiosk)
    params = _issue_params(session, kiosk.prepare(session, "juminhyo").total_yen, "P-R")
    first = IssueResult.model_validate(kiosk.rpc.call("certificate.issue", params, req_id=req_id))
    assert first.pdf
    again = IssueResult.model_validate(kiosk.rpc.call("certificate.issue", params, req_id=req_id))
    assert again.binding.serial == first.binding.serial  # a lost answer: the same document again
    kiosk.confirm(session, first.binding.serial, ConfirmOutcome.PRINTED)

    with pytest.raises(RpcCallError) as caught:
        kiosk.rpc.call("certificate.issue", params, req_id=req_id)
    assert caught.value.code is RpcErrorCode.CONFLICT
    assert "printed" in caught.value.message


def test_exact_replay_after_void_never_resends_the_document(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a document voided by the kiosk WHEN its issue request is replayed THEN no PDF is sent again."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k36")
    req_id = str(uuid.uuid4())
    session = _authenticated(env, kiosk)
    params = _issue_params(session, kiosk.prepare(session, "juminhyo").total_yen, "P-V")
    first = IssueResult.model_validate(kiosk.rpc.call("certificate.issue", params, req_id=req_id))
    kiosk.confirm(session, first.binding.serial, ConfirmOutcome.VOID)

    with pytest.raises(RpcCallError) as caught:
        kiosk.rpc.call("certificate.issue", params, req_id=req_id)
    assert caught.value.code is RpcErrorCode.CONFLICT
    assert "void" in caught.value.message
