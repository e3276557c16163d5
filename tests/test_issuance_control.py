"""Operator controls over MQTT: the kill switch (signed, retained `fleet/control`) and the minimum kiosk version."""

from __future__ import annotations

import dataclasses
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.broker import MosquittoBroker
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from kiosk_app.rpc_client import RpcCallError
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.rpc import RpcErrorCode
from madoguchi.contracts.signed import ControlDocument, FunctionControl, PayloadType, sign
from madoguchi.contracts.topics import FLEET_CONTROL
from madoguchi.mqtt_client import make_client
from tests.fixtures.issuance import IssuanceEnv, KioskFactory, emulated_card
from tests.fixtures.mosquitto import mqtt_publish

ADULT = persona_by_name("valid-adult")


def _publish_control(
    broker: MosquittoBroker, env: IssuanceEnv, document: ControlDocument, key: Ed25519PrivateKey | None = None
) -> None:
    envelope = sign(PayloadType.CONTROL, document.to_bytes(), key or env.control_key)
    mqtt_publish(broker, FLEET_CONTROL, envelope.to_bytes(), retain=True)


@pytest.mark.mosquitto
def test_kill_switch_stops_issuance_within_seconds(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory, mosquitto: MosquittoBroker
) -> None:
    """GIVEN a kiosk in the middle of a session WHEN the operator suspends its city THEN within seconds options are
    refused with the operator's message, issue is refused, other cities go on; a forged document changes nothing,
    and lifting the switch restores service."""
    env, _ = issuance_server
    kiosk, other = issuance_kiosk("jp-999999-k51"), issuance_kiosk("jp-131016-k01")
    session = kiosk.begin()
    with emulated_card(env.ca, ADULT) as card:
        kiosk.authenticate(session, card, Pin.from_digits("1234"))
    try:
        stop = FunctionControl(suspended_municipalities=["999999"], message={"ja": "点検のため停止中です"})
        _publish_control(mosquitto, env, ControlDocument(version=1, ts=0, issuance=stop))
        end = time.monotonic() + 5
        while kiosk.options(session).offers and time.monotonic() < end:
            time.sleep(0.1)
        options = kiosk.options(session)
        assert options.offers == []
        assert {r.kind for r in options.refused} == {"kill_switch"}
        assert "点検のため停止中です" in options.refused[0].reason
        with pytest.raises(RpcCallError) as caught:
            kiosk.issue(session, "juminhyo", payment_ref="PAY-K")
        assert caught.value.code is RpcErrorCode.PERMISSION_DENIED
        with pytest.raises(RpcCallError) as unavailable:
            kiosk.begin()
        assert unavailable.value.code is RpcErrorCode.UNAVAILABLE
        assert other.begin().session_id  # another city is not affected

        forged = ControlDocument(version=5, ts=0)
        _publish_control(mosquitto, env, forged, key=Ed25519PrivateKey.generate())
        time.sleep(0.5)
        with pytest.raises(RpcCallError):
            kiosk.begin()

        _publish_control(mosquitto, env, ControlDocument(version=2, ts=0))
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                session = kiosk.begin()
                break
            except RpcCallError:
                time.sleep(0.1)
        assert session.session_id
    finally:
        _clear_retained(mosquitto, FLEET_CONTROL)


def _clear_retained(broker: MosquittoBroker, topic: str) -> None:
    client = make_client("clear-retained", BrokerConfig(url=broker.url))
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.mark.mosquitto
def test_kiosk_below_minimum_version_cannot_begin(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a minimum kiosk version 2.1 WHEN a 2.0.9 kiosk begins THEN it is refused until updated; 2.10 may begin."""
    env, _ = issuance_server
    settings = dataclasses.replace(env.service.settings, min_app_version="2.1")
    env.service.settings = settings
    old = issuance_kiosk("jp-999999-k52")
    old.app_version = "2.0.9"
    with pytest.raises(RpcCallError) as caught:
        old.begin()
    assert caught.value.code is RpcErrorCode.UNAVAILABLE
    assert "update" in caught.value.message
    new = issuance_kiosk("jp-999999-k53")
    new.app_version = "2.10.0"
    assert new.begin().session_id
